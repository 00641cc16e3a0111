package fs

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/zlib"
)

// textLike returns n bytes of pseudo-random words (seeded, so every run sees the same
// bytes) that zlib shrinks about as much as ordinary text or source code, unlike a
// repeated line, which would fit in a handful of packets.
func textLike(n int, seed byte) []byte {
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

// randomBytes returns n random bytes, the same for the same seed: zlib stores them, so
// inflating costs a copy and the per-packet overhead of the inflater is all that is left.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// zlibOf returns the zlib stream of b at the default level.
func zlibOf(t testing.TB, b []byte) []byte {
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

// countWriter counts the bytes written to it and keeps none.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// BenchmarkInflater measures the inflater alone: a zlib stream fed in the client's
// 4096-byte packets, the output counted and dropped. "random" is stored data, where the
// per-packet cost of the inflater dominates; "text" compresses about 2.7:1. The
// throughput is that of the decompressed bytes.
func BenchmarkInflater(b *testing.B) {
	const size = 16 << 20
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"text", textLike(size, 1)},
		{"random", randomBytes(2, size)},
	} {
		b.Run(c.name, func(b *testing.B) {
			wire := zlibOf(b, c.data)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				var out countWriter
				z := newInflater(&out)
				for i := 0; i < len(wire); i += MaxDataPacket {
					if _, err := z.Write(wire[i:min(i+MaxDataPacket, len(wire))]); err != nil {
						b.Fatal(err)
					}
				}
				if err := z.close(); err != nil {
					b.Fatal(err)
				}
				if out.n != size {
					b.Fatalf("inflated %d bytes, want %d", out.n, size)
				}
			}
		})
	}
}

// failAfter is an output that accepts limit bytes and then fails every write.
type failAfter struct {
	buf   bytes.Buffer
	limit int
	calls int // writes refused
}

var errOutputFull = errors.New("test: output full")

func (f *failAfter) Write(p []byte) (int, error) {
	if f.buf.Len()+len(p) > f.limit {
		f.calls++
		return 0, errOutputFull
	}
	return f.buf.Write(p)
}

// TestInflaterSplits: however the stream is cut into packets (one byte at a time, at
// random, in one piece), the output is the input, every Write takes the whole packet,
// and close reports success, twice.
func TestInflaterSplits(t *testing.T) {
	data := textLike(200<<10, 3)
	wire := zlibOf(t, data)
	r := rand.New(rand.NewChaCha8([32]byte{4}))
	cuts := map[string]func() int{
		"bytes":  func() int { return 1 },
		"random": func() int { return 1 + r.IntN(9000) },
		"whole":  func() int { return len(wire) },
	}
	for name, next := range cuts {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			z := newInflater(&out)
			for i := 0; i < len(wire); {
				p := wire[i:min(i+next(), len(wire))]
				n, err := z.Write(p)
				if err != nil || n != len(p) {
					t.Fatalf("Write of %d bytes at %d: %d, %v", len(p), i, n, err)
				}
				i += len(p)
			}
			if n, err := z.Write(nil); n != 0 || err != nil {
				t.Errorf("empty Write after the end: %d, %v", n, err)
			}
			for range 2 {
				if err := z.close(); err != nil {
					t.Fatalf("close: %v", err)
				}
			}
			if !bytes.Equal(out.Bytes(), data) {
				t.Fatalf("inflated %d bytes, differing from the %d sent", out.Len(), len(data))
			}
		})
	}
}

