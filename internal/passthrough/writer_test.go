package passthrough

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// unwrapTmux does what tmux 3.3a does with the output of a pane whose allow-passthrough is on:
// it writes the body of each "ESC P tmux; … ESC \" string with doubled ESCs undone, fails on
// a string over TmuxMaxString, and passes every other byte on. It models only what a Writer
// produces.
func unwrapTmux(t *testing.T, b []byte) []byte {
	t.Helper()
	var out []byte
	for {
		i := bytes.Index(b, []byte("\x1bPtmux;"))
		if i < 0 {
			return append(out, b...)
		}
		out = append(out, b[:i]...)
		b = b[i+len("\x1bPtmux;"):]
		body := []byte("tmux;")
		for {
			if len(b) < 2 {
				t.Fatalf("unterminated passthrough string")
			}
			if b[0] == esc && b[1] == '\\' {
				b = b[2:]
				break
			}
			if b[0] == esc {
				body = append(body, b[1]) // ESC x keeps x: only ESC ESC keeps an ESC.
				b = b[2:]
				continue
			}
			body = append(body, b[0])
			b = b[1:]
		}
		if len(body) > TmuxMaxString {
			t.Fatalf("passthrough string of %d bytes: tmux drops it", len(body))
		}
		out = append(out, body[len("tmux;"):]...)
	}
}

// unwrapScreen does what GNU screen 4.9 does: it writes the body of each "ESC P … ESC \"
// string as it is, and shows the rest of a string over ScreenMaxString as text (here: fails).
func unwrapScreen(t *testing.T, b []byte) []byte {
	t.Helper()
	var out []byte
	for {
		i := bytes.Index(b, []byte("\x1bP"))
		if i < 0 {
			return append(out, b...)
		}
		out = append(out, b[:i]...)
		b = b[i+2:]
		j := bytes.Index(b, []byte("\x1b\\"))
		if j < 0 {
			t.Fatalf("unterminated DCS string")
		}
		if j > ScreenMaxString {
			t.Fatalf("DCS string of %d bytes: screen cuts it", j)
		}
		out = append(out, b[:j]...)
		b = b[j+2:]
	}
}

// belTerminated is in with each OSC 5113 sequence ended by BEL, as screen passes them.
func belTerminated(in string) string {
	var b strings.Builder
	for {
		i := strings.Index(in, introducer)
		if i < 0 {
			return b.String() + in
		}
		b.WriteString(in[:i])
		in = in[i:]
		n, ok := sequenceEnd([]byte(in), 0)
		if n < 0 {
			return b.String() + in
		}
		if !ok {
			b.WriteString(in[:n])
			in = in[n:]
			continue
		}
		body := strings.TrimSuffix(strings.TrimSuffix(in[:n], "\a"), "\x1b\\")
		b.WriteString(body + "\a")
		in = in[n:]
	}
}

func osc(payload string) string { return introducer + payload + "\x1b\\" }

// streams are what the client writes: commands, data packets, display redraws, in every mix.
var streams = []struct{ name, in string }{
	{"nothing", ""},
	{"text only", "\r\x1b[Ksent 3 files\r\n"},
	{"one command", osc("id=a;ac=send")},
	{"a BEL-terminated command", introducer + "id=a;ac=send\a"},
	{"commands back to back", osc("id=a;ac=send") + osc("id=a;ac=file;fid=1;n=Zm9v") + osc("id=a;ac=finish")},
	{"commands and a redraw", osc("id=a;ac=data;fid=1;d=QUJD") + "\r\x1b[Kwaiting…" + osc("id=a;ac=end_data;fid=1")},
	{"a packet of 4096 bytes", osc("id=a;ac=data;fid=1;d=" + strings.Repeat("QUJD", 1366))},
	{"sixty packets", strings.Repeat(osc("id=a;ac=data;fid=1;d="+strings.Repeat("x/+9", 1365)), 60)},
	{"other escape sequences", "\x1b]0;title\a\x1b]51;x\x1b\\\x1b[?25l"},
	{"a sequence cut by another ESC", introducer + "id=a;ac=send\x1b[m" + osc("id=a;ac=finish")},
	{"lone ESC at the end", "abc\x1b"},
	{"a start of an introducer at the end", "abc\x1b]51"},
}

// TestWriterTmux: whatever the chunking of the writes, tmux's unwrapping of the output gives the
// input back byte for byte, and no string exceeds tmux's limit.
func TestWriterTmux(t *testing.T) {
	for _, tc := range streams {
		for _, group := range []int{1, 100, DefaultTmuxGroup} {
			for _, chunk := range []int{1, 2, 7, 4096, 1 << 20} {
				var out bytes.Buffer
				w := newWriter(&out, Tmux, group)
				writeChunks(t, w, tc.in, chunk)
				if got := unwrapTmux(t, out.Bytes()); string(got) != tc.in {
					t.Errorf("%s, group %d, chunks of %d: tmux would write\n%q\nwant\n%q", tc.name, group, chunk, got, tc.in)
				}
				if strings.Contains(tc.in, introducer+"id=a;ac=send\x1b\\") && !strings.Contains(out.String(), "\x1bPtmux;") {
					t.Errorf("%s: nothing was wrapped", tc.name)
				}
			}
		}
	}
}

