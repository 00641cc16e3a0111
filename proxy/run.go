package proxy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/internal/pollfd"
	"github.com/xferterm/xferterm/scanner"
)

// Engine serves the OSC 5113 payloads found in the child's output (fs.Engine implements
// it). The proxy calls HandlePayloadFrom from the output pump goroutine, with the
// generation of kitty's client that the bytes before the payload point to (see
// scanner.Sniffer; the proxy passes it on without looking), Pull from the pty
// writer goroutine, Running and CancelAll from the input router goroutine, Tick and
// Running from a ticker goroutine, and Close from Run's goroutine; see fs.Engine for the
// contract.
// Running reports whether an approved transfer is under way: only then is Ctrl+C the
// user's "cancel the transfer" rather than a key for the child.
type Engine interface {
	HandlePayloadFrom(p []byte, d scanner.Dialect) error
	Pull(dst []byte, max int) []byte
	Ready() <-chan struct{}
	Running() bool
	CancelAll() bool
	Tick()
	Close() error
}

// Config configures Run. The zero value relays os.Stdin and os.Stdout and removes OSC
// 5113 sequences without serving them.
type Config struct {
	// Console is the user's terminal; nil means NewConsole(os.Stdin, os.Stdout).
	Console *Console
	// Engine serves OSC 5113 payloads; nil drops them (they are still removed from the
	// output). Run closes it before returning.
	Engine Engine
	// Env holds extra "KEY=value" entries for the child's environment, such as
	// KITTY_PUBLIC_KEY. Each replaces an inherited entry with the same key.
	Env []string
	// MaxPayload caps one OSC 5113 payload; <= 0 means scanner.DefaultMaxPayload.
	MaxPayload int
	// TickInterval is how often Engine.Tick runs; <= 0 means once a second.
	TickInterval time.Duration
}

// Timings of the way out.
const (
	// hangupGrace is how long Run waits for the child to exit once it has been hung up.
	hangupGrace = 2 * time.Second
	// drainGrace is how long Run waits, after the child exited, for the output pump to
	// finish before it closes the engine and the ptmx: the pump may be stuck in a prompt
	// that nobody needs any more, or a background process may still be writing.
	drainGrace = 2 * time.Second
)

