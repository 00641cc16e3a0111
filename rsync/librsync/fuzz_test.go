package librsync_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/xferterm/xferterm/rsync/librsync"
)

// FuzzRoundTrip: for any old and new file and block length, the delta of new against the
// signature of old patches back into new, also when it is fed in small pieces, and it is
// never much larger than the new file.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("abcdefghij"), []byte("XXabcdefghij!"), uint16(4), false)
	f.Add([]byte(""), []byte("new"), uint16(1), true)
	f.Add(bytes.Repeat([]byte("ab"), 500), bytes.Repeat([]byte("ba"), 501), uint16(7), false)
	f.Fuzz(func(t *testing.T, old, newFile []byte, bl uint16, rollsum bool) {
		old, newFile = old[:min(len(old), 8<<10)], newFile[:min(len(newFile), 8<<10)]
		p := librsync.Params{Magic: librsync.RKBlake2Magic, BlockLen: 1 + int(bl)%512, StrongLen: 1 + int(bl)%32}
		if rollsum {
			p.Magic = librsync.Blake2Magic
		}
		var dec librsync.SignatureDecoder
		sigBytes := readAll(t, librsync.NewSignatureReader(bytes.NewReader(old), p))
		for b := sigBytes; len(b) > 0; b = b[min(len(b), 13):] {
			if _, err := dec.Write(b[:min(len(b), 13)]); err != nil {
				t.Fatal(err)
			}
		}
		sig, err := dec.Finish()
		if err != nil {
			t.Fatal(err)
		}
		delta := readAll(t, librsync.NewDiffer(sig, bytes.NewReader(newFile)))
		// Bounded: every byte goes once, as literal data or inside a COPY of at least one
		// block; each COPY costs at most 17 bytes, each literal run's header 9, and runs
		// alternate with copies (or end at a buffer wrap). With tiny blocks a delta can
		// outgrow its file: FuzzRoundTrip/40a55a440c8a36ce is "a" against "0a0a…" with
		// blocks of 1 byte.
		copies := len(newFile) / p.BlockLen
		if limit := 5 + len(newFile) + 17*copies + 9*(copies+1+len(newFile)/(256<<10)); len(delta) > limit {
			t.Fatalf("delta of %d bytes for a %d-byte file in blocks of %d", len(delta), len(newFile), p.BlockLen)
		}
		var out bytes.Buffer
		pt := librsync.NewPatcher(bytes.NewReader(old), int64(len(old)), &out)
		for b := delta; len(b) > 0; b = b[min(len(b), 5):] {
			if _, err := pt.Write(b[:min(len(b), 5)]); err != nil {
				t.Fatal(err)
			}
		}
		if err := pt.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), newFile) {
			t.Fatalf("round trip gave %d bytes, want %d", out.Len(), len(newFile))
		}
	})
}

// FuzzPatch: any bytes, split anywhere, give the same output and the same verdict as in one
// piece; the output never exceeds what the commands can produce; only the package's own
// errors come out.
func FuzzPatch(f *testing.F) {
	f.Add([]byte("0123456789"), []byte{0x72, 0x73, 0x02, 0x36, 0x02, 'h', 'i', 0x45, 0, 10, 0}, uint8(3))
	f.Add([]byte("x"), []byte{0x72, 0x73, 0x02, 0x36, 0x44, 0, 0, 0, 0, 0, 0, 0, 9}, uint8(1))
	f.Fuzz(func(t *testing.T, old, delta []byte, split uint8) {
		run := func(chunk int) ([]byte, error) {
			var out bytes.Buffer
			p := librsync.NewPatcher(bytes.NewReader(old), int64(len(old)), &out)
			for b := delta; len(b) > 0; b = b[min(len(b), chunk):] {
				if _, err := p.Write(b[:min(len(b), chunk)]); err != nil {
					return out.Bytes(), err
				}
			}
			return out.Bytes(), p.Close()
		}
		whole, werr := run(len(delta) + 1)
		parts, perr := run(1 + int(split)%16)
		if !bytes.Equal(whole, parts) || (werr == nil) != (perr == nil) {
			t.Fatalf("split changed the result: %d bytes, %v vs %d bytes, %v", len(whole), werr, len(parts), perr)
		}
		var ce *librsync.CorruptError
		if werr != nil && !errors.As(werr, &ce) && !errors.Is(werr, librsync.ErrTruncated) && !errors.Is(werr, librsync.ErrMissingEnd) {
			t.Fatalf("unexpected error %v", werr)
		}
		// Each command of at most 17+n bytes adds at most len(old) or n bytes.
		if limit := len(delta) * (len(old) + 1); len(whole) > limit {
			t.Fatalf("%d bytes out of a %d-byte delta", len(whole), len(delta))
		}
	})
}

// FuzzSignatureDecoder: any bytes, split anywhere, decode to the same verdict and entries
// as in one piece.
func FuzzSignatureDecoder(f *testing.F) {
	f.Add([]byte{0x72, 0x73, 0x01, 0x47, 0, 0, 1, 0, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6}, uint8(5))
	f.Fuzz(func(t *testing.T, in []byte, split uint8) {
		decode := func(chunk int) (*librsync.Signature, error) {
			var d librsync.SignatureDecoder
			for b := in; len(b) > 0; b = b[min(len(b), chunk):] {
				if _, err := d.Write(b[:min(len(b), chunk)]); err != nil {
					return nil, err
				}
			}
			return d.Finish()
		}
		a, aerr := decode(len(in) + 1)
		b, berr := decode(1 + int(split)%16)
		if (aerr == nil) != (berr == nil) {
			t.Fatalf("split changed the verdict: %v vs %v", aerr, berr)
		}
		if aerr == nil {
			if a.Len() != b.Len() || a.Params() != b.Params() {
				t.Fatalf("split changed the signature: %d %+v vs %d %+v", a.Len(), a.Params(), b.Len(), b.Params())
			}
			if want := (len(in) - 12) / (4 + a.Params().StrongLen); a.Len() != want {
				t.Fatalf("%d entries from %d bytes, want %d", a.Len(), len(in), want)
			}
		}
	})
}
