package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xferterm/xferterm/internal/safestring"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// writeChunk is roughly how many bytes of escape sequences go into one tty write.
const writeChunk = 64 << 10

// machine is one direction's protocol state. Its methods are called by the session
// loop goroutine only.
type machine interface {
	// handle processes one reply addressed to this session.
	handle(cmd *scanner.Command) error
	// fill appends output that may be written now (commands, data packets) to dst,
	// about writeChunk bytes at most, and returns dst unchanged when there is none.
	fill(dst []byte) ([]byte, error)
	// finished reports that everything, finish included, has been queued.
	finished() bool
	// result is the outcome once finished (nil, or a *FailedError).
	result() error
	// started reports whether the terminal knows the session (so a cancel means something).
	started() bool
	// waiting says what the session waits for, for a timeout message.
	waiting() string
	// cleanup releases files and removes temporary files. It may be called more than once.
	cleanup()
	// quiet reports whether cmd, a reply for this session, only moves data into a file
	// being received: handling it changes nothing that fill, finished or waiting look
	// at, unless a file fails (failures).
	quiet(cmd *scanner.Command) bool
	// failures counts the files that have failed so far.
	failures() int
}

// typist is implemented by a machine that reads what the user types (the
// --confirm-paths question). typed gets each printable character; an error ends the
// session like a protocol error does. asking reports that the machine waits for the
// user, not for the terminal: the idle timeout does not run meanwhile (the real client
// has no timeout there either).
type typist interface {
	typed(c byte) error
	asking() bool
}

// pacer is implemented by a machine that waits for acknowledgements before it writes
// more (pacing.go). While it waits, what it writes (a probe) is no sign of progress.
type pacer interface {
	waitingForAcks() bool
	// probeID is the session id its probes use; probed takes a probe's answer.
	probeID() string
	probed()
}

// session is the part of a run shared by both directions: the tty reader and writer,
// the timers, the display, cancel handling. It is owned by the goroutine that called Run.
type session struct {
	// mu guards the session's state (m, disp, pending) between the loop and the reader
	// goroutine, which handles data packets itself while direct is set (handleDirect).
	mu         sync.Mutex
	direct     bool         // guarded by mu
	lastDirect atomic.Int64 // when handleDirect last handled a packet, in Unix nanoseconds

	opts Options
	id   string
	in   *inbox
	w    *writer
	m    machine
	disp *display

	buf        [2][]byte // output buffers: one may be with the writer, the other is built
	next       int
	pending    []byte // queued by queue() and not yet written
	protoWrite bool   // the write in progress carries protocol bytes
	ready      []byte // the next buffer to write, built while the writer is busy
	readyProto bool   // ready carries protocol bytes
}

// queue adds a command to the output, ahead of what fill produces.
func (s *session) queue(cmd scanner.Command) {
	s.pending = appendCommand(s.pending, s.id, cmd)
}