// TestWriterScreen: screen's handling of the output gives the input back with each sequence
// ended by BEL, no string over screen's limit, whatever the chunking.
func TestWriterScreen(t *testing.T) {
	for _, tc := range streams {
		for _, chunk := range []int{1, 3, 767, 1 << 20} {
			var out bytes.Buffer
			w := newWriter(&out, Screen, DefaultTmuxGroup)
			writeChunks(t, w, tc.in, chunk)
			if got, want := string(unwrapScreen(t, out.Bytes())), belTerminated(tc.in); got != want {
				t.Errorf("%s, chunks of %d: screen would write\n%q\nwant\n%q", tc.name, chunk, got, want)
			}
		}
	}
}

func writeChunks(t *testing.T, w *Writer, in string, chunk int) {
	t.Helper()
	for len(in) > 0 {
		n := min(chunk, len(in))
		if k, err := w.Write([]byte(in[:n])); err != nil || k != n {
			t.Fatalf("Write: %d, %v", k, err)
		}
		in = in[n:]
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestWriterGolden: the exact bytes for a short stream.
func TestWriterGolden(t *testing.T) {
	in := osc("id=a;ac=send") + osc("id=a;ac=finish") + "\r\x1b[K"
	for _, tc := range []struct {
		kind Kind
		want string
	}{
		{Tmux, "\x1bPtmux;\x1b\x1b]5113;id=a;ac=send\x1b\x1b\\\x1b\x1b]5113;id=a;ac=finish\x1b\x1b\\\x1b\\\r\x1b[K"},
		{Screen, "\x1bP\x1b]5113;id=a;ac=send\a\x1b]5113;id=a;ac=finish\a\x1b\\\r\x1b[K"},
	} {
		var out bytes.Buffer
		if _, err := NewWriter(&out, tc.kind).Write([]byte(in)); err != nil {
			t.Fatal(err)
		}
		if out.String() != tc.want {
			t.Errorf("%v: got %q, want %q", tc.kind, out.String(), tc.want)
		}
	}
	var out bytes.Buffer
	if w := NewWriter(&out, None); w != &out {
		t.Errorf("NewWriter(None) wraps its writer")
	}
}

// TestWriterOneWritePerWrite: each Write makes one write below (so that the client's writes
// stay whole), and a failing writer's error sticks.
func TestWriterOneWritePerWrite(t *testing.T) {
	var c countingWriter
	w := NewWriter(&c, Tmux)
	in := []byte(strings.Repeat(osc("id=a;ac=data;fid=1;d=QUJD")+"text", 100))
	if _, err := w.Write(in); err != nil {
		t.Fatal(err)
	}
	if c.writes != 1 {
		t.Errorf("one Write made %d writes", c.writes)
	}
	boom := errors.New("boom")
	if _, err := NewWriter(shortWriter{}, Tmux).Write(in); !errors.Is(err, io.ErrShortWrite) {
		t.Errorf("a short write: %v, want io.ErrShortWrite", err)
	}
	w2 := newWriter(errWriter{boom}, Screen, 0)
	if _, err := w2.Write(in); !errors.Is(err, boom) {
		t.Errorf("Write: %v, want %v", err, boom)
	}
	if _, err := w2.Write([]byte("x")); !errors.Is(err, boom) {
		t.Errorf("the error did not stick: %v", err)
	}
}

// TestWriterTooLong: an unterminated sequence is held only up to the limit.
func TestWriterTooLong(t *testing.T) {
	w := newWriter(&bytes.Buffer{}, Tmux, DefaultTmuxGroup)
	chunk := []byte(strings.Repeat("A", 64<<10))
	if _, err := w.Write([]byte(introducer)); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 0; i < 20 && err == nil; i++ {
		_, err = w.Write(chunk)
	}
	if !errors.Is(err, ErrTooLong) {
		t.Fatalf("an endless sequence: %v, want ErrTooLong", err)
	}
}

type countingWriter struct{ writes int }

func (c *countingWriter) Write(p []byte) (int, error) { c.writes++; return len(p), nil }

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) - 1, nil }

type errWriter struct{ err error }

func (e errWriter) Write([]byte) (int, error) { return 0, e.err }

// FuzzWriter: for any input and any split into two writes, tmux's unwrapping gives the input
// back and screen's gives it back with BEL terminators; no string is over a limit.
func FuzzWriter(f *testing.F) {
	for _, tc := range streams {
		f.Add([]byte(tc.in), uint16(len(tc.in)/2))
	}
	f.Fuzz(func(t *testing.T, in []byte, split uint16) {
		if len(in) > 1<<16 || hasDCS(in) {
			return // The models would read the input's own DCS strings as the Writer's.
		}
		cut := int(split) % (len(in) + 1)
		for _, kind := range []Kind{Tmux, Screen} {
			var out bytes.Buffer
			w := newWriter(&out, kind, 300)
			if _, err := w.Write(in[:cut]); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(in[cut:]); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if kind == Tmux {
				if got := unwrapTmux(t, out.Bytes()); !bytes.Equal(got, in) {
					t.Fatalf("tmux: got %q, want %q", got, in)
				}
				continue
			}
			if got, want := string(unwrapScreen(t, out.Bytes())), belTerminated(string(in)); got != want {
				t.Fatalf("screen: got %q, want %q", got, want)
			}
		}
	})
}

// hasDCS reports whether in has DCS introducers of its own.
func hasDCS(in []byte) bool { return bytes.Contains(in, []byte("\x1bP")) }
