package approval

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/xferterm/xferterm/internal/termtext"
	"golang.org/x/term"
)

// Window size assumed when out is not a terminal whose size can be read.
const (
	defaultWidth  = 80
	defaultHeight = 24
)

// Prompt asks the user q on the terminal and returns the answer. It runs a
// Bubble Tea program that reads keys from in and draws on out; it installs no
// signal handler and never touches the process's stdin. The caller keeps the
// terminal in raw mode. If out has an Fd method and is a terminal, the
// prompt uses its size and follows resizes; otherwise it assumes 80×24.
//
// Keys: y allows; a allows all (per-file questions only); n, Esc, Ctrl+C,
// Ctrl+D and q deny. Enter alone does nothing (no default answer), so a stray Enter
// cannot allow a transfer. If nobody answers within timeout, the answer is
// Deny with TimedOut set. If ctx ends first, or the program fails, Prompt
// returns Deny and an error.
//
// Screen: the prompt is drawn on the alternate screen, which is left when the
// prompt ends, so the user's screen content and cursor position are exactly
// as before (xterm mode 1049 saves and restores the cursor). Bubble Tea
// pushes kitty keyboard flags on the alternate screen and pops them before
// leaving it, and bracketed paste is left alone. It hides the cursor while
// the prompt is up and shows it at the end: a caller that knows the child had
// hidden it (the kitten does) hides it again (proxy.Console does). The
// prompt sends the terminal no query, so no reply can arrive after it has
// ended, and it never touches modifyOtherKeys (see queryFilter).
//
// Input: keys already waiting in in when the prompt starts count as
// answers, though the user has not seen the question yet, so feed in only
// keys typed after Prompt was called (proxy.Console.Borrow does; the first
// frame follows within about 16 ms). Prompt reads one chunk of in at a time
// and reads again only once the program has handled it; once it has its
// answer it reads no more: if in is an io.Closer, Prompt closes it then (and
// in any case before it returns), so that a read left waiting does not take
// the next keystroke; for an io.Pipe, the writer gets back what was not
// read. Only bytes that arrived in the same chunk as the answer (a paste, or
// keys typed within the same millisecond) are taken with it. If in cannot
// be closed, a goroutine may still be blocked in in.Read when Prompt
// returns, and the next bytes it reads are dropped: route further input
// elsewhere first, then end in, as DESIGN.md says.
func Prompt(ctx context.Context, in io.Reader, out io.Writer, q Question, timeout time.Duration) (Answer, error) {
	if err := q.validate(); err != nil {
		return Answer{}, err
	}
	if timeout <= 0 {
		return Answer{}, errors.New("approval: prompt timeout must be positive")
	}
	input := newPromptInput(in)
	defer input.stop()
	m := newModel(q, timeout, time.Now)
	m.input = input
	p := tea.NewProgram(m,
		tea.WithContext(ctx),
		tea.WithInput(input),
		tea.WithOutput(wrapOutput(out)),
		tea.WithoutSignalHandler(),
		tea.WithWindowSize(defaultWidth, defaultHeight), // Replaced by the real size when out is a terminal (see wrapOutput).
	)
	// The clock runs here rather than in tea.Tick commands, whose timers
	// would outlive the prompt.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { runClock(p, timeout, stop) })
	final, err := p.Run()
	input.stop() // On a timeout or an error too: the answer is final.
	close(stop)
	wg.Wait() // p.Send returns once Run has returned.
	if err != nil {
		return Answer{}, fmt.Errorf("approval: prompt: %w", err)
	}
	m, ok := final.(model)
	if !ok {
		return Answer{}, errors.New("approval: prompt: unexpected final model")
	}
	if !m.done {
		return Answer{}, errors.New("approval: prompt ended without an answer")
	}
	return m.answer, nil
}

// onlcrWriter writes "\r\n" for every "\n", as a terminal's output
// processing (ONLCR) would. Bubble Tea's renderer moves to the start of the
// next line with a bare "\n" when its input is not a terminal (ours is a pipe),
// but the caller has the terminal in raw mode, where output processing is
// off. On a terminal that still has ONLCR on, "\r\r\n" does no harm.
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