// Run performs the transfer described by opts over tty, the controlling terminal of
// the session (in raw mode), and returns nil when every file made it. It reads tty
// in a goroutine of its own; if tty has SetReadDeadline and SetWriteDeadline (an
// *os.File), Run interrupts that goroutine before it returns; otherwise the caller must
// close tty after Run returns to end it. Cancelling ctx cancels the transfer cleanly
// (ac=cancel, then a wait of at most Options.CancelWait for CANCELED) and Run returns
// an error wrapping ErrCanceled.
func Run(ctx context.Context, tty io.ReadWriter, opts Options) (err error) {
	opts.withDefaults()
	if opts.SessionID == "" {
		opts.SessionID = NewSessionID(os.Getpid())
	}
	if !safestring.Valid(opts.SessionID) {
		return fmt.Errorf("%w: invalid session id %q", ErrUsage, opts.SessionID)
	}
	if opts.Home == "" {
		opts.Home, _ = os.UserHomeDir() // Only ~ and Mirror mode need it; checked there.
	}
	if opts.Cwd == "" {
		if opts.Cwd, err = os.Getwd(); err != nil {
			return fmt.Errorf("client: %w", err)
		}
	}
	var pw string
	if opts.Password != "" {
		if opts.PublicKey == "" {
			return ErrNoPublicKey
		}
		if opts.EncodeBypass == nil {
			return errors.New("client: no bypass encoder")
		}
		if pw, err = opts.EncodeBypass(opts.PublicKey, opts.SessionID, opts.Password, opts.Now()); err != nil {
			return fmt.Errorf("client: cannot encrypt the password for KITTY_PUBLIC_KEY: %w", err)
		}
	}
	s := &session{opts: opts, id: opts.SessionID, in: newInbox()}
	verb := "sent"
	if opts.Direction == transfer.Receive {
		verb = "received"
	}
	s.disp = newDisplay(opts.Progress, opts.Stdout, opts.Now, opts.Width, verb)
	switch opts.Direction {
	case 0, transfer.Send:
		s.m, err = newSender(s, pw)
	case transfer.Receive:
		s.m, err = newReceiver(s, pw)
	default:
		err = fmt.Errorf("%w: bad direction", ErrUsage)
	}
	if err != nil {
		return err
	}
	defer s.m.cleanup()

	readDone := make(chan struct{})
	_, asks := s.m.(typist)
	go readLoop(tty, s.in, asks && opts.ConfirmPaths, s.handleDirect, readDone) // Typed text is only for that question.
	s.w = startWriter(tty)
	defer s.shutdown(tty, readDone)

	err = s.loop(ctx)
	s.finalDisplay(err)
	return err
}

// shutdown ends the reader and writer goroutines when tty lets it: with deadlines it
// interrupts them and waits (briefly: a tty whose deadlines do not work must not hang
// the exit).
func (s *session) shutdown(tty io.ReadWriter, readDone chan struct{}) {
	s.in.close()
	s.w.stop()
	d, ok := tty.(deadliner)
	if !ok {
		return
	}
	past := time.Unix(1, 0)
	if d.SetReadDeadline(past) != nil || d.SetWriteDeadline(past) != nil {
		return
	}
	wait := time.NewTimer(shutdownWait)
	defer wait.Stop()
	for _, done := range []<-chan struct{}{readDone, s.w.exit} {
		select {
		case <-done:
		case <-wait.C:
			return
		}
	}
	_ = d.SetReadDeadline(time.Time{}) // Best effort: leave the tty usable.
	_ = d.SetWriteDeadline(time.Time{})
}

// shutdownWait bounds the wait for the tty goroutines at the end of Run.
const shutdownWait = time.Second

// loop runs the session to its end. It holds s.mu whenever it touches the session's
// state, which the reader goroutine handles data packets under (handleDirect).
func (s *session) loop(ctx context.Context) error {
	s.mu.Lock()
	s.direct = true
	s.mu.Unlock()
	defer s.endDirect()
	idle := time.NewTimer(s.opts.Timeout)
	defer idle.Stop()
	touch := func() { idle.Reset(s.opts.Timeout) }
	var tick, pace <-chan time.Time
	if s.disp.mode == ProgressTTY {
		t := time.NewTicker(redrawEvery)
		defer t.Stop()
		tick = t.C
	}
	p, paced := s.m.(pacer)
	if paced && (s.opts.SendWindow > 0) {
		t := time.NewTicker(pacingTick)
		defer t.Stop()
		pace = t.C // A full window is probed after a while, with no event to wake us.
	}
	for {
		s.mu.Lock()
		act, err := s.step()
		s.mu.Unlock()
		switch act {
		case loopAbort:
			return s.abort(err)
		case loopDone:
			return err
		case loopAgain:
			continue
		}
		select {
		case err := <-s.w.done:
			s.w.busy = false
			if err != nil {
				return fmt.Errorf("%w: write: %w", errTTY, err)
			}
			s.mu.Lock()
			acked := !(paced && p.waitingForAcks())
			s.mu.Unlock()
			if s.protoWrite && acked {
				touch() // The terminal accepted protocol bytes: progress.
			}
		case <-s.in.ready:
			s.mu.Lock()
			progress, err := s.drain(p)
			s.mu.Unlock()
			if err != nil {
				return s.abort(err)
			}
			if progress {
				touch()
			}
		case <-idle.C:
			if left := s.opts.Timeout - time.Since(time.Unix(0, s.lastDirect.Load())); left > 0 {
				idle.Reset(left) // Data came in on the reader's goroutine meanwhile.
				continue
			}
			s.mu.Lock()
			asking := false
			if t, ok := s.m.(typist); ok {
				asking = t.asking()
			}
			waiting := s.waitingFor()
			s.mu.Unlock()
			if asking && !s.w.busy {
				touch() // A question waits for the user, for as long as it takes.
				continue
			}
			return s.abort(timeoutError(waiting, s.opts.Timeout))
		case <-ctx.Done():
			return s.abort(fmt.Errorf("%w (%v)", ErrCanceled, context.Cause(ctx)))
		case <-tick:
			// The next output() redraws if due.
		case <-pace:
			// The next output() probes if due.
		}
	}
}

