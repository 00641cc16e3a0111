package librsync

import (
	"errors"
	"fmt"
	"math"
)

// Magic numbers (doc/format.md). A signature's magic names its weak and strong hashes.
const (
	DeltaMagic     = 0x72730236 // "rs\x026": a delta
	Blake2Magic    = 0x72730137 // "rs\x017": rollsum and BLAKE2b
	RKBlake2Magic  = 0x72730147 // "rs\x01G": Rabin-Karp and BLAKE2b (librsync >= 2.2's default)
	md4Magic       = 0x72730136 // refused: MD4
	rkMD4Magic     = 0x72730146 // refused: MD4
	headerSize     = 12         // magic, block length, strong-sum length
	deltaMagicSize = 4
)

// MaxBlockLen is the largest block length this package makes or accepts (4 MiB, what
// librsync picks for a 16 TiB basis). It bounds the Differ's buffer.
const MaxBlockLen = 4 << 20

// MaxSignatureEntries caps the blocks a [SignatureDecoder] accepts (a 4 TiB basis at the
// block length librsync picks for it), so that a hostile peer cannot make the table grow
// without bound: at most about 50 bytes per entry.
const MaxSignatureEntries = 1 << 21

// Delta commands (prototab.c): 0 ends the delta; 1..64 are literals of that many bytes;
// then literals whose length follows in 1, 2, 4 or 8 bytes; then copies whose start and
// length follow, each in 1, 2, 4 or 8 bytes (start width major).
const (
	opEnd        = 0x00
	opLiteralMax = 0x40 // the largest literal whose length is the command itself
	opLiteralN1  = 0x41
	opCopyN1N1   = 0x45
	opCopyN8N8   = 0x54
)

// Errors a caller may want to branch on. Errors returned by this package wrap them with
// details; test with [errors.Is].
var (
	// ErrBlockLen reports a block length of 0 or above MaxBlockLen.
	ErrBlockLen = errors.New("librsync: invalid block length")
	// ErrTooManyEntries reports a signature with more than MaxSignatureEntries blocks.
	ErrTooManyEntries = errors.New("librsync: too many signature entries")
	// ErrTruncated reports input that ends inside a header, a block entry or a command.
	ErrTruncated = errors.New("librsync: truncated input")
	// ErrMissingEnd reports a delta that ends without its END command.
	ErrMissingEnd = errors.New("librsync: delta ends without its END command")
	// ErrClosed reports a Write after Close or Finish.
	ErrClosed = errors.New("librsync: write after close")
)

// CorruptError reports malformed signature or delta bytes.
type CorruptError struct {
	Input  string // "signature" or "delta"
	Offset int64  // offset of the offending field in the input
	Reason string // lowercase description
}

// Error implements error.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("librsync: corrupt %s at byte %d: %s", e.Input, e.Offset, e.Reason)
}

// Params are what a signature's header carries.
type Params struct {
	Magic     uint32 // RKBlake2Magic or Blake2Magic
	BlockLen  int    // 1..MaxBlockLen
	StrongLen int    // 1..32: bytes kept of each block's BLAKE2b
}

// DefaultParams returns the parameters librsync 2.3 picks for a basis of size bytes when
// asked for its defaults and the longest strong sum, as the 0.26 client asks: RK-BLAKE2,
// 32-byte strong sums, and a block length of 256 up to 64 KiB, above that the square root
// of the size rounded down to a multiple of 128 (capped at MaxBlockLen).
func DefaultParams(size int64) Params {
	bl := 256
	if size > 256*256 {
		root := int64(math.Sqrt(float64(size)))
		for root*root > size { // float rounding
			root--
		}
		for (root+1)*(root+1) <= size {
			root++
		}
		bl = int(min(root/128*128, MaxBlockLen))
	}
	return Params{Magic: RKBlake2Magic, BlockLen: bl, StrongLen: strongLen}
}

// check reports what is wrong with p, if anything.
func (p Params) check() error {
	switch {
	case p.Magic == md4Magic || p.Magic == rkMD4Magic:
		return fmt.Errorf("librsync: MD4 signatures are not supported (magic %#x)", p.Magic)
	case p.Magic != RKBlake2Magic && p.Magic != Blake2Magic:
		return fmt.Errorf("librsync: unknown signature magic %#x", p.Magic)
	case p.BlockLen < 1 || p.BlockLen > MaxBlockLen:
		return fmt.Errorf("%w: %d (want 1..%d)", ErrBlockLen, p.BlockLen, MaxBlockLen)
	case p.StrongLen < 1 || p.StrongLen > strongLen:
		return fmt.Errorf("librsync: strong sum length %d (want 1..%d)", p.StrongLen, strongLen)
	}
	return nil
}
