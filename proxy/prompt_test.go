package proxy_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hinshun/vt10x"

	"github.com/xferterm/xferterm/approval"
	"github.com/xferterm/xferterm/internal/ptytest"
	"github.com/xferterm/xferterm/prompt"
	"github.com/xferterm/xferterm/proxy"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// TestPromptGivesTheTerminalBack runs the real approval prompt on a borrowed console,
// as cmd/xferterm does, for a child that draws like the kitten (cursor hidden, its
// modes set), and plays the console's output on a terminal model: after the prompt,
// the screen, the cursor position, the cursor's visibility and the terminal's modes are
// those from before; the prompt sent no query whose reply could reach the child; and
// keystrokes typed as soon as the prompt is gone reach the child intact, with nothing
// else.
func TestPromptGivesTheTerminalBack(t *testing.T) {
	for _, key := range []string{"y", "n", "\x1b[27u"} {
		t.Run(fmt.Sprintf("%q", key), func(t *testing.T) {
			testPromptGivesTheTerminalBack(t, key)
		})
	}
}

func testPromptGivesTheTerminalBack(t *testing.T, key string) {
	ctx, cancel := context.WithTimeout(t.Context(), ptytest.WaitTimeout)
	defer cancel()
	eng := newFakeEngine(t.TempDir())
	var console *proxy.Console
	type result struct {
		a   approval.Answer
		err error
	}
	answered := make(chan result, 1)
	eng.onPayload = func(c scanner.Command) bool {
		in, out, release, err := console.Borrow(ctx)
		if err != nil {
			answered <- result{err: err}
			return true
		}
		a, err := prompt.Prompt(ctx, in, out, approval.Question{Direction: transfer.Send, SessionID: c.ID, Home: "/home/u"},
			prompt.Options{Timeout: time.Minute})
		release()
		answered <- result{a, err}
		return true
	}
	tm := ptytest.NewTerminal(t) // 100x30
	master, slave, out := tm.Master, tm.Slave, tm.Out
	console = proxy.NewConsole(slave, slave)
	cmd := ptytest.Command("kitten")
	done := goRun(ctx, cmd, proxy.Config{Console: console, Engine: eng})

	out.WaitForString(t, "SEND files to this computer")
	out.WaitForString(t, "automatically") // The keys are listed: the prompt takes answers.
	if _, err := master.Write([]byte(key)); err != nil {
		t.Fatal(err)
	}
	// As soon as the prompt has left its screen, before the console is given back,
	// the user types on.
	out.WaitForString(t, "\x1b[?1049l")
	if _, err := master.Write([]byte("ls\r")); err != nil {
		t.Fatal(err)
	}
	r := ptytest.Receive(t, answered, "no answer")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if want := key == "y"; r.a.Allowed() != want {
		t.Fatalf("answer %+v, want allowed %v", r.a, want)
	}
	out.WaitFor(t, "ls at the child", func(b []byte) bool { return keysReceived(b) == "ls\r" })
	if _, err := master.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	waitRun(t, done)
	out.WaitFor(t, "q at the child", func(b []byte) bool { return strings.HasSuffix(keysReceived(b), "q") })
	if got := keysReceived(out.Bytes()); got != "ls\rq" {
		t.Errorf("the child received %q, want %q", got, "ls\rq")
	}

	// The screen just before the prompt drew, and just before the child's output
	// resumed.
	stream := out.Bytes()
	promptAt := bytes.Index(stream, []byte("\x1b[?1049h"))
	afterAt := bytes.Index(stream, []byte("AFTER"))
	if promptAt < 0 || afterAt < promptAt {
		t.Fatalf("prompt at %d, child's output resumed at %d:\n%q", promptAt, afterAt, stream)
	}
	for _, q := range []string{"$p", "\x1b[?u", "\x1b[c", "\x1b[>c", "\x1b[6n", "\x1b[>4"} {
		if bytes.Contains(stream[promptAt:afterAt], []byte(q)) {
			t.Errorf("the prompt sent %q", q)
		}
	}
	before, after := playOn(t, stream[:promptAt]), playOn(t, stream[:afterAt])
	if !strings.Contains(before.String(), "half-typed line") {
		t.Fatalf("the screen before the prompt:\n%s", before.String())
	}
	if b, a := before.String(), after.String(); a != b {
		t.Errorf("screen after the prompt:\n%s\nbefore:\n%s", a, b)
	}
	if b, a := before.Cursor(), after.Cursor(); a.X != b.X || a.Y != b.Y {
		t.Errorf("cursor at %d,%d after the prompt, %d,%d before", a.X, a.Y, b.X, b.Y)
	}
	if before.CursorVisible() {
		t.Fatal("the kitten's cursor is visible before the prompt")
	}
	if after.CursorVisible() {
		t.Error("the cursor the kitten hid is visible after the prompt")
	}
	if b, a := before.Mode(), after.Mode(); a != b {
		t.Errorf("terminal modes %b after the prompt, %b before", a, b)
	}
}

// playOn plays b on a terminal model the size of the console.
func playOn(t *testing.T, b []byte) vt10x.Terminal {
	t.Helper()
	term := vt10x.New(vt10x.WithSize(100, 30), vt10x.WithWriter(io.Discard))
	if _, err := term.Write(b); err != nil {
		t.Fatal(err)
	}
	return term
}

// TestBorrowDuringSynchronizedUpdate: a child in the middle of a synchronized update
// (mode 2026) would keep a prompt from being seen until the terminal gives up waiting;
// Borrow ends the update, and release begins it again, after the child's other modes.
func TestBorrowDuringSynchronizedUpdate(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), ptytest.WaitTimeout)
	defer cancel()
	eng := newFakeEngine(t.TempDir())
	var console *proxy.Console
	eng.onPayload = func(scanner.Command) bool {
		_, out, release, err := console.Borrow(ctx)
		if err != nil {
			t.Error(err)
			return true
		}
		_, _ = io.WriteString(out, "\x1b[?25hPROMPT")
		release()
		return true
	}
	tm := ptytest.NewTerminal(t)
	master, slave, out := tm.Master, tm.Slave, tm.Out
	console = proxy.NewConsole(slave, slave)
	cmd := ptytest.Command("kitten", "KITTEN_SCREEN=\x1b[?2026h\x1b[?25ldrawing")
	done := make(chan error, 1)
	go func() {
		_, err := proxy.Run(ctx, cmd, proxy.Config{Console: console, Engine: eng})
		done <- err
	}()
	out.WaitForString(t, "AFTER")
	const want = "\x1b[?2026h\x1b[?25ldrawing" + // the child
		"\x1b[?2026l" + "\x1b[?25hPROMPT" + // Borrow, the borrower
		"\x1b[?25l\x1b[?2026h" + "AFTER" // release, the child
	if got := out.Bytes(); !bytes.HasPrefix(got, []byte(want)) {
		t.Errorf("console shows %q, want %q", got, want)
	}
	if _, err := master.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	waitRun(t, done)
}
