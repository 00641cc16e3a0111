package client

import (
	"errors"
	"io"
	"sync"
	"time"

	"github.com/xferterm/xferterm/scanner"
)

// event is one thing that came from the tty.
type event struct {
	kind eventKind
	cmd  scanner.Command // evReply
	err  error           // evBadReply, evReadError
	text byte            // evText
}

type eventKind uint8

const (
	evReply     eventKind = iota + 1 // a well-formed OSC 5113 reply
	evBadReply                       // an OSC 5113 reply the strict parser refused
	evCancelKey                      // the user pressed Ctrl+C or Esc
	evReadError                      // the tty read failed or hit EOF
	evText                           // the user typed a printable ASCII character
	evFailed                         // a reply the reader handled itself failed the session
)

// inbox is an unbounded queue of events from the reader goroutine to the session
// loop. It is unbounded so that the reader never stops draining the tty: a terminal
// blocked writing replies could otherwise stop reading our data. Its size is bounded in
// practice by the replies our own packets provoke, and the loop drains it between writes.
type inbox struct {
	mu     sync.Mutex // guards q and closed
	q      []event
	closed bool
	ready  chan struct{} // capacity 1: a token means q may be non-empty
}

func newInbox() *inbox { return &inbox{ready: make(chan struct{}, 1)} }

func (b *inbox) push(ev event) {
	b.mu.Lock()
	if !b.closed {
		b.q = append(b.q, ev)
	}
	b.mu.Unlock()
	b.nudge()
}

// nudge wakes the session loop without an event.
func (b *inbox) nudge() {
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

// empty reports whether no event waits. Queued events are older than any the reader
// has yet to queue.
func (b *inbox) empty() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.q) == 0
}

// take removes and returns every queued event.
func (b *inbox) take() []event {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := b.q
	b.q = nil
	return q
}

// close makes later pushes no-ops.
func (b *inbox) close() {
	b.mu.Lock()
	b.closed = true
	b.q = nil
	b.mu.Unlock()
}

// readLoop reads the tty until it fails, turning OSC 5113 replies into evReply (or
// evBadReply), cancel keys into evCancelKey and, when typing (the session asks the user
// a question), typed characters into evText (see keyDetector). Every other byte (DA1
// replies, focus events) is dropped. A reply that direct handles (returns true for) is
// not queued: the session handles data packets on this goroutine, which spares a
// hand-off between goroutines per packet. It runs in its own goroutine and closes done
// when it returns.
func readLoop(r io.Reader, in *inbox, typing bool, direct func(*scanner.Command) bool, done chan<- struct{}) {
	defer close(done)
	keys := &keyDetector{cancel: func() { in.push(event{kind: evCancelKey}) }}
	if typing {
		keys.text = func(b byte) { in.push(event{kind: evText, text: b}) }
	}
	sc := scanner.New(keys, func(p []byte, err error) {
		if err != nil {
			in.push(event{kind: evBadReply, err: &ReplyError{Reason: err.Error()}})
			return
		}
		cmd, err := ParseStrict(p)
		if err != nil {
			in.push(event{kind: evBadReply, err: err})
			return
		}
		if direct != nil && direct(&cmd) {
			return
		}
		in.push(event{kind: evReply, cmd: cmd})
	}, 0)
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			_, _ = sc.Write(buf[:n]) // keyDetector never fails.
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			in.push(event{kind: evReadError, err: err})
			return
		}
	}
}

// writer owns tty writes: one goroutine writes the buffers handed to it, one at a time,
// so that the session loop can keep reading replies, timers and keys while a write is
// blocked by backpressure.
type writer struct {
	reqs chan []byte
	done chan error // one result per buffer
	busy bool       // owned by the session loop: a buffer is being written
	exit chan struct{}
}

func startWriter(w io.Writer) *writer {
	wr := &writer{reqs: make(chan []byte), done: make(chan error, 1), exit: make(chan struct{})}
	go func() {
		defer close(wr.exit)
		for b := range wr.reqs {
			_, err := w.Write(b)
			wr.done <- err
		}
	}()
	return wr
}

// send hands b to the writer goroutine. The caller must not be busy already, and must
// not touch b until the result arrives on done.
func (w *writer) send(b []byte) {
	w.busy = true
	w.reqs <- b
}

// stop ends the writer goroutine once its current write returns.
func (w *writer) stop() { close(w.reqs) }

// deadliner is implemented by ttys whose blocked reads and writes can be interrupted
// (an *os.File for /dev/tty).
type deadliner interface {
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}
