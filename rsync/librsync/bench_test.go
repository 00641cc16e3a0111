package librsync_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/xferterm/xferterm/rsync/librsync"
)

func benchData(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// BenchmarkSignature: signing a 16 MiB basis (BLAKE2b of every block dominates).
func BenchmarkSignature(b *testing.B) {
	old := benchData(16 << 20)
	p := librsync.DefaultParams(int64(len(old)))
	b.SetBytes(int64(len(old)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := io.Copy(io.Discard, librsync.NewSignatureReader(bytes.NewReader(old), p)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDiffer: a 16 MiB new file against its basis, unchanged (a strong sum per
// block) and entirely different (the rolling loop with its filter at every byte).
func BenchmarkDiffer(b *testing.B) {
	old := benchData(16 << 20)
	sig, err := librsync.ParseSignature(mustRead(librsync.NewSignatureReader(bytes.NewReader(old), librsync.DefaultParams(int64(len(old))))))
	if err != nil {
		b.Fatal(err)
	}
	other := append([]byte(nil), old...)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(other), func(i, j int) { other[i], other[j] = other[j], other[i] })
	for _, bc := range []struct {
		name string
		data []byte
	}{{"unchanged", old}, {"different", other}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := io.Copy(io.Discard, librsync.NewDiffer(sig, bytes.NewReader(bc.data))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPatch: applying a delta of one COPY of 16 MiB and a literal.
func BenchmarkPatch(b *testing.B) {
	old := benchData(16 << 20)
	sig, _ := librsync.ParseSignature(mustRead(librsync.NewSignatureReader(bytes.NewReader(old), librsync.DefaultParams(int64(len(old))))))
	delta := mustRead(librsync.NewDiffer(sig, bytes.NewReader(append([]byte("x"), old...))))
	b.SetBytes(int64(len(old)))
	b.ReportAllocs()
	for b.Loop() {
		p := librsync.NewPatcher(bytes.NewReader(old), int64(len(old)), io.Discard)
		if _, err := p.Write(delta); err != nil {
			b.Fatal(err)
		}
		if err := p.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