// terminalOutput is the prompt's output on a terminal. Its Fd lets Bubble
// Tea read the window size and follow SIGWINCH; Read and Close (which Bubble
// Tea does not call on its output) do nothing, so the caller's file stays
// open.
type terminalOutput struct {
	io.Writer
	fd uintptr
}

func (t terminalOutput) Fd() uintptr              { return t.fd }
func (t terminalOutput) Read([]byte) (int, error) { return 0, io.EOF }
func (t terminalOutput) Close() error             { return nil }

// wrapOutput returns the writer Bubble Tea draws on: out from the first frame
// of the prompt's view on (frameGate), without queries (queryFilter), with
// ONLCR emulation, keeping out's file descriptor visible if it is a terminal.
func wrapOutput(out io.Writer) io.Writer {
	w := &frameGate{w: onlcrWriter{&queryFilter{w: out}}}
	if f, ok := out.(interface{ Fd() uintptr }); ok && term.IsTerminal(int(f.Fd())) {
		return terminalOutput{Writer: w, fd: f.Fd()}
	}
	return w
}

// runClock sends p a tickMsg every second and a timeoutMsg after timeout,
// until stop is closed.
func runClock(p *tea.Program, timeout time.Duration, stop <-chan struct{}) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	ticker := time.NewTicker(time.Second)
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
	tickMsg    struct{ t time.Time } // refresh the countdown
)

// model is the Bubble Tea model of the prompt. It is a value; Update is the
// only place state changes, and the answer is read from the final model.
type model struct {
	q        Question
	deadline time.Time // when timeoutMsg is due
	now      time.Time // last clock reading, for the countdown
	width    int
	height   int
	hint     bool // the user pressed a key that does nothing: say which keys work
	done     bool
	answer   Answer
	input    *promptInput // nil in tests of the model alone
}

func newModel(q Question, timeout time.Duration, clock func() time.Time) model {
	now := clock()
	return model{
		q:        q,
		deadline: now.Add(timeout),
		now:      now,
		width:    defaultWidth,
		height:   defaultHeight,
	}
}

// Init does nothing: Prompt's clock sends the timeout and countdown messages.
// Bubble Tea calls it once its renderer runs, before it renders the model's
// first view.
func (m model) Init() tea.Cmd {
	if testHookInit != nil {
		testHookInit()
	}
	return nil
}

// testHookInit, when not nil, is called by Init (in tests only).
var testHookInit func()

// Update handles keys, the timeout, the countdown and resizes. Besides the
// model, it changes one thing: it tells the input when a message has been
// handled, or that the answer is in (see promptInput).
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
		return m.key(msg)
	case timeoutMsg:
		return m.finish(Answer{Decision: Deny, TimedOut: true})
	case tickMsg:
		m.now = msg.t
	}
	return m, nil
}

// fromInput reports whether msg comes from what the user typed (rather than
// from the clock or the program's start-up).
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
		return m.finish(Answer{Decision: Allow})
	case "a", "A":
		if m.q.File != nil {
			return m.finish(Answer{Decision: AllowAll})
		}
	case "n", "N", "esc", "ctrl+c", "ctrl+d", "q":
		return m.finish(Answer{Decision: Deny})
	}
	// Enter and every other key: no default answer.
	m.hint = true
	return m, nil
}

func (m model) finish(a Answer) (tea.Model, tea.Cmd) {
	m.done, m.answer = true, a
	if m.input != nil {
		m.input.stop() // At once: the next keystroke is not ours.
	}
	return m, tea.Quit
}

// Text styles. Colours are downsampled (or dropped) by Bubble Tea to what
// the terminal supports.
func bold(s string) string  { return lipgloss.NewStyle().Bold(true).Render(s) }
func faint(s string) string { return lipgloss.NewStyle().Faint(true).Render(s) }
func warn(s string) string {
	return lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("9")).Render(s)
}

