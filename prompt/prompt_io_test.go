package prompt_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"

	"github.com/xferterm/xferterm/approval"
	"github.com/xferterm/xferterm/prompt"
)

func TestQueryFilter(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"text passes", "plain text ✓\r\n", "plain text ✓\r\n"},
		{"drawing passes", "\x1b[?1049h\x1b[?25l\x1b[>1u\x1b[2J\x1b[1;1H\x1b[1mhi\x1b[m\x1b[<1u\x1b[?1049l\x1b[?25h",
			"\x1b[?1049h\x1b[?25l\x1b[>1u\x1b[2J\x1b[1;1H\x1b[1mhi\x1b[m\x1b[<1u\x1b[?1049l\x1b[?25h"},
		{"DECRQM is dropped", "a\x1b[?2026$p\x1b[?2027$pb", "ab"},
		{"the kitty keyboard query is dropped", "\x1b[>1u\x1b[?u", "\x1b[>1u"},
		{"modifyOtherKeys is dropped", "\x1b[>4m\x1b[?1049h\x1b[>4;2m", "\x1b[?1049h"},
		{"DA and DSR are dropped", "\x1b[c\x1b[0c\x1b[>c\x1b[=c\x1b[6n\x1b[?6n\x1b[5n\x1b[>0q", ""},
		{"other ESC sequences pass", "\x1b7\x1b8\x1b]0;t\x07\x1b(B", "\x1b7\x1b8\x1b]0;t\x07\x1b(B"},
		{"a malformed sequence passes as text", "\x1b[?20\r26$p", "\x1b[?20\r26$p"},
		{"cursor style passes", "\x1b[2 q", "\x1b[2 q"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			for i := 0; i <= len(in); i++ {
				for j := i; j <= len(in); j++ {
					var out bytes.Buffer
					f := prompt.NewQueryFilter(&out)
					for _, part := range [][]byte{in[:i], in[i:j], in[j:]} {
						if n, err := f.Write(part); n != len(part) || err != nil {
							t.Fatalf("Write(%q) = %d, %v", part, n, err)
						}
					}
					if got := out.String(); got != tt.want {
						t.Fatalf("cut at %d and %d: %q, want %q", i, j, got, tt.want)
					}
				}
			}
		})
	}
}

// seqRE matches one escape sequence: CSI, OSC, DCS or a two-byte one.
var seqRE = regexp.MustCompile(`\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|P[^\x1b]*\x1b\\|.)`)

// harmless are the only sequences the prompt may write: drawing (reverse index
// included, which the renderer uses to scroll its lines), the alternate
// screen, cursor visibility and kitty keyboard flags pushed and popped. Anything
// else (a query whose reply could reach the child, a mode it would leave changed)
// fails TestPromptWritesNoQueries, also after a Bubble Tea upgrade.
var harmless = regexp.MustCompile(`^\x1b(\[[0-9;]*[ABCDEFGHJKXdmr]|\[\?1049[hl]|\[\?25[hl]|\[>[0-9]*u|\[<1?u|\[\?7[hl]|[78M])$`)

// TestPromptWritesNoQueries runs the prompt on a pseudo-terminal, as under the proxy,
// and checks every escape sequence it writes.
func TestPromptWritesNoQueries(t *testing.T) {
	// An environment in which Bubble Tea would ask the terminal about modes 2026 and
	// 2027, as it does outside ssh.
	t.Setenv("TERM", "xterm-256color")
	t.Setenv("TERM_PROGRAM", "tmux")
	t.Setenv("SSH_TTY", "") // Restored at the end; unset meanwhile.
	if err := os.Unsetenv("SSH_TTY"); err != nil {
		t.Fatal(err)
	}
	master, slave := openPTY(t)
	screen := newScreenBuf()
	go screen.readFrom(master)
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	type result struct {
		a   approval.Answer
		err error
	}
	done := make(chan result, 1)
	go func() {
		a, err := prompt.Prompt(ctx, pr, slave, uploadQuestion(), fast)
		done <- result{a, err}
	}()
	screen.waitFor(t, "automatically") // in the key list, shown once the prompt is armed
	if _, err := pw.Write([]byte("y")); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.a.Choice != approval.Allow {
		t.Fatalf("Prompt = %+v, %v; want allow", r.a, r.err)
	}
	out := screen.waitFor(t, "\x1b[?1049l")
	seqs := seqRE.FindAllString(out, -1)
	if len(seqs) < 5 {
		t.Fatalf("only %d sequences in %q", len(seqs), out)
	}
	for _, s := range seqs {
		if !harmless.MatchString(s) {
			t.Errorf("the prompt wrote %q", s)
		}
	}
}

