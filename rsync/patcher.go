package rsync

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/zeebo/xxh3"

	"github.com/xferterm/xferterm/internal/deltaio"
)

// copyBufSize is the size of the buffer the Patcher copies old blocks with.
const copyBufSize = 64 << 10

// Patcher applies a delta (rsync.md §5, §7) to an old file and writes the new
// file to an io.Writer. Delta bytes may be written split at any point; an
// incomplete operation header (at most 13 bytes) is held until the rest
// arrives, and the bytes of a Data operation are passed through as they
// come, never buffered whole.
//
// Block and BlockRange operations copy from the old file; a block index
// beyond its end is an error. The Hash operation is verified against the
// XXH3-128 of everything written; any operation after it is an error. Close
// reports a delta that ends inside an operation or without its Hash.
//
// Errors are sticky: after the first, every Write and Close returns it. The
// output is not trustworthy until Close has returned nil. A Patcher must not
// be used by several goroutines at once.
type Patcher struct {
	old     io.ReaderAt
	oldSize int64
	bs      int64
	nblocks uint64 // blocks in old, the last maybe short
	out     io.Writer
	sum     xxh3.Hasher // XXH3-128 of the output
	written int64       // bytes written to out

	off      int64    // delta bytes consumed
	hdr      [13]byte // header of the current op, hdr[:nhdr] received
	nhdr     int
	dataLeft uint32 // bytes of the current Data op not yet received
	inHash   bool   // receiving the checksum bytes of the Hash op
	want     [checksumSize]byte
	nwant    int
	gotSum   bool // the Hash op has been verified
	copyBuf  []byte

	closed bool
	err    error
}

// NewPatcher returns a Patcher that reads blocks of blockSize bytes from old,
// which holds oldSize bytes, and writes the new file to out. Write fails at
// once if blockSize is 0 or above MaxBlockSize or oldSize is negative.
// Neither old nor out is closed by the Patcher.
func NewPatcher(old io.ReaderAt, oldSize int64, blockSize int, out io.Writer) *Patcher {
	p := &Patcher{old: old, oldSize: oldSize, bs: int64(blockSize), out: out}
	p.sum.Reset()
	switch {
	case checkBlockSize(int64(blockSize)) != nil:
		p.err = checkBlockSize(int64(blockSize))
	case oldSize < 0:
		p.err = fmt.Errorf("rsync: negative old file size %d", oldSize)
	default:
		p.nblocks = uint64((oldSize + p.bs - 1) / p.bs)
	}
	return p
}

// Written returns the number of bytes of the new file written so far.
func (p *Patcher) Written() int64 { return p.written }

// opHeaderSize returns the size of the header of an op of type t (type byte
// included), or 0 for an unknown type.
func opHeaderSize(t byte) int {
	switch t {
	case opBlock:
		return 9
	case opData:
		return 5
	case opHash:
		return 3
	case opBlockRange:
		return 13
	}
	return 0
}

// Write consumes delta bytes. It returns the number of bytes consumed and
// the first error met.
func (p *Patcher) Write(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	if p.closed {
		return 0, ErrClosed
	}
	total := len(b)
	for len(b) > 0 {
		switch {
		case p.dataLeft > 0:
			// Body of a Data op: pass it through.
			n := int(min(uint64(len(b)), uint64(p.dataLeft)))
			if err := p.emit(b[:n]); err != nil {
				return total - len(b), err
			}
			p.dataLeft -= uint32(n)
			p.off += int64(n)
			b = b[n:]
		case p.inHash:
			// Body of the Hash op.
			n := copy(p.want[p.nwant:], b)
			p.nwant += n
			p.off += int64(n)
			b = b[n:]
			if p.nwant == checksumSize {
				p.inHash = false
				if err := p.verify(); err != nil {
					return total - len(b), err
				}
			}
		default:
			// Header of the next op, perhaps continued from the last Write.
			typ := p.hdr[0]
			if p.nhdr == 0 {
				typ = b[0]
				if p.gotSum {
					return total - len(b), p.corrupt(p.off, "operation after the checksum")
				}
				if opHeaderSize(typ) == 0 {
					return total - len(b), p.corrupt(p.off, fmt.Sprintf("unknown operation type %d", typ))
				}
			}
			size := opHeaderSize(typ)
			n := copy(p.hdr[p.nhdr:size], b)
			p.nhdr += n
			p.off += int64(n)
			b = b[n:]
			if p.nhdr == size {
				p.nhdr = 0
				if err := p.op(size); err != nil {
					return total - len(b), err
				}
			}
		}
	}
	return total, nil
}

