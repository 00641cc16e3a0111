package prompt

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// maxHeldSequence bounds the escape sequence queryFilter holds back when a write ends
// inside it; a longer one is passed on as it is (no sequence it drops is that long).
const maxHeldSequence = 64

// queryFilter removes from Bubble Tea's output what would reach beyond the prompt:
//
//   - queries, whose replies the terminal types into stdin, where they could arrive
//     after the prompt has ended and so reach the child as keystrokes: DECRQM
//     (CSI ? Ps $ p, which Bubble Tea sends for modes 2026 and 2027), the kitty keyboard
//     query (CSI ? u), and, should a later Bubble Tea send them, device attributes
//     (CSI c, CSI > c, CSI = c), status reports (CSI n) and XTVERSION (CSI > q);
//   - modifyOtherKeys (CSI > 4 ; Ps m, CSI > 4 m), a setting with no stack: Bubble Tea
//     resets it when it ends, which would undo the child's own setting. The prompt
//     needs none of these: its keys are plain letters, Esc, Enter and Ctrl+C.
//
// Everything else passes through unchanged; kitty keyboard flags stay, since Bubble
// Tea pushes and pops them on its own alternate screen. A sequence split across writes
// is held back until it is complete (at most maxHeldSequence bytes). queryFilter is not
// safe for concurrent use (Bubble Tea writes from one goroutine at a time).
type queryFilter struct {
	w    io.Writer
	held []byte // the start of a CSI sequence cut by the end of the last write
}

