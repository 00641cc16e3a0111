package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/xferterm/xferterm/bypass"
	"github.com/xferterm/xferterm/client"
	"github.com/xferterm/xferterm/internal/passthrough"
	"github.com/xferterm/xferterm/internal/pollfd"
	"github.com/xferterm/xferterm/internal/termtext"
	"github.com/xferterm/xferterm/internal/version"
	"github.com/xferterm/xferterm/transfer"
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
	if cl.Version {
		fmt.Println(version.Read())
		return 0
	}
	opts := cl.Options
	secret, err := transferPassword(cl, os.Stdin)
	if err != nil {
		return transferFail(err)
	}
	if !secret.Empty() {
		opts.Password = secret.Reveal()
		opts.PublicKey = os.Getenv(bypass.PublicKeyEnvName)
		opts.EncodeBypass = bypass.EncodeKitty1
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

	// Signals cancel the transfer cleanly (ac=cancel), then the deferred restores run.
	// Caught from here on, so that a signal cannot skip the restore of the multiplexer.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	mux, err := passthrough.Setup(ctx, multiplexerHost())
	if err != nil {
		return transferFail(err)
	}
	defer func() {
		// A context of its own: the transfer's may have been canceled by the signal that ended it.
		if err := mux.Restore(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "xferterm transfer: "+strings.TrimPrefix(err.Error(), "passthrough: "))
		}
	}()
	if opts.Direction == transfer.Receive {
		err = mux.CheckReceive()
	} else {
		err = mux.CheckSend(opts.TransmitDeltas)
	}
	if err != nil {
		return transferFail(err)
	}
	switch mux.Kind() {
	case passthrough.Tmux:
		opts.SendWindow = passthrough.TmuxSendWindow
	case passthrough.Screen:
		opts.ReplyBudget = passthrough.ScreenReplyBudget
	}
	if opts.SessionID == "" {
		opts.SessionID = client.NewSessionID(os.Getpid())
	}
	// Before the first protocol message: a transfer that cannot reach the terminal fails
	// now, not after its timeout. The answers are read here, not left for the shell.
	if err := mux.Probe(tty, opts.SessionID+"-probe", passthrough.DefaultProbeWait); err != nil {
		passthrough.Settle(tty, settleWait) // Late answers too.
		return transferFail(err)
	}
	err = client.Run(ctx, wrapTTY(tty, mux), opts)
	if mux.Changed() {
		// Before the terminal leaves raw mode: the answer must not be echoed.
		passthrough.Settle(tty, settleWait)
	}
	restore()
	if err != nil {
		return transferFail(err)
	}
	return 0
}

// settleWait bounds the wait for the multiplexer to read the transfer's last bytes.
const settleWait = 2 * time.Second

// multiplexerHost is what passthrough.Setup needs: the environment, the session id, and
// tmux run with a bound on its time (a tmux server that does not answer must not hang
// the client).
func multiplexerHost() passthrough.Host {
	sid, err := unix.Getsid(0)
	if err != nil {
		sid = -1 // Then no pane is ours.
	}
	return passthrough.Host{
		Getenv:    os.Getenv,
		SessionID: sid,
		Run: func(ctx context.Context, name string, args ...string) (string, error) {
			ctx, cancel := context.WithTimeout(ctx, multiplexerWait)
			defer cancel()
			var stderr strings.Builder
			cmd := exec.CommandContext(ctx, name, args...)
			cmd.Stdin, cmd.Stderr = nil, &stderr
			out, err := cmd.Output()
			if err != nil {
				if msg := strings.TrimSpace(stderr.String()); msg != "" {
					return "", fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, termtext.Sanitize(msg))
				}
				return "", fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
			}
			return string(out), nil
		},
	}
}

// multiplexerWait bounds each tmux command.
const multiplexerWait = 5 * time.Second

// wrapTTY returns tty with its writes wrapped for the multiplexer, or tty itself when
// there is none. The result keeps tty's deadlines, which client.Run uses to stop.
func wrapTTY(tty *ttyConn, mux *passthrough.Session) io.ReadWriter {
	if mux.Kind() == passthrough.None {
		return tty
	}
	return &wrappedTTY{ttyConn: tty, w: mux.Wrap(tty)}
}