// op executes the op whose complete header is hdr[:size].
func (p *Patcher) op(size int) error {
	h := p.hdr[:size]
	start := p.off - int64(size) // offset of the op in the delta
	switch h[0] {
	case opBlock:
		return p.copyBlocks(start, binary.LittleEndian.Uint64(h[1:]), 0)
	case opBlockRange:
		return p.copyBlocks(start, binary.LittleEndian.Uint64(h[1:]), binary.LittleEndian.Uint32(h[9:]))
	case opData:
		p.dataLeft = binary.LittleEndian.Uint32(h[1:])
	case opHash:
		if n := binary.LittleEndian.Uint16(h[1:]); n != checksumSize {
			return p.corrupt(start+1, fmt.Sprintf("checksum length %d, want %d", n, checksumSize))
		}
		p.inHash, p.nwant = true, 0
	}
	return nil
}

// copyBlocks copies blocks first..first+extra of the old file to the output.
func (p *Patcher) copyBlocks(at int64, first uint64, extra uint32) error {
	if first >= p.nblocks || uint64(extra) >= p.nblocks-first {
		return p.corrupt(at, fmt.Sprintf("blocks %d..%d beyond the old file's %d blocks",
			first, first+uint64(extra), p.nblocks))
	}
	if p.copyBuf == nil {
		p.copyBuf = make([]byte, min(copyBufSize, p.bs*int64(p.nblocks)))
	}
	// Validated above: the range lies within the old file, so no overflow.
	off := int64(first) * p.bs
	end := min(off+(int64(extra)+1)*p.bs, p.oldSize)
	if err := deltaio.CopyAt(p.old, off, end-off, p.copyBuf, p.emit); err != nil && p.err == nil {
		p.err = fmt.Errorf("rsync: reading old file %w", err)
	}
	return p.err
}

// emit writes b to the output and the checksum.
func (p *Patcher) emit(b []byte) error {
	n, err := p.out.Write(b)
	p.written += int64(n)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		p.err = fmt.Errorf("rsync: writing new file: %w", err)
		return p.err
	}
	_, _ = p.sum.Write(b) // Never fails.
	return nil
}

// verify compares the received checksum with the output's.
func (p *Patcher) verify() error {
	got := p.sum.Sum128().Bytes()
	if !bytes.Equal(got[:], p.want[:]) {
		p.err = fmt.Errorf("%w: output has %x, delta says %x", ErrChecksumMismatch, got, p.want)
		return p.err
	}
	p.gotSum = true
	return nil
}

func (p *Patcher) corrupt(off int64, reason string) error {
	p.err = &CorruptError{Input: "delta", Offset: off, Reason: reason}
	return p.err
}

// Close ends the delta. It fails if the delta ended inside an operation or
// without the Hash operation, or if an earlier call failed. Calling Close
// again returns the same result.
func (p *Patcher) Close() error {
	if p.closed || p.err != nil {
		p.closed = true
		return p.err
	}
	p.closed = true
	switch {
	case p.nhdr > 0 || p.dataLeft > 0 || p.inHash:
		p.err = fmt.Errorf("%w: delta ends inside an operation at byte %d", ErrTruncated, p.off)
	case !p.gotSum:
		p.err = ErrMissingChecksum
	}
	return p.err
}
