package rsync_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/xferterm/xferterm/rsync"
)

// fuzzSeeds are the §9 vectors: old file, new file, signature, delta.
func fuzzSeeds(f *testing.F) (sig, delta []byte) {
	sig, err := base64.RawStdEncoding.DecodeString(exampleSig)
	if err != nil {
		f.Fatal(err)
	}
	delta, err = base64.RawStdEncoding.DecodeString(exampleDel)
	if err != nil {
		f.Fatal(err)
	}
	return sig, delta
}

// FuzzSignatureDecoder checks that any input gives a signature or an error,
// never a panic, and the same outcome whole or split at random points.
func FuzzSignatureDecoder(f *testing.F) {
	sig, _ := fuzzSeeds(f)
	f.Add(sig, uint64(1))
	f.Add(sig[:12], uint64(2))
	f.Add(sig[:50], uint64(3))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0}, uint64(4))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0}, uint64(5))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		whole, wholeErr := rsync.ParseSignature(data)

		rng := rand.New(rand.NewPCG(seed, 0))
		var d rsync.SignatureDecoder
		var err error
		for rest := data; len(rest) > 0 && err == nil; {
			n := min(len(rest), 1+rng.IntN(40))
			_, err = d.Write(rest[:n])
			rest = rest[n:]
		}
		var split *rsync.Signature
		if err == nil {
			split, err = d.Finish()
		}
		if (err == nil) != (wholeErr == nil) || err != nil && err.Error() != wholeErr.Error() {
			t.Fatalf("whole: %v; split: %v", wholeErr, err)
		}
		if err != nil {
			return
		}
		if split.BlockSize() != whole.BlockSize() || split.Len() != whole.Len() || whole.Len()*20+12 != len(data) {
			t.Fatalf("whole and split signatures differ")
		}
		// Any parsed signature drives a Differ without trouble; the delta
		// of the signature bytes themselves patches back over an old file
		// of zeros only if it never references blocks, so just drain it.
		if _, err := io.ReadAll(rsync.NewDiffer(whole, bytes.NewReader(data))); err != nil {
			t.Fatalf("differ: %v", err)
		}
	})
}

// FuzzPatch checks that any delta gives an output or an error, never a
// panic, with the same output and error whole or split at random points,
// and output bounded by what the ops can produce.
func FuzzPatch(f *testing.F) {
	sig, delta := fuzzSeeds(f)
	f.Add([]byte(exampleOld), delta, uint32(4), uint64(1))
	f.Add([]byte(exampleOld), delta[:20], uint32(4), uint64(2))
	f.Add([]byte(exampleOld), sig, uint32(4), uint64(3))
	f.Add([]byte{}, []byte{1, 2, 0, 0, 0, 'h', 'i', 2, 16, 0, 0x7d, 0x59, 0x6c, 0xe5, 0xfc, 0xab, 0xaf, 0x62, 0x2a, 0x23, 0x00, 0xbb, 0xd7, 0xea, 0x6e, 0x9a}, uint32(6144), uint64(4))
	f.Add([]byte("abcdefgh"), []byte{3, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255}, uint32(4), uint64(5))
	f.Add([]byte("abcdefgh"), []byte{0, 255, 255, 255, 255, 255, 255, 255, 255}, uint32(0), uint64(6))
	f.Fuzz(func(t *testing.T, old, delta []byte, bs uint32, seed uint64) {
		bs %= rsync.MaxBlockSize + 2 // include 0 and MaxBlockSize+1
		wholeOut, wholeErr := patch(old, int(bs), delta, nil, 0)
		splitOut, splitErr := patch(old, int(bs), delta, rand.New(rand.NewPCG(seed, 0)), 40)
		if (splitErr == nil) != (wholeErr == nil) || splitErr != nil && splitErr.Error() != wholeErr.Error() {
			t.Fatalf("whole: %v; split: %v", wholeErr, splitErr)
		}
		if !bytes.Equal(wholeOut, splitOut) {
			t.Fatalf("whole and split outputs differ")
		}
		if bound := len(delta) + (len(delta)/9+1)*len(old); len(wholeOut) > bound {
			t.Fatalf("output %d bytes exceeds the bound %d", len(wholeOut), bound)
		}
	})
}

// maxRoundTripInput caps each file of FuzzRoundTrip.
const maxRoundTripInput = 8 << 10

// FuzzRoundTrip checks, for any old and new file and block size, that the
// Differ matches the naive model of §6 and that its delta patches back.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte(exampleOld), []byte(exampleNew), uint16(4))
	f.Add([]byte{}, []byte("hi"), uint16(6144))
	f.Add([]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), []byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabaaaaaa"), uint16(3))
	f.Fuzz(func(t *testing.T, old, newb []byte, bs16 uint16) {
		// The model is quadratic in the worst case (one weak checksum shared by every
		// block): longer inputs would stall the fuzzer without reaching new code, since
		// 8 KiB already spans the Differ's buffer (8 blocks of at most 256 bytes) many
		// times over.
		old, newb = old[:min(len(old), maxRoundTripInput)], newb[:min(len(newb), maxRoundTripInput)]
		bs := 1 + int(bs16)%256
		sig := makeSignature(t, old, bs)
		if !bytes.Equal(sig, refSignature(old, bs)) {
			t.Fatal("signature differs from the model")
		}
		delta := makeDelta(t, sig, newb)
		if want := refDelta(sig, newb); !bytes.Equal(delta, want) {
			t.Fatalf("delta differs from the model\n got %x\nwant %x", delta, want)
		}
		got, err := patch(old, bs, delta, nil, 0)
		if err != nil || !bytes.Equal(got, newb) {
			t.Fatalf("patch: %v", err)
		}
	})
}