// TestPromptLeavesLaterKeys: once the prompt has its answer it reads no more, so the
// keystrokes typed after the answer stay with the writer of its input (under the
// proxy, they go to the child).
func TestPromptLeavesLaterKeys(t *testing.T) {
	for _, tt := range []struct {
		name   string
		answer string
	}{{"after y", "y"}, {"after n", "n"}, {"after Esc as a kitty key", "\x1b[27u"}} {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			done := make(chan error, 1)
			term, _, _ := termWithText(t)
			shown := make(chan struct{})
			out := &screenWatcher{term: term, want: armed, onDrawn: func() { close(shown) }}
			go func() {
				_, err := prompt.Prompt(ctx, pr, out, uploadQuestion(), fast)
				done <- err
			}()
			<-shown
			if _, err := pw.Write([]byte(tt.answer)); err != nil {
				t.Fatal(err)
			}
			// The next keystroke is not taken: the write fails once the prompt stops
			// reading, having handed over nothing.
			n, err := pw.Write([]byte("ls\r"))
			if n != 0 || !errors.Is(err, io.ErrClosedPipe) {
				t.Fatalf("a keystroke after the answer: Write = %d, %v; want 0, ErrClosedPipe", n, err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPromptStopsReadingOnTimeout: a prompt that timed out reads no more either.
func TestPromptStopsReadingOnTimeout(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	a, err := prompt.Prompt(t.Context(), pr, io.Discard, uploadQuestion(), prompt.Options{Timeout: 20 * time.Millisecond})
	if err != nil || !a.TimedOut {
		t.Fatalf("Prompt = %+v, %v; want a timeout", a, err)
	}
	if n, err := pw.Write([]byte("x")); n != 0 || !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("after the prompt: Write = %d, %v; want 0, ErrClosedPipe", n, err)
	}
}

// screenBuf collects what a pseudo-terminal shows.
type screenBuf struct {
	ch  chan []byte
	all strings.Builder
}

func newScreenBuf() *screenBuf { return &screenBuf{ch: make(chan []byte, 64)} }

func (s *screenBuf) readFrom(r io.Reader) {
	defer close(s.ch)
	for {
		b := make([]byte, 4096)
		n, err := r.Read(b)
		if n > 0 {
			s.ch <- b[:n]
		}
		if err != nil {
			return
		}
	}
}

// waitFor returns everything shown so far once it contains want.
func (s *screenBuf) waitFor(t *testing.T, want string) string {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for !strings.Contains(s.all.String(), want) {
		select {
		case b, ok := <-s.ch:
			if !ok {
				t.Fatalf("output ended without %q: %q", want, s.all.String())
			}
			s.all.Write(b)
		case <-deadline.C:
			t.Fatalf("no %q in %q", want, s.all.String())
		}
	}
	return s.all.String()
}

// openPTY opens a pseudo-terminal of 80x24 in raw mode, as the proxy leaves the
// user's terminal, closed at the end of the test.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = slave.Close()
		_ = master.Close()
	})
	if err := pty.Setsize(slave, &pty.Winsize{Rows: 24, Cols: 80}); err != nil {
		t.Fatal(err)
	}
	if _, err := term.MakeRaw(int(slave.Fd())); err != nil {
		t.Fatal(err)
	}
	return master, slave
}
