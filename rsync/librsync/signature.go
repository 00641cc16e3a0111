package librsync

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"slices"
)

// Signature is a parsed signature: its parameters and a lookup table from weak checksum to
// the blocks that have it. It is read-only once built and may be shared by several
// Differs, including concurrently.
type Signature struct {
	p Params

	// Entries sorted by (weak, strong sum, block index): the blocks sharing a weak
	// checksum form a run, and within it the one with a given strong sum is found by
	// binary search even when a hostile peer sends millions of equal weak sums.
	weaks   []uint32
	strongs []byte // StrongLen bytes per entry
	indices []uint32

	// filter is a bitset indexed by the top bits of mix(weak): a clear bit proves that
	// no entry has that weak checksum, which keeps the lookup out of the per-byte loop.
	filter      []uint64
	filterShift uint32
}

// Params returns the parameters carried in the signature's header.
func (s *Signature) Params() Params { return s.p }

// Len returns the number of block entries.
func (s *Signature) Len() int { return len(s.weaks) }

// mix scrambles a weak checksum for the filter.
func mix(weak uint32) uint32 { return weak * 0x9e3779b1 }

func newSignature(p Params, weaks []uint32, strongs []byte) *Signature {
	n := len(weaks)
	sl := p.StrongLen
	strong := func(i uint32) []byte { return strongs[int(i)*sl : int(i+1)*sl] }
	order := make([]uint32, n)
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(i, j uint32) int {
		if c := cmp.Compare(weaks[i], weaks[j]); c != 0 {
			return c
		}
		if c := bytes.Compare(strong(i), strong(j)); c != 0 {
			return c
		}
		return cmp.Compare(i, j)
	})
	s := &Signature{p: p, weaks: make([]uint32, n), strongs: make([]byte, 0, n*sl), indices: order}
	for k, i := range order {
		s.weaks[k] = weaks[i]
		s.strongs = append(s.strongs, strong(i)...)
	}
	fb := max(10, min(28, bits.Len(uint(n)*64))) // 64 to 128 filter bits per entry
	s.filter = make([]uint64, 1<<fb/64)
	s.filterShift = uint32(32 - fb)
	for _, w := range s.weaks {
		f := mix(w) >> s.filterShift
		s.filter[f/64] |= 1 << (f % 64)
	}
	return s
}

// find returns the index of a block whose weak checksum is weak and whose strong sum is
// that of window (the first in signature order among equals).
func (s *Signature) find(weak uint32, window []byte) (uint32, bool) {
	lo, ok := slices.BinarySearch(s.weaks, weak)
	if !ok {
		return 0, false
	}
	hi := lo + 1
	for hi < len(s.weaks) && s.weaks[hi] == weak && hi-lo < 8 {
		hi++
	}
	if hi-lo == 8 { // A long run: find its end by search.
		hi, _ = slices.BinarySearch(s.weaks, weak+1)
		if weak == ^uint32(0) {
			hi = len(s.weaks)
		}
	}
	sum := blake2b256(window)
	want := sum[:s.p.StrongLen]
	sl := s.p.StrongLen
	// The run's strong sums are sorted: binary search by position.
	a, b := lo, hi
	for a < b {
		m := int(uint(a+b) >> 1)
		if bytes.Compare(s.strongs[m*sl:(m+1)*sl], want) < 0 {
			a = m + 1
		} else {
			b = m
		}
	}
	if a < hi && bytes.Equal(s.strongs[a*sl:(a+1)*sl], want) {
		return s.indices[a], true
	}
	return 0, false
}

// SignatureDecoder parses a signature received in pieces split at arbitrary points. Write
// it the bytes, then call Finish. Errors are sticky: once Write or Finish has failed, every
// later call returns the same error. The zero value is ready to use.
type SignatureDecoder struct {
	off     int64 // bytes consumed so far
	header  [headerSize]byte
	entry   [4 + strongLen]byte
	partial int    // bytes held in header (before it is complete) or in entry
	p       Params // BlockLen is 0 until the header is complete

	weaks   []uint32
	strongs []byte

	maxEntries int // 0 means MaxSignatureEntries; lowered by tests

	sig *Signature
	err error
}

