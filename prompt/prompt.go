package prompt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"golang.org/x/term"

	"github.com/xferterm/xferterm/approval"
	"github.com/xferterm/xferterm/transfer"
)

// Window size assumed when out is not a terminal whose size can be read.
const (
	defaultWidth  = 80
	defaultHeight = 24
)

// ArmDelay is how long the prompt must have been on the screen, with no key typed
// meanwhile, before it takes an answer. A key typed earlier (meant for the remote
// program: its own [y/N] question, say) is dropped and starts the delay again.
const ArmDelay = 500 * time.Millisecond

// clockTick is how often the prompt's clock runs: it arms the prompt and counts down.
const clockTick = 100 * time.Millisecond

// Options configure Prompt.
type Options struct {
	// Timeout is how long the question waits for an answer before it denies; <= 0
	// means approval.DefaultPromptTimeout.
	Timeout time.Duration

	// For tests (export_test.go); zero in production.
	armDelay time.Duration // instead of ArmDelay
	hooks    hooks
}

// hooks let a test step into the program's start-up; nil in production.
type hooks struct {
	init    func() // called from the model's Init: after the renderer started, before the first view
	refused func() // called when output before the first frame is refused (frameGate)
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = approval.DefaultPromptTimeout
	}
	if o.armDelay <= 0 {
		o.armDelay = ArmDelay
	}
	return o
}

// Prompt asks the user q on the terminal and returns the answer. It runs a Bubble Tea
// program that reads keys from in and draws on out; it installs no signal handler and
// never touches the process's stdin. The caller keeps the terminal in raw mode. If out
// has an Fd method and is a terminal, the prompt uses its size and follows resizes;
// otherwise it assumes 80×24.
//
// Keys: y allows; a allows all (file questions with a Scope); d denies everything for
// q.QuietFor (when offered); n, Esc, Ctrl+C, Ctrl+D and q deny. Enter alone does nothing
// (no default answer), so a stray Enter cannot allow a transfer. Keys count only once
// the prompt has been on the screen for ArmDelay with no key typed meanwhile, which the
// screen shows: the keys are listed only from then on. If nobody answers within the
// timeout, the answer is Deny with TimedOut set. If ctx ends first, or the program fails,
// Prompt returns Deny and an error (context.Cause(ctx) when ctx ended).
//
// Screen: the prompt is drawn on the alternate screen, which is left when the prompt
// ends, so the user's screen content and cursor position are exactly as before (xterm
// mode 1049 saves and restores the cursor). Bubble Tea pushes kitty keyboard flags on
// the alternate screen and pops them before leaving it, and bracketed paste is left
// alone. It hides the cursor while the prompt is up and shows it at the end: a caller
// that knows the child had hidden it (the kitten does) hides it again (proxy.Console
// does). The prompt sends the terminal no query, so no reply can arrive after it has
// ended, and it never touches modifyOtherKeys (see queryFilter).
//
// Input: Prompt reads one chunk of in at a time and reads again only once the program
// has handled it; once it has its answer it reads no more: if in is an io.Closer,
// Prompt closes it then (and in any case before it returns), so that a read left
// waiting does not take the next keystroke; for an io.Pipe, the writer gets back what
// was not read. Only bytes that arrived in the same chunk as the answer (a paste, or
// keys typed within the same millisecond) are taken with it. If in cannot be closed, a
// goroutine may still be blocked in in.Read when Prompt returns, and the next bytes it
// reads are dropped: route further input elsewhere first, then end in, as DESIGN.md
// says.
func Prompt(ctx context.Context, in io.Reader, out io.Writer, q approval.Question, opts Options) (approval.Answer, error) {
	if q.Direction != transfer.Send && q.Direction != transfer.Receive {
		return approval.Answer{}, fmt.Errorf("prompt: question has invalid direction %d", int(q.Direction))
	}
	opts = opts.withDefaults()
	input := newPromptInput(in)
	defer input.stop()
	gate := &frameGate{now: time.Now, refused: opts.hooks.refused}
	m := newModel(q, opts, time.Now, gate.shownAt)
	m.input = input
	p := tea.NewProgram(m,
		tea.WithContext(ctx),
		tea.WithInput(input),
		tea.WithOutput(wrapOutput(out, gate)),
		tea.WithoutSignalHandler(),
		tea.WithWindowSize(defaultWidth, defaultHeight), // Replaced by the real size when out is a terminal (see wrapOutput).
	)
	// The clock runs here rather than in tea.Tick commands, whose timers would outlive
	// the prompt.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { runClock(p, opts.Timeout, stop) })
	final, err := p.Run()
	input.stop() // On a timeout or an error too: the answer is final.
	close(stop)
	wg.Wait() // p.Send returns once Run has returned.
	if err != nil {
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
		return approval.Answer{}, fmt.Errorf("prompt: %w", err)
	}
	fm, ok := final.(model)
	if !ok {
		return approval.Answer{}, errors.New("prompt: unexpected final model")
	}
	if !fm.done {
		return approval.Answer{}, errors.New("prompt: ended without an answer")
	}
	return fm.answer, nil
}

