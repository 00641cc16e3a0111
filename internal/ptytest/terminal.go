package ptytest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/internal/termios"
)

// The size of every Terminal.
const (
	Rows = 30
	Cols = 100
)

// Terminal is a pty the test owns, as a terminal emulator owns one: what the program
// under test writes to Slave is collected in Out, and the test types into Master.
type Terminal struct {
	Master, Slave *os.File
	Out           *Output
	before        unix.Termios // Slave's settings when the Terminal was made
}

// NewTerminal opens a Terminal of Rows×Cols, starts collecting its output, and closes
// both ends at the end of the test.
func NewTerminal(t testing.TB) *Terminal {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = slave.Close()  // Best effort; a test may have closed it already.
		_ = master.Close() // Best effort: this also ends Collect.
	})
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: Rows, Col: Cols}); err != nil {
		t.Fatal(err)
	}
	before, err := termios.Get(int(slave.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	tm := &Terminal{Master: master, Slave: slave, Out: NewOutput(), before: *before}
	go tm.Out.Collect(master)
	return tm
}

// Type writes keystrokes into the terminal, as the user typing.
func (tm *Terminal) Type(t testing.TB, s string) {
	t.Helper()
	if _, err := tm.Master.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// CheckRestored fails the test unless the terminal's settings are those it had when
// it was made: what every program that borrows a terminal must leave behind.
func (tm *Terminal) CheckRestored(t testing.TB) {
	t.Helper()
	after, err := termios.Get(int(tm.Slave.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if *after != tm.before {
		t.Errorf("terminal not restored:\nbefore %+v\nafter  %+v", tm.before, *after)
	}
}

// Drain closes the test's slave, once the program under test is done with the
// terminal, waits until the master reaches EIO, and returns everything the terminal
// received.
func (tm *Terminal) Drain(t testing.TB) []byte {
	t.Helper()
	_ = tm.Slave.Close() // Best effort: only EIO at the master matters.
	tm.Out.WaitEOF(t)
	return tm.Out.Bytes()
}

// WaitExit waits for cmd, which has been started, to exit; after WaitTimeout it kills
// it (the test is failing) and reports false once it is gone.
func WaitExit(cmd *exec.Cmd) (exited bool) {
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait() // The caller reads cmd.ProcessState.
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(WaitTimeout):
		_ = cmd.Process.Kill() // Best effort: it may just have exited.
		<-done
		return false
	}
}

// OpenFDs counts this process's descriptors open on any of targets, as /proc/self/fd
// names them (a path, or e.g. "anon_inode:[eventfd]"); a target that ends in '*' matches
// every name that starts with the rest ("pipe:*"). Tests of a leak count only the kinds
// they open: other parts of the test binary open and close descriptors meanwhile.
func OpenFDs(t testing.TB, targets ...string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		name, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // closed meanwhile
		}
		for _, target := range targets {
			if prefix, ok := strings.CutSuffix(target, "*"); (ok && strings.HasPrefix(name, prefix)) || name == target {
				n++
				break
			}
		}
	}
	return n
}