// What the loop does after step.
type loopAction uint8

const (
	loopWait  loopAction = iota // wait for something to happen
	loopAgain                   // a buffer went to the writer: build the next one
	loopDone                    // the session is over, with step's error as its result
	loopAbort                   // step failed: abort the session with its error
)

// step does what the session can do without waiting: keep one buffer ready while the
// other is being written, so that reading and encoding the next packets overlaps the
// tty write (double buffering), and see whether the session is over. Called with s.mu
// held.
func (s *session) step() (loopAction, error) {
	if s.w.busy && (s.ready != nil || s.m.finished()) {
		return loopWait, nil
	}
	if s.ready == nil {
		out, protocol, err := s.output()
		if err != nil {
			return loopAbort, err
		}
		if len(out) > 0 {
			s.ready, s.readyProto = out, protocol
		}
	}
	if s.w.busy {
		return loopWait, nil
	}
	if s.ready != nil {
		s.w.send(s.ready)
		s.protoWrite, s.ready = s.readyProto, nil
		return loopAgain, nil
	}
	if s.m.finished() {
		return loopDone, s.m.result()
	}
	return loopWait, nil
}

// drain handles the queued events, and reports whether any was progress: the answer to a
// pacing probe (of p, when the machine paces) is not, as the probe asked for it. Called
// with s.mu held.
func (s *session) drain(p pacer) (progress bool, err error) {
	for _, ev := range s.in.take() {
		if p != nil && ev.kind == evReply && ev.cmd.ID == p.probeID() {
			if ev.cmd.Action == scanner.ActionStatus && ev.cmd.Status == scanner.StatusCanceled {
				p.probed()
			}
			continue
		}
		progress = true
		if err := s.dispatch(ev); err != nil {
			return progress, err
		}
	}
	return progress, nil
}

// handleDirect is called by the reader goroutine for each well-formed reply. It handles
// a data packet of a file being received (machine.quiet) right there, and reports that it
// did: one hand-off between goroutines per packet was most of the client's cost per byte
// received, and a data packet changes nothing the loop waits for. It leaves the reply to
// the loop (returns false) when events are still queued, so that replies are handled in
// the order they came, and once the loop has stopped handing over (endDirect). The loop
// hears of it only if a file failed (what it sends may change then) or the session did.
func (s *session) handleDirect(cmd *scanner.Command) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.direct || cmd.ID != s.id || !s.m.quiet(cmd) || !s.in.empty() {
		return false
	}
	s.lastDirect.Store(time.Now().UnixNano())
	failed := s.m.failures()
	err := s.m.handle(cmd)
	switch {
	case err != nil:
		s.direct = false
		s.in.push(event{kind: evFailed, err: err})
	case s.m.failures() != failed:
		s.in.nudge()
	}
	return true
}

