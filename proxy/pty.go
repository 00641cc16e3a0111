package proxy

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/internal/pollfd"
	"github.com/xferterm/xferterm/internal/termios"
)

// startPTY starts cmd in a new session whose controlling terminal is a new pty of size
// ws, and returns the ptmx.
func startPTY(cmd *exec.Cmd, ws *unix.Winsize) (*pollfd.File, error) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		return nil, err
	}
	defer func() { _ = tty.Close() }() // Best effort: the child has its own copy.
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, ws); err != nil {
		_ = ptmx.Close() // Best effort: already failing.
		return nil, fmt.Errorf("set size: %w", err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	cmd.SysProcAttr.Setctty = true
	cmd.SysProcAttr.Ctty = 0 // the child's stdin
	if err := cmd.Start(); err != nil {
		_ = ptmx.Close() // Best effort: already failing.
		return nil, err
	}
	m, err := takeMaster(ptmx)
	if err != nil {
		_ = cmd.Process.Kill() // Best effort: already failing.
		_ = cmd.Wait()         // Reap it; its status does not matter.
		return nil, err
	}
	return m, nil
}

// takeMaster returns the ptmx f as a pollfd.File (see package pollfd for why), on a
// duplicate of its descriptor, and closes f.
func takeMaster(f *os.File) (*pollfd.File, error) {
	defer func() { _ = f.Close() }() // Best effort: the duplicate lives on.
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dup ptmx: %w", err)
	}
	m, err := pollfd.New(fd)
	if err != nil {
		_ = unix.Close(fd) // Best effort: already failing.
		return nil, err
	}
	return m, nil
}

// setSize sets the child's window size; the kernel then sends SIGWINCH to its
// foreground process group.
func setSize(ptmx *pollfd.File, ws *unix.Winsize) error {
	return ptmx.Control(func(fd int) error { return unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, ws) })
}

// childTermios returns the termios of the child's side of the pty (read on the master).
func childTermios(ptmx *pollfd.File) (*unix.Termios, error) {
	var t *unix.Termios
	err := ptmx.Control(func(fd int) error {
		var err error
		t, err = termios.Get(fd)
		return err
	})
	return t, err
}

// exitStatus is the status a shell would report: the exit code, or 128+N when the child
// was killed by signal N.
func exitStatus(ps *os.ProcessState) int {
	if ps == nil {
		return 128 + int(unix.SIGHUP)
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// startFailureStatus is the status a shell reports for a command it cannot run: 127 when
// it is not found, 126 otherwise.
func startFailureStatus(err error) int {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		return 127
	}
	return 126
}

// mergeEnv returns base with the entries of extra ("KEY=value") added, replacing the
// entries of base with the same key.
func mergeEnv(base, extra []string) []string {
	if len(extra) == 0 {
		return base
	}
	replaced := make(map[string]bool, len(extra))
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		replaced[k] = true
	}
	out := make([]string, 0, len(base)+len(extra))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !replaced[k] {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}
