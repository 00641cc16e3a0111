package rsync_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/xferterm/xferterm/rsync"
)

const benchSize = 16 << 20

// drain reads r to the end with a fixed buffer and returns the byte count.
func drain(b *testing.B, r io.Reader, buf []byte) int64 {
	var n int64
	for {
		m, err := r.Read(buf)
		n += int64(m)
		if err == io.EOF {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func randFile(seed uint64, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed)}).Read(b)
	return b
}

func BenchmarkSignature(b *testing.B) {
	old := randFile(1, benchSize)
	bs := rsync.BlockSize(benchSize)
	buf := make([]byte, 64<<10)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		drain(b, rsync.NewSignatureReader(bytes.NewReader(old), bs), buf)
	}
}

func BenchmarkDelta(b *testing.B) {
	old := randFile(1, benchSize)
	bs := rsync.BlockSize(benchSize)
	sig := parseSig(b, makeSignature(b, old, bs))
	for _, bc := range []struct {
		name string
		newb []byte
	}{
		{"identical", old},
		{"unrelated", randFile(2, benchSize)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			buf := make([]byte, 64<<10)
			b.SetBytes(int64(len(bc.newb)))
			b.ReportAllocs()
			for b.Loop() {
				drain(b, rsync.NewDiffer(sig, bytes.NewReader(bc.newb)), buf)
			}
		})
	}
}

func BenchmarkPatch(b *testing.B) {
	old := randFile(1, benchSize)
	bs := rsync.BlockSize(benchSize)
	sig := makeSignature(b, old, bs)
	for _, bc := range []struct {
		name string
		newb []byte
	}{
		{"identical", old},
		{"unrelated", randFile(2, benchSize)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			delta := makeDelta(b, sig, bc.newb)
			b.SetBytes(int64(len(bc.newb)))
			b.ReportAllocs()
			for b.Loop() {
				p := rsync.NewPatcher(bytes.NewReader(old), int64(len(old)), bs, io.Discard)
				if _, err := p.Write(delta); err != nil {
					b.Fatal(err)
				}
				if err := p.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDelta256MiBEdit measures the delta of a 256 MiB file with 1 MiB
// changed in the middle: its size (delta-bytes) and its speed. The patch is
// checked once, outside the timed loop.
func BenchmarkDelta256MiBEdit(b *testing.B) {
	const size, edit = 256 << 20, 1 << 20
	old := randFile(1, size)
	newb := bytes.Clone(old)
	copy(newb[size/2:], randFile(2, edit))
	bs := rsync.BlockSize(size)

	start := time.Now()
	sigBytes := makeSignature(b, old, bs)
	sigTime := time.Since(start)
	sig := parseSig(b, sigBytes)
	delta := makeDelta(b, sigBytes, newb)
	out := bytes.NewBuffer(make([]byte, 0, size))
	start = time.Now()
	p := rsync.NewPatcher(bytes.NewReader(old), size, bs, out)
	if _, err := p.Write(delta); err != nil {
		b.Fatal(err)
	}
	if err := p.Close(); err != nil {
		b.Fatal(err)
	}
	patchTime := time.Since(start)
	if !bytes.Equal(out.Bytes(), newb) {
		b.Fatal("patched file differs")
	}
	out = nil

	buf := make([]byte, 64<<10)
	var n int64
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n = drain(b, rsync.NewDiffer(sig, bytes.NewReader(newb)), buf)
	}
	b.ReportMetric(float64(n), "delta-bytes")
	b.ReportMetric(float64(len(sigBytes)), "signature-bytes")
	b.ReportMetric(sigTime.Seconds(), "signature-s")
	b.ReportMetric(patchTime.Seconds(), "patch-s")
}
