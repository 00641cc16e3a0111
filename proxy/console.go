package proxy

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/xferterm/xferterm/internal/termios"
)

// Errors returned by Console.Borrow.
var (
	// ErrNoTerminal means stdin or stdout is not a terminal, so nobody can be asked.
	ErrNoTerminal = errors.New("proxy: console is not a terminal")
	// ErrNotRunning means no Run is using the console (before it starts or after it ends).
	ErrNotRunning = errors.New("proxy: console not in use by a running child")
)

// errStopped ends waits when Run is shutting down.
var errStopped = errors.New("proxy: stopped")

// Default window size when neither the terminal nor COLUMNS/LINES give one.
const (
	defaultCols = 80
	defaultRows = 24
)

// Console is the user's terminal: the proxy's stdin and stdout. cmd creates it before
// Run and passes it in Config, so that the approval prompt can Borrow it while the child
// runs. A Console is used by one Run at a time; its methods are safe for concurrent use.
type Console struct {
	// Fixed at creation.
	in, out         *os.File
	inFd, outFd     int
	inTerm, outTerm bool
	getenv          func(string) string

	// gate is held by whoever writes to out: the output pump for the length of one
	// write, a borrower for the whole borrow. A token in the channel means held.
	gate chan struct{}
	// modes follows the modes the child has set on the terminal, from what the pump
	// writes to out; guarded by gate.
	modes modeTracker

	// redraw is set when a borrow ended over the child's alternate screen, whose
	// content the terminal lost: the child should redraw it (session.nudge).
	redraw atomic.Bool

	// reading is held by the input router from just before it reads stdin until it has
	// counted what it read against owed, and by Borrow while it switches the route: so
	// that Borrow knows exactly which bytes were typed before it. A token means held.
	reading chan struct{}

	mu       sync.Mutex     // guards the fields below
	stop     chan struct{}  // closed when the current Run ends; nil when no Run
	route    *io.PipeWriter // the borrower's keystrokes; nil: keystrokes go to the child
	borrowed bool           // a borrower holds the gate
	owed     int            // bytes typed before the borrow, still unread, that go to the child

	rawMu sync.Mutex  // guards raw; never held while anything else is locked
	raw   *term.State // the state to restore; nil when the terminal is not raw
}

// NewConsole returns the Console for the terminal on in and out, normally os.Stdin and
// os.Stdout. Either may be something other than a terminal (a pipe, /dev/null): then the
// terminal is not put in raw mode and Borrow fails with ErrNoTerminal.
func NewConsole(in, out *os.File) *Console {
	c := &Console{
		in: in, out: out,
		inFd: int(in.Fd()), outFd: int(out.Fd()),
		getenv:  os.Getenv,
		gate:    make(chan struct{}, 1),
		reading: make(chan struct{}, 1),
	}
	c.inTerm = term.IsTerminal(c.inFd)
	c.outTerm = term.IsTerminal(c.outFd)
	return c
}

// IsTerminal reports whether both stdin and stdout are terminals, which is what a prompt
// needs.
func (c *Console) IsTerminal() bool { return c.inTerm && c.outTerm }

// Borrow takes the terminal for a prompt. While it is borrowed, the child's output is
// held back (the output pump stops before its next write to the terminal, so the child
// blocks once the pty buffer is full), and every keystroke goes to in instead of the
// child. out writes to the terminal directly. release gives the terminal back: keystrokes
// go to the child again, then in reaches EOF, the modes the child had set are written
// again (see below), then the child's output resumes. release is idempotent; the borrower
// must not use out after it.
//
// The borrower may close in (it is an io.Closer) once it wants no more keystrokes: the
// bytes it has not read, and every keystroke after, then go to the child at once.
//
// Modes: the Console follows, in the child's output, the few DEC private modes a
// borrower may disturb (cursor visibility, bracketed paste, focus and mouse reports,
// the alternate screen, synchronized output; see trackedMode). Borrow ends a
// synchronized update the child has begun, so that the borrower is seen; release writes
// every mode whose state is known again, so that the terminal is back in the child's
// modes whatever the borrower set (a prompt shows the cursor when it ends, for
// example). Modes that are unknown (never set by the child, or restored by sequences
// the tracker does not model) are left as the borrower leaves them. A child that was on
// the alternate screen is back on it, but the terminal has lost what it showed there:
// Run makes the child redraw it once no transfer is active any more (see
// session.nudge).
//
// Keystrokes typed before Borrow is called go to the child, even those the proxy has not
// read yet: only what is typed after Borrow reaches in. (The prompt draws its first
// frame a few milliseconds later; a key typed in between is the prompt's.)
//
// Borrow waits for the current write to the terminal to end, or for ctx. It fails with
// ErrNoTerminal when stdin or stdout is not a terminal, and with ErrNotRunning when no
// Run is relaying a child. It may be called from any goroutine, including the output
// pump's (from Engine.HandlePayloadFrom): the pump holds the terminal only while it writes.
func (c *Console) Borrow(ctx context.Context) (in io.Reader, out io.Writer, release func(), err error) {
	if !c.IsTerminal() {
		return nil, nil, nil, ErrNoTerminal
	}
	c.mu.Lock()
	stop := c.stop
	c.mu.Unlock()
	if stop == nil {
		return nil, nil, nil, ErrNotRunning
	}
	select {
	case c.gate <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, nil, ctx.Err()
	case <-stop:
		return nil, nil, nil, ErrNotRunning
	}
	// The input router is between reads: what the terminal holds now was typed before
	// the borrow, and goes to the child.
	select {
	case c.reading <- struct{}{}:
	case <-ctx.Done():
		<-c.gate
		return nil, nil, nil, ctx.Err()
	case <-stop:
		<-c.gate
		return nil, nil, nil, ErrNotRunning
	}
	pending, err := termios.Pending(c.inFd)
	if err != nil {
		pending = 0 // Then keys typed just before may reach the prompt; it still asks.
	}
	pr, pw := io.Pipe()
	c.mu.Lock()
	if c.stop != stop {
		// Run ended while we waited for the gate.
		c.mu.Unlock()
		<-c.reading
		<-c.gate
		return nil, nil, nil, ErrNotRunning
	}
	c.route, c.borrowed, c.owed = pw, true, pending
	c.mu.Unlock()
	<-c.reading
	if pause := c.modes.appendPause(nil); len(pause) > 0 {
		_, _ = c.out.Write(pause) // Best effort: the prompt shows anyway once the terminal's sync timeout ends.
	}

	var once sync.Once
	release = func() {
		once.Do(func() {
			// Keystrokes go back to the child before the pipe closes, so that a read in
			// flight is handed on rather than lost (see router.deliver).
			c.mu.Lock()
			if c.route == pw {
				c.route, c.owed = nil, 0
			}
			c.borrowed = false
			c.mu.Unlock()
			_ = pw.Close() // Never fails.
			if restore := c.modes.appendRestore(nil); len(restore) > 0 {
				_, _ = c.out.Write(restore) // Best effort: a failing terminal is the pump's to report.
			}
			if c.modes.onAltScreen() {
				c.redraw.Store(true)
			}
			<-c.gate
		})
	}
	return pr, c.out, release, nil
}