// endDirect makes the reader queue every reply again: the loop is about to stop.
func (s *session) endDirect() {
	s.mu.Lock()
	s.direct = false
	s.mu.Unlock()
}

// waitingFor says what a timeout interrupted.
func (s *session) waitingFor() string {
	if s.w.busy {
		return "the terminal is not reading"
	}
	return s.m.waiting()
}

// output builds the next buffer to write: queued commands, then what the machine has,
// then a display redraw when due.
// It reports whether the buffer holds protocol bytes (not just a redraw).
func (s *session) output() ([]byte, bool, error) {
	b := s.buf[s.next][:0]
	b = append(b, s.pending...)
	s.pending = s.pending[:0]
	var err error
	if len(b) < writeChunk {
		b, err = s.m.fill(b)
	}
	protocol := len(b) > 0
	if s.disp.due() {
		s.disp.note = s.m.waiting()
		b = s.disp.redraw(b)
	}
	s.buf[s.next] = b
	if len(b) > 0 {
		s.next ^= 1
	}
	return b, protocol, err
}

// dispatch handles one event from the tty.
func (s *session) dispatch(ev event) error {
	switch ev.kind {
	case evCancelKey:
		return fmt.Errorf("%w by the user", ErrCanceled)
	case evReadError:
		return fmt.Errorf("%w: read: %w", errTTY, ev.err)
	case evBadReply, evFailed:
		return ev.err
	case evText:
		if t, ok := s.m.(typist); ok {
			return t.typed(ev.text)
		}
		return nil
	}
	cmd := &ev.cmd
	if cmd.ID != s.id {
		return nil // Another session's reply: ignored, as the real client does (§3).
	}
	if cmd.Action == scanner.ActionStatus && cmd.FileID == "" && cmd.Status == scanner.StatusCanceled {
		return ErrCanceledByTerminal
	}
	return s.m.handle(cmd)
}

// abort ends a session that failed with cause: unless the terminal already ended it, it
// sends ac=cancel and waits at most CancelWait for CANCELED, so that the reply does not
// land in the shell after we exit. It returns cause.
func (s *session) abort(cause error) error {
	s.endDirect()
	if !s.m.started() || errors.Is(cause, ErrCanceledByTerminal) || errors.Is(cause, ErrPermissionDenied) ||
		errors.Is(cause, errTTY) {
		return cause // Nothing to cancel, or nobody to tell.
	}
	wait := time.NewTimer(s.opts.CancelWait)
	defer wait.Stop()
	cancel := appendCommand(nil, s.id, scanner.Command{Action: scanner.ActionCancel})
	sent := false
	for {
		if !s.w.busy && !sent {
			s.w.send(cancel)
			sent = true
		}
		select {
		case err := <-s.w.done:
			s.w.busy = false
			if err != nil {
				return cause
			}
		case <-s.in.ready:
			for _, ev := range s.in.take() {
				switch {
				case ev.kind == evReadError, ev.kind == evCancelKey && errors.Is(cause, ErrCanceled):
					return cause // A second Ctrl+C does not wait any longer.
				case ev.kind == evReply && ev.cmd.ID == s.id && ev.cmd.Action == scanner.ActionStatus &&
					ev.cmd.FileID == "" && ev.cmd.Status == scanner.StatusCanceled:
					return cause
				}
			}
		case <-wait.C:
			return cause
		}
	}
}

// errTTY marks a failed tty read or write: there is nobody left to cancel with.
var errTTY = errors.New("client: terminal i/o")

// finalDisplay writes the summary (or clears the status line) at the end, waiting at
// most a moment for the tty.
func (s *session) finalDisplay(err error) {
	b := s.disp.final(nil, err)
	if len(b) == 0 {
		return
	}
	wait := time.NewTimer(time.Second)
	defer wait.Stop()
	if s.w.busy {
		select {
		case <-s.w.done:
			s.w.busy = false
		case <-wait.C:
			return
		}
	}
	s.w.send(b)
	select {
	case <-s.w.done:
		s.w.busy = false
	case <-wait.C:
	}
}