// Write consumes signature bytes. It fails on a bad header (an unknown or MD4 magic, a
// block length of 0 or above MaxBlockLen, a strong-sum length outside 1..32), on more than
// MaxSignatureEntries blocks, and after Finish. It never retains b.
func (d *SignatureDecoder) Write(b []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.sig != nil {
		return 0, ErrClosed
	}
	total := len(b)
	if d.p.BlockLen == 0 {
		n := copy(d.header[d.partial:], b)
		d.partial += n
		d.off += int64(n)
		b = b[n:]
		if d.partial < headerSize {
			return total, nil
		}
		d.partial = 0
		h := d.header[:]
		p := Params{
			Magic:     binary.BigEndian.Uint32(h),
			BlockLen:  int(min(binary.BigEndian.Uint32(h[4:]), MaxBlockLen+1)),
			StrongLen: int(min(binary.BigEndian.Uint32(h[8:]), strongLen+1)),
		}
		if err := p.check(); err != nil {
			d.err = &CorruptError{Input: "signature", Offset: 0, Reason: err.Error()}
			return 0, d.err
		}
		d.p = p
	}
	size := 4 + d.p.StrongLen
	for len(b) > 0 {
		n := copy(d.entry[d.partial:size], b)
		d.partial += n
		d.off += int64(n)
		b = b[n:]
		if d.partial < size {
			break
		}
		d.partial = 0
		if err := d.add(d.entry[:size]); err != nil {
			return total - len(b), err
		}
	}
	return total, nil
}

func (d *SignatureDecoder) add(e []byte) error {
	limit := MaxSignatureEntries
	if d.maxEntries > 0 {
		limit = d.maxEntries
	}
	if len(d.weaks) >= limit {
		d.err = fmt.Errorf("%w: more than %d", ErrTooManyEntries, limit)
		return d.err
	}
	d.weaks = append(d.weaks, binary.BigEndian.Uint32(e))
	d.strongs = append(d.strongs, e[4:]...)
	return nil
}

// Finish ends the signature and returns it. It fails if the header is incomplete or if
// bytes that do not form a whole block entry are left over. Calling Finish again returns
// the same result.
func (d *SignatureDecoder) Finish() (*Signature, error) {
	switch {
	case d.err != nil:
		return nil, d.err
	case d.sig != nil:
		return d.sig, nil
	case d.p.BlockLen == 0:
		d.err = fmt.Errorf("%w: signature header has %d of %d bytes", ErrTruncated, d.partial, headerSize)
		return nil, d.err
	case d.partial != 0:
		d.err = fmt.Errorf("%w: %d bytes of unused signature data", ErrTruncated, d.partial)
		return nil, d.err
	}
	d.sig = newSignature(d.p, d.weaks, d.strongs)
	d.weaks, d.strongs = nil, nil
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

// NewSignatureReader returns an io.Reader producing the signature of basis with the
// parameters p (see [DefaultParams]). Memory stays bounded whatever the size of basis. Read
// fails if p is invalid, and wraps any error from basis other than io.EOF; errors are
// sticky.
func NewSignatureReader(basis io.Reader, p Params) io.Reader {
	s := &sigReader{r: basis, p: p}
	if err := p.check(); err != nil {
		s.err = err
		return s
	}
	blocks := min(max(64<<10/p.BlockLen, 1), 1024)
	s.in = make([]byte, blocks*p.BlockLen)
	s.out = make([]byte, 0, headerSize+blocks*(4+p.StrongLen))
	s.out = binary.BigEndian.AppendUint32(s.out, p.Magic)
	s.out = binary.BigEndian.AppendUint32(s.out, uint32(p.BlockLen))
	s.out = binary.BigEndian.AppendUint32(s.out, uint32(p.StrongLen))
	return s
}

type sigReader struct {
	r   io.Reader
	p   Params
	in  []byte // a chunk of the basis, a whole number of blocks
	out []byte // encoded, undelivered bytes are out[pos:]
	pos int
	eof bool
	err error
}

func (s *sigReader) Read(b []byte) (int, error) {
	for s.pos == len(s.out) {
		if s.err != nil {
			return 0, s.err
		}
		if s.eof {
			return 0, io.EOF
		}
		s.fill()
	}
	n := copy(b, s.out[s.pos:])
	s.pos += n
	return n, nil
}

// fill reads the next chunk of the basis and encodes its blocks.
func (s *sigReader) fill() {
	n, err := io.ReadFull(s.r, s.in)
	switch err {
	case nil:
	case io.EOF, io.ErrUnexpectedEOF:
		s.eof = true
	default:
		s.err = fmt.Errorf("librsync: reading basis: %w", err)
		return
	}
	s.out, s.pos = s.out[:0], 0
	for b := s.in[:n]; len(b) > 0; {
		blk := b[:min(s.p.BlockLen, len(b))]
		b = b[len(blk):]
		s.out = binary.BigEndian.AppendUint32(s.out, weakOf(s.p.Magic, blk))
		sum := blake2b256(blk)
		s.out = append(s.out, sum[:s.p.StrongLen]...)
	}
}

// weakOf returns the weak checksum of blk for a signature of magic.
func weakOf(magic uint32, blk []byte) uint32 {
	if magic == RKBlake2Magic {
		return rkSum(blk)
	}
	return rollDigest(rollsum(blk))
}
