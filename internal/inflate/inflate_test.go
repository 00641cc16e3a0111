package inflate

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/xferterm/xferterm/testdata"
)

// packet is the size of a data packet of the real client (reference-client.md §4.1).
const packet = 4096

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
	for _, c := range testdata.ZlibCases(size) {
		b.Run(c.Name, func(b *testing.B) {
			wire := testdata.Zlib(b, c.Data)
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				var out countWriter
				z := New(&out)
				for i := 0; i < len(wire); i += packet {
					if _, err := z.Write(wire[i:min(i+packet, len(wire))]); err != nil {
						b.Fatal(err)
					}
				}
				if err := z.Close(); err != nil {
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
	data := testdata.TextLike(200<<10, 3)
	wire := testdata.Zlib(t, data)
	r := rand.New(rand.NewChaCha8([32]byte{4}))
	cuts := map[string]func() int{
		"bytes":  func() int { return 1 },
		"random": func() int { return 1 + r.IntN(9000) },
		"whole":  func() int { return len(wire) },
	}
	for name, next := range cuts {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			z := New(&out)
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
				if err := z.Close(); err != nil {
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
	hello := testdata.Zlib(t, []byte("hello"))
	big := testdata.Zlib(t, testdata.TextLike(64<<10, 5))
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
		{"garbage", [][]byte{[]byte("this is not zlib at all"), []byte("more")}, 0, 0, ErrCorrupt, false},
		{"bad header split", [][]byte{{0x78}, {0x00}, []byte("x")}, 0, 1, ErrCorrupt, false},
		{"corrupt deflate", [][]byte{corrupt}, 0, 0, ErrCorrupt, false},
		{"bad adler32", [][]byte{badSum}, 0, 0, ErrCorrupt, false},
		{"empty stream", nil, 0, 0, ErrTruncated, false},
		{"header only", [][]byte{hello[:2]}, 0, 1, ErrTruncated, false},
		{"truncated", [][]byte{big[:len(big)/2], big[len(big)/2 : len(big)-3]}, 0, 2, ErrTruncated, false},
		{"trailing in the same packet", [][]byte{append(bytes.Clone(hello), 'x')}, 0, 0, ErrTrailing, false},
		{"trailing beyond the input buffer", [][]byte{append(bytes.Clone(hello), make([]byte, 3*4096)...)}, 0, 0, ErrTrailing, false},
		{"trailing in a later packet", [][]byte{hello, []byte("x")}, 0, 1, ErrTrailing, true},
		{"second stream", [][]byte{hello, testdata.Zlib(t, []byte("again"))}, 0, 1, ErrTrailing, true},
		{"output error", [][]byte{big[:len(big)/2], big[len(big)/2:], []byte("x")}, 1000, 1, errOutputFull, false},
		{"output error in the last window", [][]byte{big}, 64<<10 - 1, 0, errOutputFull, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := &failAfter{limit: c.limit}
			if c.limit == 0 {
				out.limit = 1 << 30
			}
			z := New(out)
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
				err = z.Close()
			}
			if failed != c.failAt || !errors.Is(err, c.want) {
				t.Fatalf("failed at %d with %v, want at %d with %v", failed, err, c.failAt, c.want)
			}
			// The failure is sticky: more input and close report it again.
			if _, again := z.Write([]byte("y")); again == nil {
				t.Error("Write after a failure succeeded")
			} else if !errors.Is(again, c.want) && !errors.Is(again, ErrTrailing) {
				t.Errorf("Write after the failure: %v", again)
			}
			if again := z.Close(); c.closeClean && again != nil || !c.closeClean && !errors.Is(again, c.want) {
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
	data := testdata.TextLike(256<<10, 7)
	wire := testdata.Zlib(t, data)
	var out bytes.Buffer
	z := New(&out)
	errs := make(chan error)
	for i := 0; i < len(wire); i += packet {
		go func() {
			_, err := z.Write(wire[i:min(i+packet, len(wire))])
			errs <- err
		}()
		if err := <-errs; err != nil {
			t.Fatalf("Write at %d: %v", i, err)
		}
	}
	go func() { errs <- z.Close() }()
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
	wire := testdata.Zlib(t, testdata.TextLike(256<<10, 8))
	var out countWriter
	z := New(&out)
	if _, err := z.Write(wire[:len(wire)/2]); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); !errors.Is(err, ErrTruncated) {
		t.Fatalf("close: %v, want %v", err, ErrTruncated)
	}
	written := out.n
	if _, err := z.Write(wire[len(wire)/2:]); !errors.Is(err, ErrTruncated) {
		t.Errorf("Write after close: %v, want %v", err, ErrTruncated)
	}
	if out.n != written {
		t.Errorf("%d bytes written after close", out.n-written)
	}
}

// TestInflaterOutputIsCurrent: when Write returns, what the packet decoded to is in the
// output (the engine reports progress from it right away), bar what the decompressor
// holds back until it sees more input.
func TestInflaterOutputIsCurrent(t *testing.T) {
	data := testdata.RandomBytes(6, 1<<20)
	wire := testdata.Zlib(t, data)
	var out countWriter
	z := New(&out)
	defer func() { _ = z.Close() }()
	for i := 0; i < len(wire); i += packet {
		if _, err := z.Write(wire[i:min(i+packet, len(wire))]); err != nil {
			t.Fatal(err)
		}
		// Stored blocks: the output trails the input by at most a block's header and
		// the decompressor's window.
		if lag := int64(min(i+packet, len(wire))) - out.n; lag > 64<<10 {
			t.Fatalf("after %d bytes of input only %d bytes of output", i+packet, out.n)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if out.n != int64(len(data)) {
		t.Fatalf("inflated %d bytes, want %d", out.n, len(data))
	}
}
