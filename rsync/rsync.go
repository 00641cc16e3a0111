package rsync

import (
	"errors"
	"fmt"
	"math"
)

// MaxBlockSize is the largest block size this package makes or accepts
// (1 MiB). kitty's client rejects larger ones (rsync.md §2.3).
const MaxBlockSize = 1 << 20

// MaxSignatureEntries caps the number of block entries a [SignatureDecoder]
// accepts, so that a hostile peer cannot make the signature table grow
// without bound. 1<<22 entries (80 MiB of signature) cover a 4 TiB old file
// at the largest block size. Building the table takes at most about 100
// bytes per entry.
const MaxSignatureEntries = 1 << 22

// defaultBlockSize is the block size for an empty or unknown expected size.
const defaultBlockSize = 6144

// stripe is the XXH3 stripe length: block sizes above it are rounded down to
// a multiple of it (rsync.md §2.1).
const stripe = 64

// Sizes of the fixed parts of the formats (rsync.md §4, §5).
const (
	headerSize   = 12
	entrySize    = 20
	checksumSize = 16
)

// Delta operation types (rsync.md §5).
const (
	opBlock      = 0
	opData       = 1
	opHash       = 2
	opBlockRange = 3
)

// Errors a caller may want to branch on. Errors returned by this package
// wrap them with details; test with [errors.Is].
var (
	// ErrBlockSize reports a block size of 0 or above MaxBlockSize.
	ErrBlockSize = errors.New("rsync: invalid block size")
	// ErrTooManyEntries reports a signature with more than MaxSignatureEntries entries.
	ErrTooManyEntries = errors.New("rsync: too many signature entries")
	// ErrTruncated reports input that ends in the middle of a header, an
	// entry or an operation.
	ErrTruncated = errors.New("rsync: truncated input")
	// ErrMissingChecksum reports a delta that ends without its Hash operation.
	ErrMissingChecksum = errors.New("rsync: checksum missing at end of delta")
	// ErrChecksumMismatch reports a patched file whose XXH3-128 differs from
	// the one the delta carries.
	ErrChecksumMismatch = errors.New("rsync: checksum mismatch")
	// ErrClosed reports a Write after Close or Finish.
	ErrClosed = errors.New("rsync: write after close")
)

// CorruptError reports malformed signature or delta bytes.
type CorruptError struct {
	Input  string // "signature" or "delta"
	Offset int64  // offset of the offending field in the input
	Reason string // lowercase description
}

// Error implements error.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("rsync: corrupt %s at byte %d: %s", e.Input, e.Offset, e.Reason)
}

// BlockSize returns the block size the kitty client rule (rsync.md §2.1)
// picks for a file of expectedSize bytes: 6144 for expectedSize <= 0,
// otherwise the square root rounded half away from zero, capped at
// MaxBlockSize, and rounded down to a multiple of 64 when above 64. A
// terminal signing its existing file (uploads, rsync.md §8.1) passes that
// file's size; kitty's client passes the size of the remote file as listed.
func BlockSize(expectedSize int64) int {
	if expectedSize <= 0 {
		return defaultBlockSize
	}
	root := math.Round(math.Sqrt(float64(expectedSize)))
	bs := MaxBlockSize
	if root < MaxBlockSize {
		bs = int(root)
	}
	if bs > stripe {
		bs = bs / stripe * stripe
	}
	return bs
}

// checkBlockSize returns a wrapped ErrBlockSize unless 1 <= bs <= MaxBlockSize.
func checkBlockSize(bs int64) error {
	if bs < 1 || bs > MaxBlockSize {
		return fmt.Errorf("%w: %d (want 1..%d)", ErrBlockSize, bs, MaxBlockSize)
	}
	return nil
}

// weakSum returns the rsync rolling checksum of b (rsync.md §3.1): A, the sum
// of the bytes, in the low 16 bits and B, the sum of (len-i)*b[i], in the
// high 16 bits. It also returns the unmasked running sums for rolling.
func weakSum(b []byte) (weak, a, sb uint32) {
	// Eight bytes at a time: after x0..x7, A grows by their sum and B by
	// 8*A + 8*x0 + 7*x1 + ... + 1*x7, which breaks the byte-serial chain.
	for len(b) >= 8 {
		x0, x1, x2, x3 := uint32(b[0]), uint32(b[1]), uint32(b[2]), uint32(b[3])
		x4, x5, x6, x7 := uint32(b[4]), uint32(b[5]), uint32(b[6]), uint32(b[7])
		sb += 8*a + 8*x0 + 7*x1 + 6*x2 + 5*x3 + 4*x4 + 3*x5 + 2*x6 + x7
		a += x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7
		b = b[8:]
	}
	for _, c := range b {
		a += uint32(c)
		sb += a
	}
	return a&0xffff | sb<<16, a, sb
}
