package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/xferterm/xferterm/approval"
	"github.com/xferterm/xferterm/client"
)

// runTransfer is `xferterm transfer`: the client side of the protocol, run on the remote
// host inside a wrapped session. It talks to the terminal through /dev/tty in raw mode,
// restored on every way out (errors, Ctrl+C, SIGINT, SIGTERM, SIGHUP). Exit status: 0
// when every file made it, 1 otherwise, with the reason on stderr.
func runTransfer(args []string) int {
	cl, err := client.ParseCommandLine(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return transferFail(err)
	}
	opts := cl.Options
	if cl.PasswordFile != "" {
		secret, err := approval.ReadPasswordFile(cl.PasswordFile)
		if err != nil {
			return transferFail(err)
		}
		opts.Password = secret.Reveal()
		opts.PublicKey = os.Getenv(approval.PublicKeyEnvName)
		opts.EncodeBypass = approval.EncodeKitty1
	}

	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return transferFail(fmt.Errorf("no controlling terminal: %w", err))
	}
	defer func() { _ = tty.Close() }() // Best effort: we are exiting.
	// Not tty.Fd(): it would put the file in blocking mode, and Run needs deadlines to
	// stop its reader at the end.
	conn, err := tty.SyscallConn()
	if err != nil {
		return transferFail(err)
	}
	withFD := func(f func(fd int)) {
		_ = conn.Control(func(fd uintptr) { f(int(fd)) }) // Fails only on a closed file.
	}
	var state *term.State
	withFD(func(fd int) { state, err = term.MakeRaw(fd) })
	if err != nil {
		return transferFail(fmt.Errorf("raw mode: %w", err))
	}
	restore := func() { withFD(func(fd int) { _ = term.Restore(fd, state) }) } // Best effort.
	defer restore()

	if term.IsTerminal(int(os.Stdout.Fd())) {
		opts.Progress = client.ProgressTTY
		opts.Width = func() int {
			w := 0
			withFD(func(fd int) { w, _, _ = term.GetSize(fd) })
			if w <= 0 {
				return 80
			}
			return w
		}
	} else {
		opts.Progress = client.ProgressLines
		opts.Stdout = os.Stdout
	}

	// Signals cancel the transfer cleanly (ac=cancel), then the deferred restore runs.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	err = client.Run(ctx, newTTYConn(tty), opts)
	restore()
	if err != nil {
		return transferFail(err)
	}
	return 0
}

// transferFail prints err as "xferterm transfer: …" and returns the exit status 1.
func transferFail(err error) int {
	msg := err.Error()
	for _, p := range []string{"client: ", "approval: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	fmt.Fprintln(os.Stderr, "xferterm transfer: "+msg)
	return 1
}

// ttyConn is the client's tty: reads (and their deadlines) through the non-blocking
// file, writes through a second, blocking descriptor of /dev/tty when one can be
// opened. A pty takes a few KiB per write(2); with a non-blocking descriptor every
// partial write costs an EAGAIN, a trip through the netpoller and a goroutine wake-up,
// which on a busy machine cost more than the bytes. A blocking write(2) waits in the
// kernel until the whole buffer is in. It cannot be interrupted by a deadline: at the
// end the client waits a bounded time for a stuck write, then exits anyway.
type ttyConn struct {
	*os.File          // reads, read deadlines
	w        *os.File // blocking writes; nil: writes go to File
}

func newTTYConn(tty *os.File) *ttyConn {
	c := &ttyConn{File: tty}
	fd, err := syscall.Open("/dev/tty", syscall.O_WRONLY|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err == nil {
		c.w = os.NewFile(uintptr(fd), "/dev/tty") // Blocking: os.NewFile keeps it so.
	}
	return c
}

func (c *ttyConn) Write(p []byte) (int, error) {
	if c.w == nil {
		return c.File.Write(p)
	}
	return c.w.Write(p)
}

// SetWriteDeadline applies to the non-blocking descriptor only; a blocking write
// ignores it.
func (c *ttyConn) SetWriteDeadline(t time.Time) error {
	if c.w == nil {
		return c.File.SetWriteDeadline(t)
	}
	return nil
}