// TestInflaterErrors pins which Write (or close) reports each kind of bad stream, with
// which error, and that nothing is written after a failure.
func TestInflaterErrors(t *testing.T) {
	hello := zlibOf(t, []byte("hello"))
	big := zlibOf(t, textLike(64<<10, 5))
	corrupt := bytes.Clone(big)
	corrupt[5] ^= 0xff
	corrupt[6] ^= 0xff
	badSum := bytes.Clone(hello)
	badSum[len(badSum)-1] ^= 1
	for _, c := range []struct {
		name    string
		packets [][]byte
		limit   int   // output accepted before failing; 0 means unlimited
		failAt  int   // index of the first failing Write; len(packets) means close
		want    error // errors.Is target
		// closeClean: close after the failing Write reports success (trailing bytes in a
		// later packet are refused, but the stream itself was whole).
		closeClean bool
	}{
		{"garbage", [][]byte{[]byte("this is not zlib at all"), []byte("more")}, 0, 0, errZlibCorrupt, false},
		{"bad header split", [][]byte{{0x78}, {0x00}, []byte("x")}, 0, 1, errZlibCorrupt, false},
		{"corrupt deflate", [][]byte{corrupt}, 0, 0, errZlibCorrupt, false},
		{"bad adler32", [][]byte{badSum}, 0, 0, errZlibCorrupt, false},
		{"empty stream", nil, 0, 0, errZlibTruncated, false},
		{"header only", [][]byte{hello[:2]}, 0, 1, errZlibTruncated, false},
		{"truncated", [][]byte{big[:len(big)/2], big[len(big)/2 : len(big)-3]}, 0, 2, errZlibTruncated, false},
		{"trailing in the same packet", [][]byte{append(bytes.Clone(hello), 'x')}, 0, 0, errZlibTrailing, false},
		{"trailing beyond the input buffer", [][]byte{append(bytes.Clone(hello), make([]byte, 3*MaxDataPacket)...)}, 0, 0, errZlibTrailing, false},
		{"trailing in a later packet", [][]byte{hello, []byte("x")}, 0, 1, errZlibTrailing, true},
		{"second stream", [][]byte{hello, zlibOf(t, []byte("again"))}, 0, 1, errZlibTrailing, true},
		{"output error", [][]byte{big[:len(big)/2], big[len(big)/2:], []byte("x")}, 1000, 1, errOutputFull, false},
		{"output error in the last window", [][]byte{big}, 64<<10 - 1, 0, errOutputFull, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := &failAfter{limit: c.limit}
			if c.limit == 0 {
				out.limit = 1 << 30
			}
			z := newInflater(out)
			failed := len(c.packets)
			var err error
			for i, p := range c.packets {
				var n int
				if n, err = z.Write(p); err != nil {
					if n != 0 {
						t.Errorf("failing Write %d returned %d", i, n)
					}
					failed = i
					break
				}
				if n != len(p) {
					t.Fatalf("Write %d: %d of %d bytes", i, n, len(p))
				}
			}
			if err == nil {
				err = z.close()
			}
			if failed != c.failAt || !errors.Is(err, c.want) {
				t.Fatalf("failed at %d with %v, want at %d with %v", failed, err, c.failAt, c.want)
			}
			// The failure is sticky: more input and close report it again.
			if _, again := z.Write([]byte("y")); again == nil {
				t.Error("Write after a failure succeeded")
			} else if !errors.Is(again, c.want) && !errors.Is(again, errZlibTrailing) {
				t.Errorf("Write after the failure: %v", again)
			}
			if again := z.close(); c.closeClean && again != nil || !c.closeClean && !errors.Is(again, c.want) {
				t.Errorf("close after the failure: %v (want %v, clean %v)", again, c.want, c.closeClean)
			}
			if out.calls > 1 {
				t.Errorf("%d writes after the output failed", out.calls-1)
			}
		})
	}
}

// TestInflaterAcrossGoroutines: the engine's lock is taken by whichever goroutine
// handles the next command, so successive Writes and the close may come from different
// goroutines, one after the other.
func TestInflaterAcrossGoroutines(t *testing.T) {
	data := textLike(256<<10, 7)
	wire := zlibOf(t, data)
	var out bytes.Buffer
	z := newInflater(&out)
	errs := make(chan error)
	for i := 0; i < len(wire); i += MaxDataPacket {
		go func() {
			_, err := z.Write(wire[i:min(i+MaxDataPacket, len(wire))])
			errs <- err
		}()
		if err := <-errs; err != nil {
			t.Fatalf("Write at %d: %v", i, err)
		}
	}
	go func() { errs <- z.close() }()
	if err := <-errs; err != nil {
		t.Fatalf("close: %v", err)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("inflated %d bytes, differing from the %d sent", out.Len(), len(data))
	}
}

// TestInflaterCloseMidStream: closing in the middle of a stream (a cancelled file)
// reports it truncated, ends the decompressor, and refuses more input.
func TestInflaterCloseMidStream(t *testing.T) {
	wire := zlibOf(t, textLike(256<<10, 8))
	var out countWriter
	z := newInflater(&out)
	if _, err := z.Write(wire[:len(wire)/2]); err != nil {
		t.Fatal(err)
	}
	if err := z.close(); !errors.Is(err, errZlibTruncated) {
		t.Fatalf("close: %v, want %v", err, errZlibTruncated)
	}
	written := out.n
	if _, err := z.Write(wire[len(wire)/2:]); !errors.Is(err, errZlibTruncated) {
		t.Errorf("Write after close: %v, want %v", err, errZlibTruncated)
	}
	if out.n != written {
		t.Errorf("%d bytes written after close", out.n-written)
	}
}

// TestInflaterOutputIsCurrent: when Write returns, what the packet decoded to is in the
// output (the engine reports progress from it right away), bar what the decompressor
// holds back until it sees more input.
func TestInflaterOutputIsCurrent(t *testing.T) {
	data := randomBytes(6, 1<<20)
	wire := zlibOf(t, data)
	var out countWriter
	z := newInflater(&out)
	defer func() { _ = z.close() }()
	for i := 0; i < len(wire); i += MaxDataPacket {
		if _, err := z.Write(wire[i:min(i+MaxDataPacket, len(wire))]); err != nil {
			t.Fatal(err)
		}
		// Stored blocks: the output trails the input by at most a block's header and
		// the decompressor's window.
		if lag := int64(min(i+MaxDataPacket, len(wire))) - out.n; lag > 64<<10 {
			t.Fatalf("after %d bytes of input only %d bytes of output", i+MaxDataPacket, out.n)
		}
	}
	if err := z.close(); err != nil {
		t.Fatal(err)
	}
	if out.n != int64(len(data)) {
		t.Fatalf("inflated %d bytes, want %d", out.n, len(data))
	}
}

// The inputs of the inflater's tests, for the external tests too.
var (
	TextLike    = textLike
	RandomBytes = randomBytes
	ZlibOf      = zlibOf
)