func (f *queryFilter) Write(p []byte) (int, error) {
	n := len(p)
	if len(f.held) == 0 && bytes.IndexByte(p, 0x1b) < 0 {
		return f.w.Write(p)
	}
	in := p
	if len(f.held) > 0 {
		in = append(append([]byte(nil), f.held...), p...)
		f.held = f.held[:0]
	}
	out := make([]byte, 0, len(in))
	for len(in) > 0 {
		i := bytes.IndexByte(in, 0x1b)
		if i < 0 {
			out = append(out, in...)
			break
		}
		out = append(out, in[:i]...)
		in = in[i:]
		l, complete := csiLen(in)
		switch {
		case l == 0: // Not a CSI sequence: pass the ESC on.
			out = append(out, in[0])
			in = in[1:]
		case !complete && len(in) < maxHeldSequence:
			f.held = append(f.held[:0], in...)
			in = nil
		case complete && dropSequence(in[:l]):
			in = in[l:]
		default:
			out = append(out, in[:l]...)
			in = in[l:]
		}
	}
	if len(out) > 0 {
		if _, err := f.w.Write(out); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// csiLen returns the length of the CSI sequence at the start of p (which starts with
// ESC) and whether it is complete; 0 if p does not start a CSI sequence. An incomplete
// sequence is all of p.
func csiLen(p []byte) (int, bool) {
	if len(p) < 2 {
		return len(p), false // ESC at the end: perhaps the start of one.
	}
	if p[1] != '[' {
		return 0, false
	}
	for i := 2; i < len(p); i++ {
		switch b := p[i]; {
		case b >= 0x40 && b <= 0x7e:
			return i + 1, true
		case b < 0x20 || b > 0x7e:
			return 0, false // Malformed: not a sequence we drop; pass it on as text.
		}
	}
	return len(p), false
}

// dropSequence reports whether the complete CSI sequence seq is one queryFilter removes.
func dropSequence(seq []byte) bool {
	body := seq[2:] // after ESC [
	final := body[len(body)-1]
	var prefix, inter byte
	if len(body) > 1 && body[0] >= 0x3c && body[0] <= 0x3f {
		prefix = body[0]
	}
	if len(body) > 1 && body[len(body)-2] >= 0x20 && body[len(body)-2] <= 0x2f {
		inter = body[len(body)-2]
	}
	switch {
	case inter == '$' && final == 'p': // DECRQM
		return true
	case inter != 0:
		return false
	case prefix == '?' && final == 'u': // kitty keyboard query
		return true
	case final == 'c' || final == 'n': // DA1/DA2/DA3, DSR
		return true
	case prefix == '>' && (final == 'q' || final == 'm'): // XTVERSION, modifyOtherKeys
		return true
	}
	return false
}

// frameGate passes Bubble Tea's output on from the first write that enters the
// alternate screen, and refuses the writes before it. It records when that first frame
// was written: the prompt is on the screen from then on (see shownAt).
//
// Bubble Tea starts its renderer's frame ticker before it renders the model's first
// view, so a tick in between (the program's goroutine held up for a frame's time, as
// under load) draws the renderer's empty initial view: an inline frame, which on the
// user's screen turns bracketed paste on, pushes kitty keyboard flags and erases
// from the start of the cursor's line to the end of the screen (CR, ED). The next
// frame then saves the cursor at column 0 as it enters the alternate screen and turns
// bracketed paste off, so that the prompt would leave neither the screen, nor the
// cursor, nor the child's modes as they were. The prompt's view is always on the
// alternate screen, so everything Bubble Tea writes before it enters it is of that
// initial view (or a query, which queryFilter drops anyway). The refused write fails
// (errNoFrame), and the renderer, which records a frame as drawn only once it has
// been written, draws the next one as its first: it enters the alternate screen and
// starts from a cleared screen. Should the program end before drawing the prompt's
// view, nothing reaches out at all.
//
// Bubble Tea writes each frame with a single Write. Write is not safe for concurrent
// use (Bubble Tea writes from one goroutine at a time); shownAt may be called from any
// goroutine.
type frameGate struct {
	w       io.Writer
	open    bool
	now     func() time.Time
	shown   atomic.Int64 // when the first frame was written, in Unix ns; 0 before
	refused func()       // a test's hook, called when a write is refused; nil in production
}

// errNoFrame is frameGate's refusal of output written before the prompt's first frame.
var errNoFrame = errors.New("prompt: output before the prompt's first frame")

// enterAltScreen is what Bubble Tea writes to enter the alternate screen (mode
// 1049, which saves the cursor) in the prompt's first frame.
var enterAltScreen = []byte("\x1b[?1049h")

func (g *frameGate) Write(p []byte) (int, error) {
	if !g.open {
		if !bytes.Contains(p, enterAltScreen) {
			if g.refused != nil {
				g.refused()
			}
			return 0, errNoFrame
		}
		g.open = true
		n, err := g.w.Write(p)
		g.shown.Store(g.now().UnixNano())
		return n, err
	}
	return g.w.Write(p)
}

// shownAt returns when the prompt's first frame was written to the terminal, or the
// zero time before that.
func (g *frameGate) shownAt() time.Time {
	if ns := g.shown.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// ackWait bounds how long the prompt's input waits for the program to handle what it
// last read before it reads more. A read that makes no message (half an escape
// sequence, a lone Esc held for Bubble Tea's 50 ms Esc timeout) is followed by the
// next read after this long.
const ackWait = 250 * time.Millisecond

// promptInput is the prompt's input. It hands Bubble Tea one read at a time, and
// reads again only once the program has handled the last one (the model calls ack), so
// that no keystroke after the answer is taken. When the prompt has its answer (the model
// calls stop), it reads no more: if in is an io.Closer it is closed, so that a read in
// progress returns at once (as io.EOF, which ends Bubble Tea's reader quietly). For an
// io.Pipe, the writer then gets back what was not read (Write returns
// io.ErrClosedPipe and the count read).
//
// Read is called by Bubble Tea's reading goroutine only; ack and stop by the program's
// event loop, and stop by Prompt.
type promptInput struct {
	r io.Reader
	c io.Closer // nil when r cannot be closed

	stopped  atomic.Bool
	stopOnce sync.Once
	done     chan struct{} // closed by stop
	acked    chan struct{} // capacity 1: the program has handled a message since the last read
	handed   bool          // owned by Read: the last read handed out bytes
	keys     bool          // owned by Read: and they were all plain keys (plainKeys)
}

func newPromptInput(in io.Reader) *promptInput {
	p := &promptInput{r: in, done: make(chan struct{}), acked: make(chan struct{}, 1)}
	p.c, _ = in.(io.Closer)
	return p
}

func (p *promptInput) Read(b []byte) (int, error) {
	switch {
	case p.handed && p.keys:
		// Those bytes become key events for certain: wait for the program however
		// long it takes under load, or a keystroke typed after the answer is lost.
		select {
		case <-p.acked:
		case <-p.done:
		}
	case p.handed:
		t := time.NewTimer(ackWait)
		select {
		case <-p.acked:
		case <-p.done:
		case <-t.C:
		}
		t.Stop()
	}
	if p.stopped.Load() {
		return 0, io.EOF
	}
	n, err := p.r.Read(b)
	if err != nil && p.stopped.Load() {
		err = io.EOF
	}
	select {
	case <-p.acked: // Handled before these bytes were read: not about them.
	default:
	}
	p.handed = n > 0
	p.keys = plainKeys(b[:n])
	return n, err
}

// plainKeys reports whether every byte of b is a key that Bubble Tea turns into a key
// event on its own (printable ASCII, Enter, Tab, Backspace, Ctrl+C, Ctrl+D), so that
// handing b out certainly makes a message. Escape sequences and UTF-8 are not counted:
// a partial one makes no message until the rest arrives.
func plainKeys(b []byte) bool {
	for _, c := range b {
		switch {
		case c >= 0x20 && c < 0x7f:
		case c == '\r', c == '\n', c == '\t', c == 0x7f, c == 0x08, c == 0x03, c == 0x04:
		default:
			return false
		}
	}
	return len(b) > 0
}

// ack tells Read that the program has handled a message.
func (p *promptInput) ack() {
	select {
	case p.acked <- struct{}{}:
	default:
	}
}

// stop ends the input; idempotent.
func (p *promptInput) stop() {
	p.stopOnce.Do(func() {
		p.stopped.Store(true)
		close(p.done)
		if p.c != nil {
			_ = p.c.Close() // Closing a pipe never fails; for others, nothing more to do.
		}
	})
}
