package deltaio_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/xferterm/xferterm/internal/deltaio"
)

// emptyReader returns (0, nil) forever.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func TestWindowFill(t *testing.T) {
	w := deltaio.Window{Buf: make([]byte, 0, 8)}
	added, err := w.Fill(iotest.OneByteReader(strings.NewReader("abcdefghij")), 5)
	if err != nil || string(added) != "abcde" || w.EOF {
		t.Fatalf("Fill(5) = %q, %v, EOF %v", added, err, w.EOF)
	}
	w.Pos, w.Data = 3, 3
	w.MoveToFront()
	if string(w.Buf) != "de" || w.Pos != 0 || w.Data != 0 || w.Shift {
		t.Fatalf("after MoveToFront: %q pos %d data %d", w.Buf, w.Pos, w.Data)
	}
	added, err = w.Fill(strings.NewReader("xyz"), 8)
	if err != nil || string(added) != "xyz" || !w.EOF || string(w.Buf) != "dexyz" {
		t.Fatalf("Fill to EOF = %q, %v, EOF %v, buf %q", added, err, w.EOF, w.Buf)
	}
	boom := errors.New("boom")
	w = deltaio.Window{Buf: make([]byte, 0, 8)}
	if added, err := w.Fill(iotest.DataErrReader(iotest.ErrReader(boom)), 3); !errors.Is(err, boom) || len(added) != 0 {
		t.Fatalf("Fill of a failing reader = %q, %v", added, err)
	}
	w = deltaio.Window{Buf: make([]byte, 0, 8)}
	if _, err := w.Fill(emptyReader{}, 3); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("Fill of a reader that returns nothing = %v, want io.ErrNoProgress", err)
	}
}

// TestOutDrain: the pieces come out in order, whatever the size of the reads.
func TestOutDrain(t *testing.T) {
	lit := []byte("literal data")
	for chunk := 1; chunk <= 20; chunk++ {
		var o deltaio.Out
		h := o.Alloc(2)
		copy(h, "H1")
		o.Put(h)
		o.Put(lit)
		h = o.Alloc(1)
		h[0] = '!'
		o.Put(h)
		if o.Empty() || o.Delivered() {
			t.Fatal("output with pieces is empty or delivered")
		}
		var got []byte
		for !o.Delivered() {
			p := make([]byte, chunk)
			got = append(got, p[:o.Drain(p)]...)
		}
		if string(got) != "H1literal data!" {
			t.Fatalf("chunks of %d: %q", chunk, got)
		}
		o.Reset()
		if !o.Empty() || !o.Delivered() {
			t.Fatal("Reset output is not empty")
		}
	}
}

// TestBlockReader: a header, then one entry per block (the last short), at every read size;
// an error of the old file, wrapped and sticky.
func TestBlockReader(t *testing.T) {
	encode := func(dst, blk []byte) []byte { return fmt.Appendf(dst, "[%s]", blk) }
	wrap := func(err error) error { return fmt.Errorf("test: %w", err) }
	r := deltaio.NewBlockReader(iotest.HalfReader(strings.NewReader("abcdefghij")), 3, 2, 5, []byte("H:"), encode, wrap)
	got, err := io.ReadAll(iotest.OneByteReader(r))
	if err != nil || string(got) != "H:[abc][def][ghi][j]" {
		t.Fatalf("got %q, %v", got, err)
	}
	boom := errors.New("boom")
	r = deltaio.NewBlockReader(io.MultiReader(strings.NewReader("abcdef"), iotest.ErrReader(boom)), 3, 2, 5, nil, encode, wrap)
	got, err = io.ReadAll(r)
	if string(got) != "[abc][def]" || !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "test: ") {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, again := r.Read(make([]byte, 1)); again != err {
		t.Fatalf("error not sticky: %v then %v", err, again)
	}
	if _, err := deltaio.ErrReader(boom).Read(make([]byte, 1)); err != boom {
		t.Fatalf("ErrReader: %v", err)
	}
}

func TestCopyAt(t *testing.T) {
	old := bytes.NewReader([]byte("0123456789"))
	var out bytes.Buffer
	emit := func(b []byte) error { out.Write(b); return nil }
	if err := deltaio.CopyAt(old, 2, 7, make([]byte, 3), emit); err != nil || out.String() != "2345678" {
		t.Fatalf("CopyAt = %q, %v", out.String(), err)
	}
	var re *deltaio.ReadError
	if err := deltaio.CopyAt(old, 8, 5, make([]byte, 3), emit); !errors.As(err, &re) || re.Off != 10 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("CopyAt past the end = %v", err)
	}
	full := errors.New("disk full")
	if err := deltaio.CopyAt(old, 0, 4, make([]byte, 3), func([]byte) error { return full }); err != full {
		t.Fatalf("CopyAt with a failing emit = %v", err)
	}
}

// TestRecords: a header then records of the size it gives, the same at every split; the
// errors of both callbacks stop it.
func TestRecords(t *testing.T) {
	in := []byte("HHH:aabbccd")
	for chunk := 1; chunk <= len(in); chunk++ {
		var r deltaio.Records
		var got []string
		header := func(h []byte) (int, error) { got = append(got, "h="+string(h)); return 2, nil }
		record := func(b []byte) error { got = append(got, string(b)); return nil }
		for b := in; len(b) > 0; b = b[min(chunk, len(b)):] {
			if err := r.Write(b[:min(chunk, len(b))], 4, header, record); err != nil {
				t.Fatal(err)
			}
		}
		if fmt.Sprint(got) != "[h=HHH: aa bb cc]" || !r.HeaderDone() || r.Held() != 1 {
			t.Fatalf("chunks of %d: %v, held %d", chunk, got, r.Held())
		}
	}
	var r deltaio.Records
	if err := r.Write([]byte("HH"), 4, nil, nil); err != nil || r.HeaderDone() || r.Held() != 2 {
		t.Fatalf("a partial header: %v, held %d", err, r.Held())
	}
	bad := errors.New("bad")
	if err := r.Write([]byte("HH"), 4, func([]byte) (int, error) { return 0, bad }, nil); err != bad {
		t.Fatalf("a header error: %v", err)
	}
	r = deltaio.Records{}
	if err := r.Write([]byte("HHHHab"), 4, func([]byte) (int, error) { return 2, nil }, func([]byte) error { return bad }); err != bad {
		t.Fatalf("a record error: %v", err)
	}
}