// Run runs cmd in a new pseudo-terminal and relays it to the console until it exits,
// serving OSC 5113 sequences of its output with cfg.Engine. cmd must not have been
// started; Run sets its standard streams, its session and controlling terminal, and
// adds cfg.Env to its environment (cmd.Env, or ours when nil).
//
// exitCode is what a shell would report for cmd: its exit code, 128+N when it was
// killed by signal N, 127 when it could not be found and 126 when it could not start.
// When xferterm itself receives SIGHUP, SIGTERM, SIGINT or SIGQUIT (signal N), the
// signal is forwarded to the child's process group, the child is hung up, and Run
// returns 128+N without an error. err reports what went wrong in the proxy: the command
// could not start, the terminal failed (the child is then hung up), ctx was cancelled
// (likewise), or the terminal could not be restored.
//
// On every return, including a panic in any of its goroutines, the terminal is restored
// to the state Run found it in, and cfg.Engine is closed. Run blocks until the child has
// exited, except after a hangup: the child then has hangupGrace to go.
func Run(ctx context.Context, cmd *exec.Cmd, cfg Config) (exitCode int, err error) {
	eng := cfg.Engine
	if eng != nil {
		defer func() { _ = eng.Close() }() // Idempotent; Run closes it earlier on its way out.
	}
	c := cfg.Console
	if c == nil {
		c = NewConsole(os.Stdin, os.Stdout)
	}
	if err := c.attach(); err != nil {
		return 1, err
	}
	defer c.detach()

	sigs, unsubscribe := notifySignals()
	defer unsubscribe()

	if err := c.makeRaw(); err != nil {
		return 1, err
	}
	defer func() {
		if rerr := c.restore(); rerr != nil && err == nil {
			err = rerr
		}
	}()

	cmd.Env = mergeEnv(cmd.Environ(), cfg.Env)
	ptmx, err := startPTY(cmd, c.size())
	if err != nil {
		return startFailureStatus(err), fmt.Errorf("proxy: start %s: %w", cmd.Path, err)
	}
	defer func() { _ = ptmx.Close() }() // Best effort; may be closed already by a hangup.

	s := &session{
		c: c, cmd: cmd, ptmx: ptmx, eng: eng,
		stop:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	return s.run(ctx, cfg, sigs)
}

// session is one Run after the child has started. Its fields are owned by Run's
// goroutine; the goroutines it starts own their own types.
type session struct {
	c    *Console
	cmd  *exec.Cmd
	ptmx *pollfd.File
	eng  Engine // may be nil
	pump *pump

	stop     chan struct{} // closed to end the writer, the ticker and gated writes
	stopOnce sync.Once
	exited   chan struct{} // closed when cmd.Wait has returned

	engOnce sync.Once
}

func (s *session) run(ctx context.Context, cfg Config, sigs <-chan os.Signal) (int, error) {
	// The waiter: ends when the child exits. After a hangup whose grace ran out it
	// outlives Run, until the child goes.
	go func() {
		defer close(s.exited)
		_ = s.cmd.Wait() // The status is read from cmd.ProcessState.
	}()

	wake, wakeW, err := os.Pipe()
	if err != nil {
		s.hangup(0)
		return 1, fmt.Errorf("proxy: %w", err)
	}
	defer func() { _ = wake.Close() }() // Best effort.

	p := newPump(s.ptmx, gatedWriter{c: s.c, stop: s.stop}, s.eng, cfg.MaxPayload)
	s.pump = p
	w := newPtyWriter(s.ptmx, s.eng, s.stop)
	r := &router{c: s.c, eng: s.eng, w: w, ptmx: s.ptmx, wake: int(wake.Fd())}

	var wg sync.WaitGroup
	goGuarded := func(f func()) {
		wg.Go(func() {
			defer s.c.restoreOnPanic()
			f()
		})
	}
	goGuarded(p.run)
	goGuarded(w.run)
	goGuarded(r.run)
	if s.eng != nil {
		interval := cfg.TickInterval
		if interval <= 0 {
			interval = time.Second
		}
		goGuarded(func() { s.tick(interval) })
	}

	var (
		endSig syscall.Signal
		runErr error
		hangup bool
	)
loop:
	for {
		select {
		case <-s.exited:
			break loop
		case sig := <-sigs:
			switch {
			case sig == unix.SIGWINCH:
				_ = setSize(s.ptmx, s.c.size()) // Best effort: the child keeps its old size.
			case isEndSignal(sig):
				endSig, hangup = sig.(syscall.Signal), true
				break loop
			}
		case <-p.failed:
			runErr, hangup = p.outErr, true
			break loop
		case <-ctx.Done():
			runErr, hangup = fmt.Errorf("proxy: %w", ctx.Err()), true
			break loop
		}
	}

	if hangup {
		s.hangup(endSig)
	} else {
		// The child has exited: show what it wrote last, up to EIO. A background
		// process that still writes, or a prompt nobody needs any more, gets
		// drainGrace, then is cut off as by a closing terminal.
		p.exited.Store(true)
		_ = s.ptmx.SetReadDeadline(time.Now().Add(drainIdle)) // Fails only once closed: nothing to wake.
		t := time.NewTimer(drainGrace)
		select {
		case <-p.done:
		case <-t.C:
			s.closeEngine()    // Ends a prompt or a transfer the pump may be stuck in.
			_ = s.ptmx.Close() // Ends the pump's reads; hangs up what still holds the pty.
			<-p.done
		}
		t.Stop()
	}

	// Wind down: the writer and the ticker see stop; a write into the child in progress
	// is cut short by closing the master (the pump has finished with it); the router
	// sees the wake pipe close; a borrower's pipe is closed.
	s.end()
	_ = s.ptmx.Close() // Best effort: may be closed already.
	_ = wakeW.Close()  // Best effort.
	s.closeEngine()
	s.c.detach()
	wg.Wait()
	if runErr == nil {
		runErr = p.err
	}
	if runErr == nil && p.outErr != nil && !errors.Is(p.outErr, errStopped) {
		runErr = p.outErr // The terminal failed while the pump drained the child's last output.
	}

	if endSig != 0 {
		return 128 + int(endSig), runErr
	}
	select {
	case <-s.exited:
		return exitStatus(s.cmd.ProcessState), runErr
	default:
		return 128 + int(unix.SIGHUP), runErr
	}
}

// hangup forwards sig (if not 0) to the child's process group, then hangs the child up
// as a closing terminal would: the ptmx is closed, so the kernel sends SIGHUP to the
// child's session. It waits up to hangupGrace for the child to exit.
func (s *session) hangup(sig syscall.Signal) {
	if sig != 0 {
		_ = unix.Kill(-s.cmd.Process.Pid, sig) // Best effort: it may have gone already.
	}
	s.end()            // A pump waiting for the terminal gives up.
	s.closeEngine()    // A prompt in progress ends.
	_ = s.ptmx.Close() // Interrupts the pump and the writer.
	t := time.NewTimer(hangupGrace)
	defer t.Stop()
	select {
	case <-s.exited:
	case <-t.C:
	}
}

// tick calls Engine.Tick every interval until stop, and nudges the child into redrawing
// when a prompt covered its alternate screen and no transfer is active any more.
func (s *session) tick(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.eng.Tick()
			if s.c.redraw.Load() && !s.eng.Running() {
				s.c.redraw.Store(false)
				s.nudge()
			}
		}
	}
}

// nudgeWait bounds the wait for the child's redraw at the narrower size.
const nudgeWait = time.Second

// nudge makes the child redraw its screen after a prompt: the prompt drew on the
// terminal's alternate screen and left it, so what the child (a remote tmux, an editor)
// showed there is gone until it redraws, which it does when its size changes. The pty
// is made one column narrower, then, at the child's next output (its redraw, which
// also tells that the change went through ssh, so that the two changes cannot merge into
// none on the way) or after nudgeWait, given the real size again. It is done only once
// no transfer is active: a redraw makes tmux drop what it passes through meanwhile.
func (s *session) nudge() {
	ws := s.c.size()
	if ws.Col < 2 {
		return
	}
	narrow := *ws
	narrow.Col--
	select { // A token left from an earlier nudge that timed out.
	case <-s.pump.seen:
	default:
	}
	s.pump.watch.Store(true)
	if setSize(s.ptmx, &narrow) != nil {
		s.pump.watch.Store(false)
		return
	}
	t := time.NewTimer(nudgeWait)
	defer t.Stop()
	select {
	case <-s.pump.seen:
	case <-t.C:
		s.pump.watch.Store(false)
	case <-s.stop:
	}
	_ = setSize(s.ptmx, s.c.size()) // Best effort, as for SIGWINCH.
}

func (s *session) end() { s.stopOnce.Do(func() { close(s.stop) }) }

func (s *session) closeEngine() {
	if s.eng == nil {
		return
	}
	s.engOnce.Do(func() { _ = s.eng.Close() }) // Close ends sessions; nothing to report.
}