// onlcrWriter writes "\r\n" for every "\n", as a terminal's output processing (ONLCR)
// would. Bubble Tea's renderer moves to the start of the next line with a bare "\n"
// when its input is not a terminal (ours is a pipe), but the caller has the terminal in
// raw mode, where output processing is off. On a terminal that still has ONLCR on,
// "\r\r\n" does no harm.
type onlcrWriter struct {
	w io.Writer
}

func (o onlcrWriter) Write(p []byte) (int, error) {
	if bytes.IndexByte(p, '\n') < 0 {
		return o.w.Write(p)
	}
	buf := make([]byte, 0, len(p)+bytes.Count(p, []byte{'\n'}))
	for _, b := range p {
		if b == '\n' {
			buf = append(buf, '\r')
		}
		buf = append(buf, b)
	}
	if _, err := o.w.Write(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// terminalOutput is the prompt's output on a terminal. Its Fd lets Bubble Tea read the
// window size and follow SIGWINCH; Read and Close (which Bubble Tea does not call on its
// output) do nothing, so the caller's file stays open.
type terminalOutput struct {
	io.Writer
	fd uintptr
}

func (t terminalOutput) Fd() uintptr              { return t.fd }
func (t terminalOutput) Read([]byte) (int, error) { return 0, io.EOF }
func (t terminalOutput) Close() error             { return nil }

// wrapOutput returns the writer Bubble Tea draws on: out from the first frame of the
// prompt's view on (gate), without queries (queryFilter), with ONLCR emulation, keeping
// out's file descriptor visible if it is a terminal.
func wrapOutput(out io.Writer, gate *frameGate) io.Writer {
	gate.w = onlcrWriter{&queryFilter{w: out}}
	if f, ok := out.(interface{ Fd() uintptr }); ok && term.IsTerminal(int(f.Fd())) {
		return terminalOutput{Writer: gate, fd: f.Fd()}
	}
	return gate
}

// runClock sends p a tickMsg every clockTick and a timeoutMsg after timeout, until
// stop is closed.
func runClock(p *tea.Program, timeout time.Duration, stop <-chan struct{}) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	ticker := time.NewTicker(clockTick)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-deadline.C:
			p.Send(timeoutMsg{})
			return
		case t := <-ticker.C:
			p.Send(tickMsg{t: t})
		}
	}
}

// Messages of the prompt model.
type (
	timeoutMsg struct{}              // the prompt timed out
	tickMsg    struct{ t time.Time } // the clock: arm, and refresh the countdown
)

