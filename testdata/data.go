package testdata

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/zlib"
)

// TextLike returns n bytes of pseudo-random words (seeded, so every run sees the same
// bytes) that zlib shrinks about as much as ordinary text or source code, unlike a
// repeated line, which would fit in a handful of packets.
func TextLike(n int, seed byte) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{seed}))
	words := make([][]byte, 2000)
	for i := range words {
		w := make([]byte, 2+r.IntN(9))
		for j := range w {
			w[j] = byte('a' + r.IntN(26))
		}
		words[i] = w
	}
	b := make([]byte, 0, n+16)
	for len(b) < n {
		b = append(b, words[r.IntN(len(words))]...)
		if r.IntN(12) == 0 {
			b = append(b, '\n')
		} else {
			b = append(b, ' ')
		}
	}
	return b[:n]
}

// RandomBytes returns n random bytes, the same for the same seed: zlib stores them, so
// inflating them costs a copy.
func RandomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// Zlib returns the zlib stream of b at the default level.
func Zlib(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Case is a named input of a test or benchmark.
type Case struct {
	Name string
	Data []byte
}

// ZlibCases are size bytes of the two kinds of file that matter to an inflater: text,
// which zlib shrinks about 2.7:1, and random bytes, which it stores (the cost per packet
// then dominates).
func ZlibCases(size int) []Case {
	return []Case{{"text", TextLike(size, 1)}, {"random", RandomBytes(2, size)}}
}