// wrappedTTY is a ttyConn whose writes go through a passthrough writer.
type wrappedTTY struct {
	*ttyConn
	w io.Writer
}

func (t *wrappedTTY) Write(p []byte) (int, error) { return t.w.Write(p) }

// maxBypassPassword bounds a bypass password read from standard input or a file
// descriptor, as bypass.ReadPasswordFile bounds a password file.
const maxBypassPassword = 4096

// transferPassword returns the bypass password named by --password-file or by
// --permissions-bypass (as the real client takes it, reference-client.md §1), or an
// empty Secret when neither was given. Files, given either way, must not be readable
// by group or others (bypass.ReadPasswordFile). stdin is read for "-" and for fd 0.
// Surrounding whitespace is trimmed, and an empty password is an error. No error
// contains the password.
func transferPassword(cl client.CommandLine, stdin io.Reader) (bypass.Secret, error) {
	if cl.PasswordFile != "" && cl.Bypass.Kind != client.BypassNone {
		return bypass.Secret{}, fmt.Errorf("%w: --permissions-bypass and --password-file cannot be used together", client.ErrUsage)
	}
	if cl.PasswordFile != "" {
		return bypass.ReadPasswordFile(cl.PasswordFile)
	}
	var pw, from string
	switch b := cl.Bypass; b.Kind {
	case client.BypassNone:
		return bypass.Secret{}, nil
	case client.BypassFile:
		return bypass.ReadPasswordFile(b.Path)
	case client.BypassLiteral:
		pw, from = b.Literal, "the command line"
	case client.BypassStdin:
		data, err := readBounded(stdin)
		if err != nil {
			return bypass.Secret{}, fmt.Errorf("--permissions-bypass: read standard input: %w", err)
		}
		pw, from = data, "standard input"
	case client.BypassFD:
		var data string
		var err error
		if b.FD == 0 {
			data, err = readBounded(stdin)
		} else {
			data, err = readFD(b.FD)
		}
		if err != nil {
			return bypass.Secret{}, fmt.Errorf("--permissions-bypass: read file descriptor %d: %w", b.FD, err)
		}
		pw, from = data, fmt.Sprintf("file descriptor %d", b.FD)
	default:
		return bypass.Secret{}, fmt.Errorf("--permissions-bypass: unknown source kind %d", b.Kind)
	}
	pw = strings.TrimSpace(pw)
	if pw == "" {
		return bypass.Secret{}, fmt.Errorf("--permissions-bypass: the password from %s is empty", from)
	}
	return bypass.NewSecret(pw), nil
}

// errPasswordTooLong is returned for a password over maxBypassPassword bytes.
var errPasswordTooLong = fmt.Errorf("longer than %d bytes", maxBypassPassword)

// readBounded reads r to its end, refusing more than maxBypassPassword bytes.
func readBounded(r io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBypassPassword+1))
	if err != nil {
		return "", err
	}
	if len(data) > maxBypassPassword {
		return "", errPasswordTooLong
	}
	return string(data), nil
}

// readFD reads the descriptor fd, inherited from the parent, to its end. It refuses
// descriptors that are not a file, pipe, socket or character device, so that a wrong
// number cannot reach one of the runtime's own (epoll, eventfd). It reads with read(2)
// and leaves fd open: wrapping it in an *os.File would close it when collected.
func readFD(fd int) (string, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFIFO, unix.S_IFSOCK, unix.S_IFCHR:
	default:
		return "", errors.New("not a file, pipe, socket or terminal")
	}
	var data []byte
	buf := make([]byte, 512)
	for {
		n, err := unix.Read(fd, buf)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN): // A non-blocking descriptor: wait until it is readable.
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			if _, err := unix.Poll(pfd, -1); err != nil && !errors.Is(err, unix.EINTR) {
				return "", err
			}
			continue
		case err != nil:
			return "", err
		case n == 0:
			return string(data), nil
		}
		data = append(data, buf[:n]...)
		if len(data) > maxBypassPassword {
			return "", errPasswordTooLong
		}
	}
}

// transferFail prints err as "xferterm transfer: …" and returns the exit status 1.
func transferFail(err error) int {
	msg := err.Error()
	for _, p := range []string{"client: ", "bypass: ", "passthrough: "} {
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