// model is the Bubble Tea model of the prompt. It is a value; Update is the only place
// state changes, and the answer is read from the final model.
type model struct {
	q        approval.Question
	items    []transfer.Item // q.Items, the sensitive ones first (each in the client's order)
	nSens    int             // how many of q.Items are sensitive
	armDelay time.Duration
	clock    func() time.Time // reads the time when a key arrives
	shown    func() time.Time // when the first frame reached the terminal; zero before
	init     func()           // a test's hook; nil in production

	deadline time.Time // when timeoutMsg is due
	now      time.Time // last clock reading, for the countdown
	lastKey  time.Time // the last key typed before the prompt was armed
	armed    bool      // answers are taken (and the keys are shown)
	width    int
	height   int
	hint     bool // the user pressed a key that does nothing: say which keys work
	done     bool
	answer   approval.Answer
	input    *promptInput // nil in tests of the model alone
}

func newModel(q approval.Question, opts Options, clock, shown func() time.Time) model {
	now := clock()
	items := slices.Clone(q.Items)
	slices.SortStableFunc(items, func(a, b transfer.Item) int {
		switch {
		case a.Sensitive == b.Sensitive:
			return 0
		case a.Sensitive:
			return -1
		}
		return 1
	})
	return model{
		q:        q,
		items:    items,
		nSens:    q.Sensitive(),
		armDelay: opts.armDelay,
		clock:    clock,
		shown:    shown,
		init:     opts.hooks.init,
		deadline: now.Add(opts.Timeout),
		now:      now,
		width:    defaultWidth,
		height:   defaultHeight,
	}
}

// Init does nothing: Prompt's clock sends the timeout and clock messages. Bubble Tea
// calls it once its renderer runs, before it renders the model's first view.
func (m model) Init() tea.Cmd {
	if m.init != nil {
		m.init()
	}
	return nil
}

// Update handles keys, the timeout, the clock and resizes. Besides the model, it
// changes one thing: it tells the input when a message has been handled, or that the
// answer is in (see promptInput).
func (m model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m.input != nil && fromInput(msg) {
		defer m.input.ack()
	}
	if m.done {
		return m, nil
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		if msg.Width > 0 && msg.Height > 0 {
			m.width, m.height = msg.Width, msg.Height
		}
	case tea.KeyPressMsg:
		if !m.armed {
			m.lastKey = m.clock() // Too early: dropped, and the delay starts again.
			return m, nil
		}
		return m.key(msg)
	case timeoutMsg:
		return m.finish(approval.Answer{Choice: approval.Deny, TimedOut: true})
	case tickMsg:
		m.now = msg.t
		m.armed = m.armed || m.armedAt(msg.t)
	}
	return m, nil
}

// armedAt reports whether the prompt may take answers at time t: it has been on the
// screen for armDelay, and no key was typed in the last armDelay.
func (m model) armedAt(t time.Time) bool {
	shown := m.shown()
	return !shown.IsZero() && !t.Before(shown.Add(m.armDelay)) && !t.Before(m.lastKey.Add(m.armDelay))
}

// fromInput reports whether msg comes from what the user typed (rather than from the
// clock or the program's start-up).
func fromInput(msg tea.Msg) bool {
	switch msg.(type) {
	case tea.KeyMsg, tea.MouseMsg, tea.PasteMsg, tea.PasteStartMsg, tea.PasteEndMsg, tea.FocusMsg, tea.BlurMsg:
		return true
	}
	return false
}

func (m model) key(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	switch k.String() {
	case "y", "Y":
		return m.finish(approval.Answer{Choice: approval.Allow})
	case "a", "A":
		if m.q.File != nil && m.q.Scope != "" {
			return m.finish(approval.Answer{Choice: approval.AllowAll})
		}
	case "d", "D":
		if m.q.QuietFor > 0 {
			return m.finish(approval.Answer{Choice: approval.DenyAll})
		}
	case "n", "N", "esc", "ctrl+c", "ctrl+d", "q":
		return m.finish(approval.Answer{Choice: approval.Deny})
	}
	// Enter and every other key: no default answer.
	m.hint = true
	return m, nil
}

func (m model) finish(a approval.Answer) (tea.Model, tea.Cmd) {
	m.done, m.answer = true, a
	if m.input != nil {
		m.input.stop() // At once: the next keystroke is not ours.
	}
	return m, tea.Quit
}
