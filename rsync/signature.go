package rsync

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"slices"

	"github.com/zeebo/xxh3"
)

// Signature is a parsed signature (rsync.md §4): the block size and a lookup
// table from weak checksum to the blocks that have it, kept in signature
// order. It is read-only once built and may be shared by several Differs,
// including concurrently.
type Signature struct {
	blockSize int

	// Entries sorted by (weak, strong, position in the signature), so that
	// among the entries sharing a weak checksum, the first one in
	// signature order with a given strong checksum is found by binary
	// search even when a hostile peer sends millions of them.
	weaks   []uint32
	strongs []uint64
	indices []uint64

	// filter is a bitset indexed by the top bits of mix(weak). A clear bit
	// proves that no entry has that weak checksum.
	filter      []uint64
	filterShift uint32

	// slots is an open-addressing table (linear probing) from a weak
	// checksum to its run of entries.
	slots     []slot
	slotShift uint32
}

// slot maps weak to the entries [start, end); end == 0 marks an empty slot.
type slot struct{ weak, start, end uint32 }

// BlockSize returns the block size carried in the signature header.
func (s *Signature) BlockSize() int { return s.blockSize }

// Len returns the number of block entries.
func (s *Signature) Len() int { return len(s.weaks) }

// mix scrambles a weak checksum for the filter and the slot table.
func mix(weak uint32) uint32 { return weak * 0x9e3779b1 }

// newSignature builds the lookup structures from entries in signature order.
func newSignature(bs int, weaks []uint32, strongs, indices []uint64) *Signature {
	n := len(weaks)
	s := &Signature{blockSize: bs}

	order := make([]uint32, n)
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(i, j uint32) int {
		if c := cmp.Compare(weaks[i], weaks[j]); c != 0 {
			return c
		}
		if c := cmp.Compare(strongs[i], strongs[j]); c != 0 {
			return c
		}
		return cmp.Compare(i, j)
	})
	s.weaks = make([]uint32, n)
	s.strongs = make([]uint64, n)
	s.indices = make([]uint64, n)
	for i, j := range order {
		s.weaks[i], s.strongs[i], s.indices[i] = weaks[j], strongs[j], indices[j]
	}

	// 64 to 128 filter bits per entry keep false hits under 1.6%; measured
	// faster than 32 to 64 despite the larger bitset.
	fb := max(10, min(28, bits.Len(uint(n)*64)))
	s.filter = make([]uint64, 1<<fb/64)
	s.filterShift = uint32(32 - fb)
	// At most half full.
	sb := max(4, bits.Len(uint(n)*2))
	s.slots = make([]slot, 1<<sb)
	s.slotShift = uint32(32 - sb)
	mask := uint32(len(s.slots) - 1)
	for start := 0; start < n; {
		w := s.weaks[start]
		end := start + 1
		for end < n && s.weaks[end] == w {
			end++
		}
		h := mix(w)
		f := h >> s.filterShift
		s.filter[f/64] |= 1 << (f % 64)
		p := h >> s.slotShift
		for s.slots[p].end != 0 {
			p = (p + 1) & mask
		}
		s.slots[p] = slot{weak: w, start: uint32(start), end: uint32(end)}
		start = end
	}
	return s
}

// find returns the block index of the first entry, in signature order, whose
// weak checksum is weak and whose strong checksum is XXH3-64 of window.
func (s *Signature) find(weak uint32, window []byte) (uint64, bool) {
	mask := uint32(len(s.slots) - 1)
	for p := mix(weak) >> s.slotShift; ; p = (p + 1) & mask {
		sl := s.slots[p]
		if sl.end == 0 {
			return 0, false
		}
		if sl.weak != weak {
			continue
		}
		strong := xxh3.Hash(window)
		strongs := s.strongs[sl.start:sl.end]
		i, ok := slices.BinarySearch(strongs, strong)
		if !ok {
			return 0, false
		}
		return s.indices[int(sl.start)+i], true
	}
}

// SignatureDecoder parses a signature received in pieces split at arbitrary
// points. Write it the bytes, then call Finish. Errors are sticky: once Write
// or Finish has failed, every later call returns the same error.
// The zero value is ready to use.
type SignatureDecoder struct {
	off     int64 // bytes consumed so far
	header  [headerSize]byte
	entry   [entrySize]byte
	partial int // bytes held in header (before it is complete) or entry
	bs      int // 0 until the header is complete

	weaks   []uint32
	strongs []uint64
	indices []uint64

	maxEntries int // 0 means MaxSignatureEntries; lowered by tests

	sig *Signature
	err error
}

// Write consumes signature bytes. It fails on a bad header (version or hash
// types not 0, block size 0 or above MaxBlockSize), on more than
// MaxSignatureEntries entries, and after Finish. It never retains p.
func (d *SignatureDecoder) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.sig != nil {
		return 0, ErrClosed
	}
	total := len(p)
	// Header.
	if d.bs == 0 {
		n := copy(d.header[d.partial:], p)
		d.partial += n
		d.off += int64(n)
		p = p[n:]
		if d.partial < headerSize {
			return total, nil
		}
		d.partial = 0
		if err := d.parseHeader(); err != nil {
			d.err = err
			return 0, err
		}
	}
	// Leading fringe: complete a partial entry.
	if d.partial > 0 {
		n := copy(d.entry[d.partial:], p)
		d.partial += n
		p = p[n:]
		if d.partial < entrySize {
			d.off += int64(n)
			return total, nil
		}
		d.partial = 0
		if err := d.addEntry(d.entry[:]); err != nil {
			return 0, err
		}
		d.off += int64(n)
	}
	// Whole entries.
	for len(p) >= entrySize {
		if err := d.addEntry(p[:entrySize]); err != nil {
			return 0, err
		}
		p = p[entrySize:]
		d.off += entrySize
	}
	// Trailing fringe.
	d.partial = copy(d.entry[:], p)
	d.off += int64(d.partial)
	return total, nil
}