// attach marks the console as used by a Run, until detach.
func (c *Console) attach() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil {
		return errors.New("proxy: console already in use")
	}
	c.stop = make(chan struct{})
	return nil
}

// detach ends the Run's use of the console: waits in Borrow end, and a borrower's pipe is
// closed so that nothing waits on it. It is idempotent.
func (c *Console) detach() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop == nil {
		return
	}
	close(c.stop)
	c.stop = nil
	if c.route != nil {
		_ = c.route.CloseWithError(errStopped) // Never fails.
		c.route = nil
	}
}

// readIn reads stdin once, after poll(2) has found it readable. toChild is how many of
// the n bytes go to the child even while the console is borrowed: those typed before the
// borrow began. When the terminal holds bytes, it reads no more than that, so that the
// read cannot block while it holds c.reading.
func (c *Console) readIn(buf []byte) (n, toChild int, err error) {
	c.reading <- struct{}{}
	held := true
	defer func() {
		if held {
			<-c.reading
		}
	}()
	if avail, ierr := termios.Pending(c.inFd); ierr == nil && avail > 0 {
		buf = buf[:min(len(buf), avail)]
	} else {
		// End of file, a hangup, or another reader took the bytes: a read may block, so
		// it must not hold up Borrow. Bytes it returns are counted as typed after.
		<-c.reading
		held = false
	}
	n, err = unix.Read(c.inFd, buf)
	if n <= 0 {
		return 0, 0, err
	}
	if !held {
		c.reading <- struct{}{}
		held = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.route == nil {
		return n, n, err
	}
	toChild = min(c.owed, n)
	c.owed -= toChild
	return n, toChild, err
}

// feed gives p to the borrower, if there is one. It reports whether there was, and
// returns the part of p the borrower did not take because it released the console
// meanwhile: that part belongs to the child.
func (c *Console) feed(p []byte) (rest []byte, fed bool) {
	c.mu.Lock()
	pw := c.route
	c.mu.Unlock()
	if pw == nil {
		return p, false
	}
	n, err := pw.Write(p)
	if err != nil {
		return p[n:], true
	}
	return nil, true
}

// gatedWriter writes to the terminal, holding the gate for the length of each write.
type gatedWriter struct {
	c    *Console
	stop <-chan struct{} // closed when Run gives up on the terminal
}

func (w gatedWriter) Write(p []byte) (int, error) {
	select {
	case w.c.gate <- struct{}{}:
	case <-w.stop:
		return 0, errStopped
	}
	n, err := w.c.out.Write(p)
	_, _ = w.c.modes.Write(p[:n]) // Never fails.
	<-w.c.gate
	return n, err
}

// size returns the size to give the child: the terminal's (stdin's, else stdout's), else
// COLUMNS and LINES, else 80x24. Rows and columns are never 0: the kitten divides by them
// (reference-client.md §2).
func (c *Console) size() *unix.Winsize {
	for _, t := range [...]struct {
		fd int
		ok bool
	}{{c.inFd, c.inTerm}, {c.outFd, c.outTerm}} {
		if !t.ok {
			continue
		}
		ws, err := unix.IoctlGetWinsize(t.fd, unix.TIOCGWINSZ)
		if err == nil && ws.Row > 0 && ws.Col > 0 {
			return ws
		}
	}
	return &unix.Winsize{Col: envDim(c.getenv("COLUMNS"), defaultCols), Row: envDim(c.getenv("LINES"), defaultRows)}
}

func envDim(s string, def uint16) uint16 {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return def
	}
	return uint16(n)
}
