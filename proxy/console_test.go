package proxy_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/internal/ptytest"
	"github.com/xferterm/xferterm/internal/termios"
	"github.com/xferterm/xferterm/proxy"
	"github.com/xferterm/xferterm/scanner"
)

func TestBorrowHoldsOutputAndTakesKeystrokes(t *testing.T) {
	ticked, tickedW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer ticked.Close()
	tm := ptytest.NewTerminal(t)
	master, slave, out := tm.Master, tm.Slave, tm.Out
	console := proxy.NewConsole(slave, slave)
	cmd := ptytest.Command("keys")
	cmd.ExtraFiles = []*os.File{tickedW}
	done := goRun(t.Context(), cmd, proxy.Config{Console: console})
	out.WaitForString(t, "READY")
	_ = tickedW.Close() // The child has its copy now.
	var pid int
	fmt.Sscanf(string(out.Bytes()[bytes.Index(out.Bytes(), []byte("READY")):]), "READY %d", &pid)
	master.Write([]byte("a"))
	out.WaitFor(t, "a at the child", func(b []byte) bool { return keysReceived(b) == "a" })

	in, w, release, err := console.Borrow(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "PROMPT")
	// The child writes while the console is borrowed: it must not show yet.
	if err := unixKill(pid, "USR1"); err != nil {
		t.Fatal(err)
	}
	if _, err := ticked.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	// Keystrokes go to the borrower.
	master.Write([]byte("y"))
	got := make([]byte, 1)
	if _, err := io.ReadFull(in, got); err != nil || string(got) != "y" {
		t.Fatalf("borrower read %q, %v; want y", got, err)
	}
	io.WriteString(w, "-END")
	release()
	release() // idempotent
	if n, err := in.Read(got); n != 0 || err != io.EOF {
		t.Errorf("after release, borrower read %d, %v; want EOF", n, err)
	}

	out.WaitForString(t, "TICK")
	o := string(out.Bytes())
	if i, j := strings.Index(o, "PROMPT-END"), strings.Index(o, "TICK"); i < 0 || i > j {
		t.Errorf("child output not held during the borrow: %q", o)
	}
	master.Write([]byte("bq"))
	waitRun(t, done)
	out.WaitFor(t, "q at the child", func(b []byte) bool { return strings.HasSuffix(keysReceived(b), "q") })
	if got := keysReceived(out.Bytes()); got != "abq" {
		t.Errorf("child received %q, want %q", got, "abq")
	}
	if _, _, _, err := console.Borrow(t.Context()); !errors.Is(err, proxy.ErrNotRunning) {
		t.Errorf("Borrow after Run: %v, want ErrNotRunning", err)
	}
	_ = slave.Close()
	_ = master.Close()
}

func TestBorrowNeedsATerminal(t *testing.T) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if _, _, _, err := proxy.NewConsole(null, null).Borrow(t.Context()); !errors.Is(err, proxy.ErrNoTerminal) {
		t.Errorf("Borrow = %v, want ErrNoTerminal", err)
	}
}

// The approver may borrow the console from inside HandlePayload, on the pump's own
// goroutine: the pump must not hold the console while it hands a payload over.
func TestBorrowFromInsideHandlePayload(t *testing.T) {
	eng := newFakeEngine(t.TempDir())
	var console *proxy.Console
	answered := make(chan error, 1)
	eng.onPayload = func(scanner.Command) bool {
		answered <- func() error {
			in, out, release, err := console.Borrow(t.Context())
			if err != nil {
				return err
			}
			defer release()
			io.WriteString(out, "ASK?")
			b := make([]byte, 1)
			if _, err := io.ReadFull(in, b); err != nil {
				return err
			}
			_, err = fmt.Fprintf(out, "ANSWER %s|", b)
			return err
		}()
		return true
	}
	tm := ptytest.NewTerminal(t)
	master, slave, out := tm.Master, tm.Slave, tm.Out
	console = proxy.NewConsole(slave, slave)
	cmd := ptytest.Command("ask")
	done := goRun(t.Context(), cmd, proxy.Config{Console: console, Engine: eng})
	out.WaitForString(t, "ASK?")
	master.Write([]byte("y"))
	if err := ptytest.Receive(t, answered, "no answer"); err != nil {
		t.Fatal(err)
	}
	out.WaitForString(t, "READY")
	master.Write([]byte("q"))
	waitRun(t, done)
	out.WaitFor(t, "q at the child", func(b []byte) bool { return strings.HasSuffix(keysReceived(b), "q") })
	o := string(out.Bytes())
	if !strings.HasPrefix(o, "beforeASK?ANSWER y|after\n") {
		t.Errorf("output %q, want the prompt between before and after", o)
	}
	if got := keysReceived(out.Bytes()); got != "q" {
		t.Errorf("child received %q, want q", got)
	}
}

// TestBorrowLeavesEarlierKeystrokes: what was typed before Borrow goes to the child,
// even when the proxy has not read it yet; the borrower gets only what is typed after.
func TestBorrowLeavesEarlierKeystrokes(t *testing.T) {
	tm := ptytest.NewTerminal(t)
	master, slave, out := tm.Master, tm.Slave, tm.Out
	console := proxy.NewConsole(slave, slave)
	cmd := ptytest.Command("keys")
	done := goRun(t.Context(), cmd, proxy.Config{Console: console})
	out.WaitForString(t, "READY")

	want := ""
	for i := range 20 {
		typed := fmt.Sprintf("<%d>", i)
		want += typed
		// The keystrokes wait in the terminal, unread, when Borrow is called.
		resume := proxy.HoldInput(console)
		if _, err := master.Write([]byte(typed)); err != nil {
			t.Fatal(err)
		}
		waitInput(t, slave, len(typed))
		type borrowed struct {
			in      io.Reader
			release func()
			err     error
		}
		got := make(chan borrowed, 1)
		go func() {
			in, _, release, err := console.Borrow(t.Context())
			got <- borrowed{in, release, err}
		}()
		resume() // The router and Borrow race for the input: either way, the same result.
		b := <-got
		if b.err != nil {
			t.Fatal(b.err)
		}
		if _, err := master.Write([]byte("y")); err != nil {
			t.Fatal(err)
		}
		first := make([]byte, 1)
		if _, err := io.ReadFull(b.in, first); err != nil || first[0] != 'y' {
			t.Fatalf("round %d: the borrower read %q, %v; want y", i, first, err)
		}
		b.release()
		out.WaitFor(t, typed+" at the child", func(o []byte) bool { return keysReceived(o) == want })
	}
	if _, err := master.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	waitRun(t, done)
}

// waitInput waits until the terminal slave holds n unread bytes of input.
func waitInput(t *testing.T, slave *os.File, n int) {
	t.Helper()
	deadline := time.Now().Add(ptytest.WaitTimeout)
	for {
		fds := []unix.PollFd{{Fd: int32(slave.Fd()), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, int(time.Until(deadline).Milliseconds())); err != nil && err != unix.EINTR {
			t.Fatal(err)
		}
		inq, err := termios.Pending(int(slave.Fd()))
		if err != nil {
			t.Fatal(err)
		}
		if inq >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the terminal holds %d bytes of input, want %d", inq, n)
		}
	}
}