func (d *SignatureDecoder) parseHeader() error {
	h := d.header[:]
	for i, name := range []string{"version", "checksum type", "strong hash type", "weak hash type"} {
		if v := binary.LittleEndian.Uint16(h[2*i:]); v != 0 {
			return &CorruptError{Input: "signature", Offset: int64(2 * i), Reason: fmt.Sprintf("unsupported %s %d", name, v)}
		}
	}
	bs := binary.LittleEndian.Uint32(h[8:])
	if err := checkBlockSize(int64(bs)); err != nil {
		return err
	}
	d.bs = int(bs)
	return nil
}

func (d *SignatureDecoder) addEntry(e []byte) error {
	limit := MaxSignatureEntries
	if d.maxEntries > 0 {
		limit = d.maxEntries
	}
	if len(d.weaks) >= limit {
		d.err = fmt.Errorf("%w: more than %d", ErrTooManyEntries, limit)
		return d.err
	}
	d.indices = append(d.indices, binary.LittleEndian.Uint64(e))
	d.weaks = append(d.weaks, binary.LittleEndian.Uint32(e[8:]))
	d.strongs = append(d.strongs, binary.LittleEndian.Uint64(e[12:]))
	return nil
}

// Finish ends the signature and returns it. It fails if the header is
// incomplete or if bytes that do not form a whole entry are left over.
// Calling Finish again returns the same result.
func (d *SignatureDecoder) Finish() (*Signature, error) {
	if d.err != nil {
		return nil, d.err
	}
	if d.sig != nil {
		return d.sig, nil
	}
	switch {
	case d.bs == 0:
		d.err = fmt.Errorf("%w: signature header has %d of %d bytes", ErrTruncated, d.partial, headerSize)
		return nil, d.err
	case d.partial != 0:
		d.err = fmt.Errorf("%w: %d bytes of unused signature data", ErrTruncated, d.partial)
		return nil, d.err
	}
	d.sig = newSignature(d.bs, d.weaks, d.strongs, d.indices)
	d.weaks, d.strongs, d.indices = nil, nil, nil
	return d.sig, nil
}

// ParseSignature parses a whole signature held in memory.
func ParseSignature(b []byte) (*Signature, error) {
	var d SignatureDecoder
	if _, err := d.Write(b); err != nil {
		return nil, err
	}
	return d.Finish()
}

// NewSignatureReader returns an io.Reader producing the signature
// (12-byte header + 20-byte entries, rsync.md §4) of old, using block size
// blockSize (see [BlockSize]). Memory stays bounded whatever the size of
// old. Read returns an error wrapping ErrBlockSize if blockSize is invalid,
// and wraps any error from old other than io.EOF; errors are sticky.
func NewSignatureReader(old io.Reader, blockSize int) io.Reader {
	s := &sigReader{r: old, bs: blockSize}
	if err := checkBlockSize(int64(blockSize)); err != nil {
		s.err = err
		return s
	}
	blocks := min(max(64<<10/blockSize, 1), 4096)
	s.in = make([]byte, blocks*blockSize)
	s.out = make([]byte, headerSize, blocks*entrySize+headerSize)
	binary.LittleEndian.PutUint32(s.out[8:], uint32(blockSize))
	return s
}

type sigReader struct {
	r     io.Reader
	bs    int
	in    []byte // chunk of old, a whole number of blocks
	out   []byte // encoded, undelivered bytes are out[pos:]
	pos   int
	index uint64 // next block index
	eof   bool
	err   error
}

func (s *sigReader) Read(p []byte) (int, error) {
	for s.pos == len(s.out) {
		if s.err != nil {
			return 0, s.err
		}
		if s.eof {
			return 0, io.EOF
		}
		s.fill()
	}
	n := copy(p, s.out[s.pos:])
	s.pos += n
	return n, nil
}

// fill reads the next chunk of old and encodes its entries.
func (s *sigReader) fill() {
	n, err := io.ReadFull(s.r, s.in)
	switch err {
	case nil:
	case io.EOF, io.ErrUnexpectedEOF:
		s.eof = true
	default:
		// A partial chunk is not the end of old: encode none of it.
		s.err = fmt.Errorf("rsync: reading old file: %w", err)
		return
	}
	s.out, s.pos = s.out[:0], 0
	for b := s.in[:n]; len(b) > 0; {
		blk := b[:min(s.bs, len(b))]
		b = b[len(blk):]
		weak, _, _ := weakSum(blk)
		s.out = binary.LittleEndian.AppendUint64(s.out, s.index)
		s.out = binary.LittleEndian.AppendUint32(s.out, weak)
		s.out = binary.LittleEndian.AppendUint64(s.out, xxh3.Hash(blk))
		s.index++
	}
}
