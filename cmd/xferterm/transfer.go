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
	"github.com/xferterm/xferterm/internal/pollfd"
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

	tty, err := openTTY("/dev/tty")
	if err != nil {
		return transferFail(err)
	}
	defer func() { _ = tty.Close() }() // Best effort: we are exiting.
	withFD := func(f func(fd int)) {
		_ = tty.Control(func(fd int) error { f(fd); return nil }) // Fails only once closed.
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
	err = client.Run(ctx, tty, opts)
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

// ttyConn is the client's tty, /dev/tty opened twice: reads (and their deadlines)
// through a non-blocking descriptor served by poll(2) (see package pollfd: the runtime
// poller would be woken for every chunk that arrives), writes through a second,
// blocking descriptor when one can be opened. A pty takes a few KiB per write(2); a
// blocking write(2) waits in the kernel until the whole buffer is in, where a
// non-blocking one would cost an EAGAIN and a poll(2) per piece. A blocking write cannot
// be interrupted by a deadline: at the end the client waits a bounded time for a stuck
// write, then exits anyway.
type ttyConn struct {
	*pollfd.File          // reads, read deadlines, ioctls
	w            *os.File // blocking writes; nil: writes go to File
}

// openTTY opens the terminal at path (/dev/tty: the controlling terminal) as a ttyConn.
func openTTY(path string) (*ttyConn, error) {
	const flags = syscall.O_RDWR | syscall.O_NOCTTY | syscall.O_CLOEXEC
	fd, err := syscall.Open(path, flags, 0)
	if err != nil {
		return nil, fmt.Errorf("no controlling terminal: %w", err)
	}
	f, err := pollfd.New(fd)
	if err != nil {
		_ = syscall.Close(fd) // Best effort: already failing.
		return nil, err
	}
	c := &ttyConn{File: f}
	if wfd, err := syscall.Open(path, flags&^syscall.O_RDWR|syscall.O_WRONLY, 0); err == nil {
		c.w = os.NewFile(uintptr(wfd), path) // Blocking: os.NewFile keeps it so.
	}
	return c, nil
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

// Close closes both descriptors.
func (c *ttyConn) Close() error {
	err := c.File.Close()
	if c.w != nil {
		err = errors.Join(err, c.w.Close())
	}
	return err
}
