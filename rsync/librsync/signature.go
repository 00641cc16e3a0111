package librsync

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"slices"

	"github.com/xferterm/xferterm/internal/deltaio"
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
	rec deltaio.Records // the stream, cut into the header and block entries
	p   Params          // BlockLen is 0 until the header is complete

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
	if err := d.rec.Write(b, headerSize, d.header, d.add); err != nil {
		d.err = err
		return 0, err
	}
	return len(b), nil
}

// header takes the signature's header and returns the size of its block entries.
func (d *SignatureDecoder) header(h []byte) (int, error) {
	p := Params{
		Magic:     binary.BigEndian.Uint32(h),
		BlockLen:  int(min(binary.BigEndian.Uint32(h[4:]), MaxBlockLen+1)),
		StrongLen: int(min(binary.BigEndian.Uint32(h[8:]), strongLen+1)),
	}
	if err := p.check(); err != nil {
		return 0, &CorruptError{Input: "signature", Offset: 0, Reason: err.Error()}
	}
	d.p = p
	return 4 + p.StrongLen, nil
}

func (d *SignatureDecoder) add(e []byte) error {
	limit := MaxSignatureEntries
	if d.maxEntries > 0 {
		limit = d.maxEntries
	}
	if len(d.weaks) >= limit {
		return fmt.Errorf("%w: more than %d", ErrTooManyEntries, limit)
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
	case !d.rec.HeaderDone():
		d.err = fmt.Errorf("%w: signature header has %d of %d bytes", ErrTruncated, d.rec.Held(), headerSize)
		return nil, d.err
	case d.rec.Held() != 0:
		d.err = fmt.Errorf("%w: %d bytes of unused signature data", ErrTruncated, d.rec.Held())
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
	if err := p.check(); err != nil {
		return deltaio.ErrReader(err)
	}
	header := binary.BigEndian.AppendUint32(nil, p.Magic)
	header = binary.BigEndian.AppendUint32(header, uint32(p.BlockLen))
	header = binary.BigEndian.AppendUint32(header, uint32(p.StrongLen))
	encode := func(dst, blk []byte) []byte {
		dst = binary.BigEndian.AppendUint32(dst, weakOf(p.Magic, blk))
		sum := blake2b256(blk)
		return append(dst, sum[:p.StrongLen]...)
	}
	wrap := func(err error) error { return fmt.Errorf("librsync: reading basis: %w", err) }
	blocks := min(max(64<<10/p.BlockLen, 1), 1024)
	return deltaio.NewBlockReader(basis, p.BlockLen, blocks, 4+p.StrongLen, header, encode, wrap)
}

// weakOf returns the weak checksum of blk for a signature of magic.
func weakOf(magic uint32, blk []byte) uint32 {
	if magic == RKBlake2Magic {
		return rkSum(blk)
	}
	return rollDigest(rollsum(blk))
}
