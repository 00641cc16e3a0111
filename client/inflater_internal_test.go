package client

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zlib"
)

func deflated(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := zlib.NewWriter(&out)
	_, _ = zw.Write(b) // Into a bytes.Buffer: never fails.
	_ = zw.Close()
	return out.Bytes()
}

// writeIn writes b to w in pieces of irregular sizes, like packets cut anywhere.
func writeIn(t *testing.T, w *inflater, b []byte) error {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	for len(b) > 0 {
		n := min(len(b), 1+rng.IntN(9000))
		if _, err := w.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// TestInflaterBatches: data cut in pieces of any size, across many batches, comes out
// whole; the stream's faults are reported by Close.
func TestInflaterBatches(t *testing.T) {
	random := make([]byte, 5*inflateBatch+321)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(random) // Never fails.
	text := []byte(strings.Repeat("the quick brown fox jumps over the lazy dog\n", 40000))
	for name, data := range map[string][]byte{"random": random, "text": text, "empty": nil} {
		var out bytes.Buffer
		inf := newInflater(&out)
		if err := writeIn(t, inf, deflated(t, data)); err != nil {
			t.Fatalf("%s: Write: %v", name, err)
		}
		if err := inf.Close(); err != nil {
			t.Fatalf("%s: Close: %v", name, err)
		}
		if !bytes.Equal(out.Bytes(), data) {
			t.Errorf("%s: got %d bytes, want %d", name, out.Len(), len(data))
		}
	}

	z := deflated(t, random)
	for _, tc := range []struct {
		name  string
		input []byte
		want  string
	}{
		{"truncated", z[:len(z)-5], "truncated zlib stream"},
		{"trailing", append(append([]byte(nil), z...), "more"...), "bytes after the end of the zlib stream"},
		{"not zlib", random[:3*inflateBatch], "bad zlib stream"},
	} {
		inf := newInflater(&bytes.Buffer{})
		err := writeIn(t, inf, tc.input)
		if cerr := inf.Close(); err == nil {
			err = cerr
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// blockedWriter blocks every write until release is closed.
type blockedWriter struct{ release chan struct{} }

func (w blockedWriter) Write(p []byte) (int, error) {
	<-w.release
	return len(p), nil
}

// TestInflaterBoundedAndAbort: with the output stuck, Write blocks after a bounded
// number of batches instead of queueing without end, and abort ends the goroutine.
func TestInflaterBoundedAndAbort(t *testing.T) {
	text := []byte(strings.Repeat("0123456789abcdef", 1<<20)) // 16 MiB
	random := make([]byte, 4<<20)
	_, _ = rand.NewChaCha8([32]byte{2}).Read(random) // Never fails.
	z := deflated(t, append(random, text...))
	out := blockedWriter{release: make(chan struct{})}
	inf := newInflater(out)
	accepted := make(chan int, 1)
	go func() {
		n := 0
		for n < len(z) {
			k := min(4096, len(z)-n)
			if _, err := inf.Write(z[n : n+k]); err != nil {
				break
			}
			n += k
		}
		accepted <- n
	}()
	select {
	case n := <-accepted:
		t.Fatalf("Write accepted all %d bytes while the output was blocked", n)
	case <-time.After(200 * time.Millisecond):
	}
	close(out.release)
	n := <-accepted
	if inf.made > inflateBatches {
		t.Errorf("%d batches allocated, want at most %d", inf.made, inflateBatches)
	}
	if n != len(z) {
		t.Fatalf("accepted %d of %d bytes", n, len(z))
	}
	inf.abort()
	select {
	case <-inf.exited:
	default:
		t.Fatal("abort returned before the goroutine")
	}
}
