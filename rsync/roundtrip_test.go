package rsync_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/xferterm/xferterm/rsync"
)

// mutate returns a new file derived from old by one kind of edit.
func mutate(rng *rand.Rand, old []byte, alphabet int) (kind string, b []byte) {
	b = bytes.Clone(old)
	switch rng.IntN(9) {
	case 0:
		return "identical", b
	case 1:
		return "empty", nil
	case 2:
		return "unrelated", randBytes(rng, rng.IntN(20000), alphabet)
	case 3:
		for range 1 + rng.IntN(5) {
			at := rng.IntN(len(b) + 1)
			b = append(b[:at], append(randBytes(rng, 1+rng.IntN(300), alphabet), b[at:]...)...)
		}
		return "insertions", b
	case 4:
		for range 1 + rng.IntN(5) {
			if len(b) == 0 {
				break
			}
			at := rng.IntN(len(b))
			b = append(b[:at], b[min(len(b), at+1+rng.IntN(300)):]...)
		}
		return "deletions", b
	case 5:
		for range 1 + rng.IntN(10) {
			if len(b) == 0 {
				break
			}
			b[rng.IntN(len(b))] ^= 1 << rng.IntN(8)
		}
		return "bit flips", b
	case 6:
		return "truncated", b[:rng.IntN(len(b)+1)]
	case 7:
		return "appended", append(b, randBytes(rng, rng.IntN(5000), alphabet)...)
	default:
		// Moved blocks: swap two halves.
		at := rng.IntN(len(b) + 1)
		return "rotated", append(bytes.Clone(b[at:]), b[:at]...)
	}
}

// TestDifferMatchesTheReferenceModelAndPatchRoundTrips is the differential
// property test: for random old/new pairs, the streaming Differ produces the
// same bytes as the naive model of §6, and patching the delta (fed in random
// 1–40 byte pieces) rebuilds the new file.
func TestDifferMatchesTheReferenceModelAndPatchRoundTrips(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	cases := 600
	if testing.Short() {
		cases = 200
	}
	for i := range cases {
		alphabet := []int{0, 0, 1, 2, 4}[rng.IntN(5)]
		var old []byte
		switch rng.IntN(4) {
		case 0:
			old = randBytes(rng, rng.IntN(200), alphabet) // often shorter than a block
		default:
			old = randBytes(rng, rng.IntN(20000), alphabet)
		}
		kind, newb := mutate(rng, old, alphabet)
		var bs int
		switch rng.IntN(3) {
		case 0:
			bs = rsync.BlockSize(int64(len(old)))
		default:
			bs = 1 + rng.IntN(128)
		}
		name := fmt.Sprintf("case %d (%s, alphabet %d, old %d, new %d, bs %d)", i, kind, alphabet, len(old), len(newb), bs)

		// Signature: streamed with random chunking, equal to the model.
		sigBytes, err := readChunked(rsync.NewSignatureReader(&chunkReader{bytes.NewReader(old), rng, 1 + rng.IntN(3*bs)}, bs), rng, 40)
		if err != nil {
			t.Fatalf("%s: signature: %v", name, err)
		}
		if want := refSignature(old, bs); !bytes.Equal(sigBytes, want) {
			t.Fatalf("%s: signature differs from the model", name)
		}
		var dec rsync.SignatureDecoder
		for rest := sigBytes; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(40))
			if _, err := dec.Write(rest[:n]); err != nil {
				t.Fatalf("%s: decoding signature: %v", name, err)
			}
			rest = rest[n:]
		}
		sig, err := dec.Finish()
		if err != nil {
			t.Fatalf("%s: decoding signature: %v", name, err)
		}

		// Delta: random read sizes on both sides, equal to the model.
		delta, err := readChunked(rsync.NewDiffer(sig, &chunkReader{bytes.NewReader(newb), rng, 1 + rng.IntN(10*bs)}), rng, 64)
		if err != nil {
			t.Fatalf("%s: delta: %v", name, err)
		}
		if want := refDelta(sigBytes, newb); !bytes.Equal(delta, want) {
			t.Fatalf("%s: delta differs from the model\n got %x\nwant %x", name, delta, want)
		}

		// Patch in random pieces.
		got, err := patch(old, bs, delta, rng, 40)
		if err != nil {
			t.Fatalf("%s: patch: %v", name, err)
		}
		if !bytes.Equal(got, newb) {
			t.Fatalf("%s: patched file differs from the new file", name)
		}
		if kind == "identical" {
			if lit := literalBytes(t, delta); lit != len(old)%bs && !(len(old) < bs && lit == len(old)) {
				t.Fatalf("%s: identical files sent %d literal bytes, want only the short tail %d", name, lit, len(old)%bs)
			}
		}
	}
}

func TestIdenticalFilesSendNoLiteralBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		old := randBytes(rng, size, 0)
		bs := rsync.BlockSize(int64(size))
		delta := makeDelta(t, makeSignature(t, old, bs), old)
		if lit := literalBytes(t, delta); lit != 0 {
			t.Errorf("size %d: %d literal bytes", size, lit)
		}
		if len(delta) != 13+19 {
			t.Errorf("size %d: delta is %d bytes, want one BlockRange and the Hash", size, len(delta))
		}
	}
}

// TestSmallEditsGiveSmallDeltas asserts efficiency: a correct delta as big as
// the file would be a failure.
func TestSmallEditsGiveSmallDeltas(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const size = 1 << 20
	old := randBytes(rng, size, 0)
	bs := rsync.BlockSize(size) // 1024
	sig := makeSignature(t, old, bs)
	ins := func(b []byte, at int, s []byte) []byte {
		return append(b[:at:at], append(bytes.Clone(s), b[at:]...)...)
	}
	for _, tc := range []struct {
		name  string
		newb  []byte
		bound int
	}{
		{"one flipped byte", func() []byte { b := bytes.Clone(old); b[size/2] ^= 0xff; return b }(), bs + 100},
		{"100 bytes inserted", ins(bytes.Clone(old), size/3, randBytes(rng, 100, 0)), bs + 200},
		{"100 bytes deleted", append(bytes.Clone(old[:size/3]), old[size/3+100:]...), bs + 100},
		{"4 KiB replaced", func() []byte { b := bytes.Clone(old); copy(b[size/4:], randBytes(rng, 4096, 0)); return b }(), 4096 + 2*bs + 100},
		{"edits at both ends", func() []byte { b := bytes.Clone(old); b[0]++; b[size-1]++; return b }(), 2*bs + 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			delta := makeDelta(t, sig, tc.newb)
			if len(delta) > tc.bound {
				t.Errorf("delta is %d bytes, want at most %d", len(delta), tc.bound)
			}
			got, err := patch(old, bs, delta, nil, 0)
			if err != nil || !bytes.Equal(got, tc.newb) {
				t.Errorf("patch failed: %v", err)
			}
		})
	}
}

// TestDifferMemoryIsBounded checks that the Differ allocates the same small
// amount whatever the size of the new file.
func TestDifferMemoryIsBounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	old := randBytes(rng, 64<<10, 0)
	sig := parseSig(t, makeSignature(t, old, 1024))
	buf := make([]byte, 4096)
	allocated := func(size int) uint64 {
		newb := bytes.NewReader(randBytes(rng, size, 0))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		d := rsync.NewDiffer(sig, newb)
		for {
			if _, err := d.Read(buf); err != nil {
				break
			}
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := allocated(64<<10), allocated(4<<20)
	if large > small+64<<10 || large > 128<<10 {
		t.Errorf("differ allocated %d bytes for 64 KiB and %d for 4 MiB", small, large)
	}
}