// View draws the question on the alternate screen. Every line is cut to the
// window width; long download lists are cut to the window height.
func (m model) View() tea.View {
	var v tea.View
	v.AltScreen = true
	v.DisableBracketedPasteMode = true
	if m.done {
		return v // Nothing flashes between the answer and leaving the alternate screen.
	}
	var lines []string
	add := func(s ...string) { lines = append(lines, s...) }
	add("", " "+bold("xferterm: file transfer request"), "")
	switch {
	case m.q.File != nil:
		add(m.fileLines()...)
	case m.q.Direction == Upload:
		add(" The remote computer wants to "+bold("SEND files to this computer")+".",
			" Files with relative names will be saved under "+m.home()+".")
	default:
		add(" The remote computer wants to "+bold("READ files from this computer")+":", "")
		add(m.itemLines()...)
	}
	add("", " Only allow transfers from computers you trust.",
		faint(" Session "+termtext.Sanitize(m.q.SessionID)), "")
	keys := " " + bold("y") + " allow   "
	if m.q.File != nil {
		keys += bold("a") + " allow all for this transfer   "
	}
	keys += bold("n") + "/" + bold("Esc") + " deny"
	add(keys, faint(" Denied automatically in "+countdown(m.deadline.Sub(m.now))+"."))
	if m.hint {
		add("", warn(" Press y to allow or n to deny."))
	}
	cut := lipgloss.NewStyle().MaxWidth(m.width)
	for i, l := range lines {
		lines[i] = cut.Render(l)
	}
	v.Content = strings.Join(lines, "\n")
	return v
}

func (m model) home() string {
	if m.q.Home == "" {
		return "the home directory"
	}
	return termtext.Sanitize(m.q.Home)
}

// fileLines describes the subject of a per-file question.
func (m model) fileLines() []string {
	f := m.q.File
	verb := "write"
	switch {
	case m.q.Direction == Download:
		verb = "read"
	case f.Exists:
		verb = "overwrite"
	}
	what := displayPath(f.Path, m.q.Home)
	if f.Type != ItemFile {
		what += " (" + f.Type.String() + ")"
	} else if f.Size >= 0 && (f.Exists || m.q.Direction == Download) {
		what += " (" + humanSize(f.Size) + ")"
	}
	lines := []string{" The remote computer wants to " + bold(verb) + " " + what + "."}
	if f.Sensitive {
		lines = append(lines, " "+warn("! "+f.Reason))
	}
	return lines
}

// fixedLines is how many lines of the screen are not the download list.
const fixedLines = 13

// itemLines lists the requested paths of a download, sensitive ones marked.
func (m model) itemLines() []string {
	room := max(m.height-fixedLines, 3)
	items := m.q.Items
	more := 0
	if len(items) > room {
		items, more = items[:room-1], len(items)-(room-1)
	}
	var lines []string
	sensitive := false
	for _, it := range items {
		mark := "  "
		if it.Sensitive {
			mark, sensitive = warn("! "), true
		}
		line := "   " + mark + fmt.Sprintf("%-4s %-19s ", shortType(it.Type), itemSize(it)) + displayPath(it.Path, m.q.Home)
		if it.Sensitive && it.Reason != "" {
			line += "  " + warn(it.Reason)
		}
		lines = append(lines, line)
	}
	if more > 0 {
		for _, it := range m.q.Items[len(items):] {
			sensitive = sensitive || it.Sensitive
		}
		lines = append(lines, fmt.Sprintf("     … and %d more", more))
	}
	if len(m.q.Items) == 0 {
		lines = append(lines, "     (the paths have not arrived yet)")
	}
	if sensitive {
		lines = append(lines, "", " "+warn("! = sensitive: private keys, hidden files or protected locations"))
	}
	return lines
}

// shortType names an item type in at most 4 cells.
func shortType(t ItemType) string {
	switch t {
	case ItemDirectory:
		return "dir"
	case ItemSymlink:
		return "link"
	}
	return "file"
}

func itemSize(it Item) string {
	if it.Type == ItemDirectory {
		if it.Files < 0 {
			return humanSize(it.Size)
		}
		return fmt.Sprintf("%d files, %s", it.Files, humanSize(it.Size))
	}
	return humanSize(it.Size)
}

// countdown formats a remaining duration as m:ss, rounding up.
func countdown(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int((d + time.Second - 1) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
