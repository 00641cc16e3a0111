package rsync

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func signatureOf(t *testing.T, old []byte, bs int) *Signature {
	t.Helper()
	raw, err := io.ReadAll(NewSignatureReader(bytes.NewReader(old), bs))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := ParseSignature(raw)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// TestDifferBoundsWorkPerRead: over a large identical file (one long run of matching
// blocks, held back to be coalesced) a Read returns (0, nil) after about readBudget bytes
// instead of hashing the whole file, and the delta is the same as read in one go.
func TestDifferBoundsWorkPerRead(t *testing.T) {
	old := make([]byte, 5*readBudget+12345)
	_, _ = rand.NewChaCha8([32]byte{3}).Read(old) // Never fails.
	for _, bs := range []int{BlockSize(int64(len(old))), 4096, 64 << 10} {
		sig := signatureOf(t, old, bs)
		want, err := io.ReadAll(NewDiffer(sig, bytes.NewReader(old)))
		if err != nil {
			t.Fatal(err)
		}
		src := &countingReader{r: bytes.NewReader(old)}
		d := NewDiffer(sig, src)
		var got []byte
		buf := make([]byte, 4096)
		empty := 0
		for {
			before := src.n
			n, err := d.Read(buf)
			if used := src.n - before; used > readBudget+8*bs+minReadSize {
				t.Fatalf("bs %d: one Read consumed %d bytes of the new file", bs, used)
			}
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				empty++
			}
		}
		if empty < 4 {
			t.Errorf("bs %d: %d empty reads over %d identical bytes, want at least 4", bs, empty, len(old))
		}
		if !bytes.Equal(got, want) {
			t.Errorf("bs %d: delta read in bounded steps differs from the delta read at once", bs)
		}
		if len(want) > 200+len(old)%bs { // ops, checksum, and the short last block as data
			t.Errorf("bs %d: delta of an identical file is %d bytes", bs, len(want))
		}
	}
}
