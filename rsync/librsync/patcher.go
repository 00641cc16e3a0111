package librsync

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/xferterm/xferterm/internal/deltaio"
)

// copyBufSize is the size of the buffer the Patcher copies basis ranges with.
const copyBufSize = 64 << 10

// Patcher applies a delta to a basis and writes the new file to an io.Writer. Delta bytes
// may be written split at any point: an incomplete command header (at most 17 bytes) is
// held until the rest arrives, and literal data is passed through as it comes, never
// buffered whole.
//
// A COPY must lie within the basis; a reserved command, or anything after END, is an
// error. Close reports a delta that ends inside a command or without END. A delta carries
// no checksum of the result, so a delta that passes is complete, not proven right.
//
// Errors are sticky: after the first, every Write and Close returns it. The output is not
// trustworthy until Close has returned nil. A Patcher must not be used by several
// goroutines at once.
type Patcher struct {
	basis     io.ReaderAt
	basisSize int64
	out       io.Writer
	written   int64

	off     int64    // delta bytes consumed
	magic   [4]byte  // the delta magic, magic[:nmagic] received
	nmagic  int      //
	hdr     [17]byte // the current command's header, hdr[:nhdr] received
	nhdr    int      //
	litLeft uint64   // bytes of the current LITERAL not yet received
	ended   bool     // END has been received
	copyBuf []byte

	closed bool
	err    error
}

// NewPatcher returns a Patcher that copies from basis, which holds basisSize bytes, and
// writes the new file to out. Neither is closed by the Patcher.
func NewPatcher(basis io.ReaderAt, basisSize int64, out io.Writer) *Patcher {
	p := &Patcher{basis: basis, basisSize: basisSize, out: out}
	if basisSize < 0 {
		p.err = fmt.Errorf("librsync: negative basis size %d", basisSize)
	}
	return p
}

// Written returns the number of bytes of the new file written so far.
func (p *Patcher) Written() int64 { return p.written }

// headerLen returns the size of the header of command c (the command byte included), or 0
// for a reserved command.
func headerLen(c byte) int {
	switch {
	case c <= opLiteralMax:
		return 1
	case c < opCopyN1N1:
		return 1 + widthBytes[c-opLiteralN1]
	case c <= opCopyN8N8:
		k := c - opCopyN1N1
		return 1 + widthBytes[k/4] + widthBytes[k%4]
	}
	return 0
}

// Write consumes delta bytes. It returns the number of bytes consumed and the first error
// met.
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
		case p.nmagic < len(p.magic):
			n := copy(p.magic[p.nmagic:], b)
			p.nmagic += n
			p.off += int64(n)
			b = b[n:]
			if p.nmagic == len(p.magic) {
				if m := binary.BigEndian.Uint32(p.magic[:]); m != DeltaMagic {
					return total - len(b), p.corrupt(0, fmt.Sprintf("magic %#x is not a delta's", m))
				}
			}
		case p.litLeft > 0:
			n := int(min(uint64(len(b)), p.litLeft))
			if err := p.emit(b[:n]); err != nil {
				return total - len(b), err
			}
			p.litLeft -= uint64(n)
			p.off += int64(n)
			b = b[n:]
		case p.ended:
			return total - len(b), p.corrupt(p.off, "data after the END command")
		default:
			if p.nhdr == 0 && headerLen(b[0]) == 0 {
				return total - len(b), p.corrupt(p.off, fmt.Sprintf("reserved command %#x", b[0]))
			}
			size := headerLen(p.hdrByte(b))
			n := copy(p.hdr[p.nhdr:size], b)
			p.nhdr += n
			p.off += int64(n)
			b = b[n:]
			if p.nhdr == size {
				p.nhdr = 0
				if err := p.command(size); err != nil {
					return total - len(b), err
				}
			}
		}
	}
	return total, nil
}

// hdrByte returns the command byte of the header being received.
func (p *Patcher) hdrByte(b []byte) byte {
	if p.nhdr > 0 {
		return p.hdr[0]
	}
	return b[0]
}

// command executes the command whose complete header is hdr[:size].
func (p *Patcher) command(size int) error {
	h := p.hdr[:size]
	at := p.off - int64(size)
	switch c := h[0]; {
	case c == opEnd:
		p.ended = true
	case c <= opLiteralMax:
		p.litLeft = uint64(c)
	case c < opCopyN1N1:
		p.litLeft = getInt(h[1:])
	default:
		k := c - opCopyN1N1
		wo := widthBytes[k/4]
		start, n := getInt(h[1:1+wo]), getInt(h[1+wo:])
		if start > uint64(p.basisSize) || n > uint64(p.basisSize)-start {
			return p.corrupt(at, fmt.Sprintf("copy of %d bytes at %d beyond the basis's %d bytes", n, start, p.basisSize))
		}
		return p.copyRange(int64(start), int64(n))
	}
	return nil
}

// copyRange copies n bytes of the basis from off to the output.
func (p *Patcher) copyRange(off, n int64) error {
	if p.copyBuf == nil && n > 0 {
		p.copyBuf = make([]byte, min(copyBufSize, max(p.basisSize, 1)))
	}
	if err := deltaio.CopyAt(p.basis, off, n, p.copyBuf, p.emit); err != nil && p.err == nil {
		p.err = fmt.Errorf("librsync: reading basis %w", err)
	}
	return p.err
}

// emit writes b to the output.
func (p *Patcher) emit(b []byte) error {
	n, err := p.out.Write(b)
	p.written += int64(n)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		p.err = fmt.Errorf("librsync: writing new file: %w", err)
	}
	return p.err
}

func (p *Patcher) corrupt(off int64, reason string) error {
	p.err = &CorruptError{Input: "delta", Offset: off, Reason: reason}
	return p.err
}

// Close ends the delta. It fails if the delta ended inside its magic or a command, or
// without END, or if an earlier call failed. Calling Close again returns the same result.
func (p *Patcher) Close() error {
	if p.closed || p.err != nil {
		p.closed = true
		return p.err
	}
	p.closed = true
	switch {
	case p.nmagic < len(p.magic) || p.nhdr > 0 || p.litLeft > 0:
		p.err = fmt.Errorf("%w: delta ends inside a command at byte %d", ErrTruncated, p.off)
	case !p.ended:
		p.err = ErrMissingEnd
	}
	return p.err
}
