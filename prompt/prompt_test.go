package prompt_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/hinshun/vt10x"

	"github.com/xferterm/xferterm/approval"
	"github.com/xferterm/xferterm/prompt"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

var (
	keyY      = tea.KeyPressMsg{Code: 'y', Text: "y"}
	keyShiftY = tea.KeyPressMsg{Code: 'y', Text: "Y", Mod: tea.ModShift}
	keyN      = tea.KeyPressMsg{Code: 'n', Text: "n"}
	keyA      = tea.KeyPressMsg{Code: 'a', Text: "a"}
	keyD      = tea.KeyPressMsg{Code: 'd', Text: "d"}
	keyX      = tea.KeyPressMsg{Code: 'x', Text: "x"}
	keyEsc    = tea.KeyPressMsg{Code: tea.KeyEscape}
	keyEnter  = tea.KeyPressMsg{Code: tea.KeyEnter}
	keySpace  = tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	keyCtrlC  = tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
)

var t0 = time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)

// armed is the text of the key list, which the prompt shows once it takes answers.
const armed = "y  allow"

// fast is Options for tests that are not about the arming delay: a short one.
var fast = prompt.WithArmDelay(prompt.Options{Timeout: time.Minute}, 20*time.Millisecond)

func uploadQuestion() approval.Question {
	return approval.Question{Direction: transfer.Send, SessionID: "1a2b3c9f01", Home: "/home/u", QuietFor: 10 * time.Minute}
}

func fileQuestion() approval.Question {
	q := uploadQuestion()
	q.File = &transfer.Item{Path: "/home/u/.bashrc", Type: scanner.FileRegular, Size: 3277, Exists: true,
		Sensitive: true, Reason: "protected location ~/.bashrc"}
	q.Scope = "/home/u"
	return q
}

func downloadQuestion(n int) approval.Question {
	q := approval.Question{Direction: transfer.Receive, SessionID: "19170bf3", Home: "/home/u"}
	q.Items = append(q.Items,
		transfer.Item{Path: "/home/u/.ssh/id_ed25519", Type: scanner.FileRegular, Size: 411, Sensitive: true, Reason: "protected location ~/.ssh/"},
		transfer.Item{Path: "/home/u/docs/report.pdf", Type: scanner.FileRegular, Size: 1258291},
		transfer.Item{Path: "/home/u/photos", Type: scanner.FileDirectory, Size: 47290777, Files: 132},
	)
	for i := len(q.Items); i < n; i++ {
		q.Items = append(q.Items, transfer.Item{Path: "/srv/data/file", Type: scanner.FileRegular, Size: int64(i)})
	}
	return q
}

// clockAt is a clock that reads *t.
func clockAt(t *time.Time) func() time.Time { return func() time.Time { return *t } }

// newArmed returns a model of q that has been on the screen long enough to take
// answers (the clock reads t0 + 1 s), and times out after 2 minutes.
func newArmed(t *testing.T, q approval.Question) tea.Model {
	t.Helper()
	now := t0
	m := prompt.NewModel(q, prompt.Options{Timeout: 2 * time.Minute}, clockAt(&now), func() time.Time { return t0 })
	now = t0.Add(time.Second)
	m, _ = send(m, prompt.TickMsg(now))
	if !prompt.Armed(m) {
		t.Fatal("the prompt is not armed one second after it was shown")
	}
	return m
}

// send runs msgs through Update and returns the final model and the last command.
func send(m tea.Model, msgs ...tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	for _, msg := range msgs {
		m, cmd = m.Update(msg)
	}
	return m, cmd
}

var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// plain returns the view's text without styling.
func plain(m tea.Model) string { return sgr.ReplaceAllString(m.View().Content, "") }

func TestPromptKeys(t *testing.T) {
	noScope := fileQuestion()
	noScope.Scope = ""
	noQuiet := uploadQuestion()
	noQuiet.QuietFor = 0
	tests := []struct {
		name string
		q    approval.Question
		keys []tea.Msg
		want approval.Answer
		done bool
	}{
		{"y allows", uploadQuestion(), []tea.Msg{keyY}, approval.Answer{Choice: approval.Allow}, true},
		{"Y allows", uploadQuestion(), []tea.Msg{keyShiftY}, approval.Answer{Choice: approval.Allow}, true},
		{"n denies", uploadQuestion(), []tea.Msg{keyN}, approval.Answer{}, true},
		{"Esc denies", uploadQuestion(), []tea.Msg{keyEsc}, approval.Answer{}, true},
		{"Ctrl+C denies", uploadQuestion(), []tea.Msg{keyCtrlC}, approval.Answer{}, true},
		{"d denies everything", uploadQuestion(), []tea.Msg{keyD}, approval.Answer{Choice: approval.DenyAll}, true},
		{"d does nothing when not offered", noQuiet, []tea.Msg{keyD}, approval.Answer{}, false},
		{"Enter alone does nothing", uploadQuestion(), []tea.Msg{keyEnter}, approval.Answer{}, false},
		{"space does nothing", uploadQuestion(), []tea.Msg{keySpace, keyX}, approval.Answer{}, false},
		{"a does nothing in a session question", uploadQuestion(), []tea.Msg{keyA}, approval.Answer{}, false},
		{"a allows all in a file question", fileQuestion(), []tea.Msg{keyA}, approval.Answer{Choice: approval.AllowAll}, true},
		{"a does nothing without a scope", noScope, []tea.Msg{keyA}, approval.Answer{}, false},
		{"y allows one file", fileQuestion(), []tea.Msg{keyY}, approval.Answer{Choice: approval.Allow}, true},
		{"Enter then y allows", uploadQuestion(), []tea.Msg{keyEnter, keyY}, approval.Answer{Choice: approval.Allow}, true},
		{"the timeout denies", uploadQuestion(), []tea.Msg{prompt.TimeoutMsg}, approval.Answer{TimedOut: true}, true},
		{"a key after the timeout changes nothing", uploadQuestion(), []tea.Msg{prompt.TimeoutMsg, keyY}, approval.Answer{TimedOut: true}, true},
		{"the first answer stands", uploadQuestion(), []tea.Msg{keyN, keyY}, approval.Answer{}, true},
		{"a resize changes nothing", uploadQuestion(), []tea.Msg{tea.WindowSizeMsg{Width: 40, Height: 10}}, approval.Answer{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, cmd := send(newArmed(t, tt.q), tt.keys...)
			got, done := prompt.Result(m)
			if got != tt.want || done != tt.done {
				t.Fatalf("answer %+v, done %v; want %+v, done %v", got, done, tt.want, tt.done)
			}
			if tt.done && len(tt.keys) == 1 {
				if cmd == nil {
					t.Fatal("no command after the answer")
				}
				if _, ok := cmd().(tea.QuitMsg); !ok {
					t.Fatal("the answer does not quit the program")
				}
			}
			if got.Allowed() != (tt.want.Choice == approval.Allow || tt.want.Choice == approval.AllowAll) {
				t.Fatal("Allowed() disagrees with the choice")
			}
		})
	}
}

// TestPromptArming: no key answers before the prompt has been on the screen for the
// arming delay with nothing typed meanwhile (finding: a y typed 150 ms after the prompt
// appeared, meant for the remote program, approved an upload); the screen says so.
func TestPromptArming(t *testing.T) {
	if prompt.ArmDelay < 500*time.Millisecond {
		t.Fatalf("ArmDelay is %v, want at least 0.5 s", prompt.ArmDelay)
	}
	now := t0
	var shown time.Time // zero: the first frame is not on the screen yet
	m := prompt.NewModel(uploadQuestion(), prompt.Options{Timeout: time.Minute}, clockAt(&now), func() time.Time { return shown })
	step := func(d time.Duration, msgs ...tea.Msg) {
		now = now.Add(d)
		m, _ = send(m, append([]tea.Msg{prompt.TickMsg(now)}, msgs...)...)
	}
	step(0, keyY) // typed before the prompt is on the screen
	step(time.Second)
	if prompt.Armed(m) {
		t.Fatal("armed before the first frame was shown")
	}
	shown = now
	step(150*time.Millisecond, keyY) // the stray keystroke of the finding
	step(prompt.ArmDelay - time.Millisecond)
	if a, done := prompt.Result(m); done || prompt.Armed(m) {
		t.Fatalf("answered %+v, armed %v: a key in the arming delay counted, or did not restart it", a, prompt.Armed(m))
	}
	if got := plain(m); !strings.Contains(got, "Wait") || !strings.Contains(got, "0.5 s") || strings.Contains(got, armed) {
		t.Fatalf("the screen does not show that keys are not taken yet:\n%s", got)
	}
	step(time.Millisecond)
	if !prompt.Armed(m) {
		t.Fatal("not armed after the delay with nothing typed")
	}
	if got := plain(m); !strings.Contains(got, armed) || strings.Contains(got, "Wait") {
		t.Fatalf("the armed screen does not list the keys:\n%s", got)
	}
	step(0, keyY)
	if a, done := prompt.Result(m); !done || a.Choice != approval.Allow {
		t.Fatalf("answer %+v, done %v once armed", a, done)
	}
}

func TestPromptViewUpload(t *testing.T) {
	m := newArmed(t, uploadQuestion())
	v := m.View()
	if !v.AltScreen || !v.DisableBracketedPasteMode {
		t.Fatalf("view: AltScreen %v, DisableBracketedPasteMode %v; want both", v.AltScreen, v.DisableBracketedPasteMode)
	}
	got := plain(m)
	for _, want := range []string{"SEND files to this computer", "saved under /home/u", "Session 1a2b3c9f01", "y  allow", "n  deny",
		"d  deny, and every transfer request from this session for 10 minutes", "in 1:59"} {
		if !strings.Contains(got, want) {
			t.Errorf("view lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "allow it, and the rest") {
		t.Errorf("session question offers allow all:\n%s", got)
	}
	m, _ = send(m, prompt.TickMsg(t0.Add(61*time.Second+time.Millisecond)))
	if got := plain(m); !strings.Contains(got, "in 0:59") {
		t.Errorf("countdown after 61 s:\n%s", got)
	}
	m, _ = send(m, keyEnter)
	if got := plain(m); !strings.Contains(got, "Press y to allow or n to deny") {
		t.Errorf("no hint after Enter:\n%s", got)
	}
	m, _ = send(m, keyY)
	if v := m.View(); !v.AltScreen || v.Content != "" {
		t.Errorf("final view %+v: want an empty alternate screen", v)
	}
}

// TestPromptViewPerFile: a file question says why the file is sensitive, and how far
// "allow all" reaches.
func TestPromptViewPerFile(t *testing.T) {
	got := plain(newArmed(t, fileQuestion()))
	for _, want := range []string{"wants to overwrite ~/.bashrc (3.2 KiB)", "! protected location ~/.bashrc",
		"a  allow it, and the rest of this transfer in ~/ marked the same way"} {
		if !strings.Contains(got, want) {
			t.Errorf("view lacks %q:\n%s", want, got)
		}
	}
	q := fileQuestion()
	q.File = &transfer.Item{Path: "/home/u/.ssh/authorized_keys", Size: -1, Sensitive: true, Reason: "protected location ~/.ssh/"}
	q.Scope = "/home/u/.ssh"
	if got := plain(newArmed(t, q)); !strings.Contains(got, "wants to write ~/.ssh/authorized_keys.") ||
		!strings.Contains(got, "rest of this transfer in ~/.ssh/ marked") {
		t.Errorf("view:\n%s", got)
	}
	q.Scope = ""
	if got := plain(newArmed(t, q)); strings.Contains(got, "allow it, and the rest") {
		t.Errorf("allow all offered without a scope:\n%s", got)
	}
	q = downloadQuestion(0)
	q.File = &transfer.Item{Path: "/home/u/secrets", Type: scanner.FileDirectory, Size: 10, Files: 2}
	if got := plain(newArmed(t, q)); !strings.Contains(got, "wants to read ~/secrets (directory)") {
		t.Errorf("download per-file view:\n%s", got)
	}
}

func TestPromptViewDownload(t *testing.T) {
	got := plain(newArmed(t, downloadQuestion(3)))
	for _, want := range []string{
		"READ files from this computer:\n 3 paths, 1 of them sensitive (listed first):",
		"! file 411 B               ~/.ssh/id_ed25519  protected location ~/.ssh/",
		"  file 1.2 MiB             ~/docs/report.pdf",
		"  dir  132 files, 45.1 MiB ~/photos",
		"! = sensitive",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("view lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "more") {
		t.Errorf("a short list is cut:\n%s", got)
	}
	q := downloadQuestion(0)
	q.Items = nil
	if got := plain(newArmed(t, q)); !strings.Contains(got, "have not arrived yet") {
		t.Errorf("empty download list:\n%s", got)
	}
	q.Items = []transfer.Item{{Path: "/home/u/a", Size: 1}}
	q.Bypassed = true
	if got := plain(newArmed(t, q)); !strings.Contains(got, " 1 path:") || strings.Contains(got, "sensitive (listed") ||
		!strings.Contains(got, "pre-shared password") {
		t.Errorf("view:\n%s", got)
	}
}

// TestPromptLongReadListShowsSensitiveFirst: in a long read list the header counts the
// sensitive entries and they come first, so that a small window cannot push them off
// the screen (finding: a long read list hid the sensitive entries).
func TestPromptLongReadListShowsSensitiveFirst(t *testing.T) {
	q := approval.Question{Direction: transfer.Receive, SessionID: "s", Home: "/home/u"}
	for i := range 60 {
		q.Items = append(q.Items, transfer.Item{Path: "/home/u/src/file" + strconv.Itoa(i), Size: 10, Files: -1})
	}
	for _, p := range []string{"/home/u/.ssh/id_ed25519", "/home/u/.aws/credentials", "/home/u/.gnupg/secring.gpg"} {
		q.Items = append(q.Items, transfer.Item{Path: p, Size: 10, Files: -1, Sensitive: true, Reason: "protected location"})
	}
	m, _ := send(newArmed(t, q), tea.WindowSizeMsg{Width: 60, Height: 24})
	got := plain(m)
	if !strings.Contains(got, "63 paths, 3 of them sensitive (listed first)") {
		t.Errorf("the header does not count the sensitive paths:\n%s", got)
	}
	lines := strings.Split(got, "\n")
	if len(lines) > 24 {
		t.Errorf("view has %d lines for a 24-line window", len(lines))
	}
	var listed []string
	for _, l := range lines {
		for _, p := range []string{"~/.ssh/id_ed25519", "~/.aws/credentials", "~/.gnupg/secring.gpg", "~/src/file0"} {
			if strings.Contains(l, p) {
				listed = append(listed, p)
			}
		}
	}
	if want := "[~/.ssh/id_ed25519 ~/.aws/credentials ~/.gnupg/secring.gpg ~/src/file0]"; strings.Join(listed, " ") != want[1:len(want)-1] {
		t.Errorf("listed in this order: %v, want %s:\n%s", listed, want, got)
	}
	if !strings.Contains(got, "more") {
		t.Errorf("a long list is not cut:\n%s", got)
	}
	for _, l := range strings.Split(m.View().Content, "\n") {
		if w := lipgloss.Width(l); w > 60 {
			t.Errorf("line %q is %d cells wide, window is 60", l, w)
		}
	}
	// Even a tiny window shows the count and the first sensitive entry.
	m, _ = send(m, tea.WindowSizeMsg{Width: 200, Height: 10})
	if got := plain(m); !strings.Contains(got, "3 of them sensitive") || !strings.Contains(got, "~/.ssh/id_ed25519") {
		t.Errorf("tiny window:\n%s", got)
	}
}

func TestPromptSanitizesPeerText(t *testing.T) {
	evil := "/home/u/\x1b]52;c;ZXZpbA==\x07x\u202egnp.exe\x9b2J"
	q := downloadQuestion(0)
	q.SessionID = "id\x1b[2J"
	q.Items = []transfer.Item{{Path: evil, Size: 1}}
	m, _ := send(newArmed(t, q), tea.WindowSizeMsg{Width: 200, Height: 24})
	got := plain(m)
	if strings.ContainsAny(got, "\x1b\x07\u202e\u009b") {
		t.Fatalf("peer text reached the screen raw:\n%q", got)
	}
	for _, want := range []string{`~/\x1b]52;c;ZXZpbA==\x07x\u{202e}gnp.exe\x9b2J`, `Session id\x1b[2J`} {
		if !strings.Contains(got, want) {
			t.Errorf("view lacks %q:\n%s", want, got)
		}
	}
}

// TestPromptProgram runs the real Bubble Tea program.
func TestPromptProgram(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	t.Run("y allows once the keys are shown", func(t *testing.T) {
		term, _, _ := termWithText(t)
		pr, pw := io.Pipe()
		defer pw.Close()
		out := &screenWatcher{term: term, want: armed, onDrawn: func() { _, _ = pw.Write([]byte("y")) }}
		a, err := prompt.Prompt(ctx, pr, out, uploadQuestion(), fast)
		if err != nil || a != (approval.Answer{Choice: approval.Allow}) {
			t.Fatalf("Prompt = %+v, %v; want allow", a, err)
		}
		s := string(out.bytes())
		enter, leave := strings.Index(s, "\x1b[?1049h"), strings.LastIndex(s, "\x1b[?1049l")
		if enter < 0 || leave < enter {
			t.Fatalf("output does not enter then leave the alternate screen:\n%q", s)
		}
	})
	t.Run("keys waiting when the prompt starts do not answer", func(t *testing.T) {
		a, err := prompt.Prompt(ctx, strings.NewReader("yyyy"), &bytes.Buffer{}, uploadQuestion(),
			prompt.WithArmDelay(prompt.Options{Timeout: 300 * time.Millisecond}, 20*time.Millisecond))
		if err != nil || a != (approval.Answer{Choice: approval.Deny, TimedOut: true}) {
			t.Fatalf("Prompt = %+v, %v; want a timeout", a, err)
		}
	})
	t.Run("Enter alone then silence times out", func(t *testing.T) {
		a, err := prompt.Prompt(ctx, strings.NewReader("\r"), &bytes.Buffer{}, uploadQuestion(), prompt.Options{Timeout: 50 * time.Millisecond})
		if err != nil || a != (approval.Answer{Choice: approval.Deny, TimedOut: true}) {
			t.Fatalf("Prompt = %+v, %v; want a timeout", a, err)
		}
	})
	t.Run("a cancelled context denies with its cause", func(t *testing.T) {
		cctx, ccancel := context.WithCancelCause(ctx)
		why := errors.New("withdrawn")
		ccancel(why)
		a, err := prompt.Prompt(cctx, strings.NewReader(""), &bytes.Buffer{}, uploadQuestion(), fast)
		if !errors.Is(err, why) || a.Allowed() {
			t.Fatalf("Prompt = %+v, %v; want deny and the cause", a, err)
		}
	})
	t.Run("a question without a direction is an error", func(t *testing.T) {
		if _, err := prompt.Prompt(ctx, strings.NewReader("y"), &bytes.Buffer{}, approval.Question{}, fast); err == nil {
			t.Error("a question without direction was asked")
		}
	})
}

// screenWatcher is the prompt's output in the tests below: it plays the
// output on a terminal model and calls onDrawn (in a new goroutine) once want
// is visible there, for example to type an answer as a user who has read the
// question would.
type screenWatcher struct {
	term    vt10x.Terminal
	want    string
	onDrawn func()
	onWrite func() // if not nil, called on every write

	mu    sync.Mutex // guards drawn and raw
	drawn string     // the screen when want first appeared
	raw   []byte     // everything written, for failure messages
}

// bytes returns everything written so far.
func (s *screenWatcher) bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.raw)
}

func (s *screenWatcher) Write(p []byte) (int, error) {
	if s.onWrite != nil {
		s.onWrite()
	}
	if _, err := s.term.Write(p); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.raw = append(s.raw, p...)
	if screen := s.term.String(); s.drawn == "" && strings.Contains(screen, s.want) {
		s.drawn = screen
		go s.onDrawn()
	}
	return len(p), nil
}

// termWithText returns an 80×24 terminal model showing some text, and its
// screen and cursor.
func termWithText(t *testing.T) (vt10x.Terminal, string, vt10x.Cursor) {
	t.Helper()
	term := vt10x.New(vt10x.WithSize(80, 24))
	before := "user@host:~$ kitten transfer -d receive notes.txt .\r\n" +
		"Scanning files…\r\n\x1b[32mcolour\x1b[m and a half-typed line"
	if _, err := term.Write([]byte(before)); err != nil {
		t.Fatal(err)
	}
	return term, term.String(), term.Cursor()
}

// checkScreen checks that the prompt has left the screen and the cursor as
// they were, and that it wrote nothing before entering the alternate screen
// and left bracketed paste alone.
func checkScreen(t *testing.T, out *screenWatcher, screen string, cursor vt10x.Cursor) {
	t.Helper()
	if got := out.term.String(); got != screen {
		t.Errorf("screen after the prompt:\n%s\nwant:\n%s", got, screen)
	}
	if got := out.term.Cursor(); got.X != cursor.X || got.Y != cursor.Y {
		t.Errorf("cursor at %d,%d after the prompt, want %d,%d", got.X, got.Y, cursor.X, cursor.Y)
	}
	out.mu.Lock()
	defer out.mu.Unlock()
	if !bytes.HasPrefix(out.raw, []byte("\x1b[?1049h")) {
		t.Error("the prompt wrote on the user's screen before entering the alternate screen")
	}
	if bytes.Contains(out.raw, []byte("\x1b[?2004")) {
		t.Error("the prompt changed bracketed paste")
	}
	if t.Failed() {
		t.Logf("the prompt wrote %q", out.raw)
	}
}

// drawEarly returns opts for a prompt whose renderer draws before the program
// renders the prompt's first view, as it does when the program's goroutine is held
// up for a frame's time, as under load (Bubble Tea starts its frame ticker first):
// Init, called in between, waits until the program has written to out, or tried to.
func drawEarly(out *screenWatcher, opts prompt.Options) prompt.Options {
	wrote := make(chan struct{})
	var once sync.Once
	signal := func() { once.Do(func() { close(wrote) }) }
	out.onWrite = signal
	return prompt.WithHooks(opts, func() { <-wrote }, signal)
}

// TestPromptRestoresScreen shows the prompt on a terminal model, answers
// once the question is visible, and checks that afterwards the screen and the
// cursor are exactly as before: with the first frame drawn at once, and with
// the renderer drawing before the program renders the prompt's view.
func TestPromptRestoresScreen(t *testing.T) {
	for _, early := range []bool{false, true} {
		name := "first view on time"
		if early {
			name = "renderer draws before the first view"
		}
		t.Run(name, func(t *testing.T) { testPromptRestoresScreen(t, early) })
	}
}

func testPromptRestoresScreen(t *testing.T, early bool) {
	for _, key := range []string{"y", "n", "\x1b[27u"} {
		t.Run(strconv.Quote(key), func(t *testing.T) {
			term, screen, cursor := termWithText(t)
			pr, pw := io.Pipe()
			typed := make(chan error, 1)
			out := &screenWatcher{term: term, want: armed, onDrawn: func() {
				_, err := pw.Write([]byte(key))
				typed <- err
			}}
			opts := fast
			if early {
				opts = drawEarly(out, opts)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			a, err := prompt.Prompt(ctx, pr, out, downloadQuestion(3), opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := <-typed; err != nil {
				t.Fatalf("typing the answer: %v", err)
			}
			_ = pw.Close() // Ends the program's input reader.
			if want := key == "y"; a.Allowed() != want {
				t.Fatalf("Prompt = %+v, want allowed %v", a, want)
			}
			for _, want := range []string{"~/.ssh/id_ed25519", "Session 19170bf3", armed} {
				if !strings.Contains(out.drawn, want) {
					t.Errorf("the prompt screen lacks %q:\n%s", want, out.drawn)
				}
			}
			checkScreen(t, out, screen, cursor)
		})
	}
	t.Run("cancelled while shown", func(t *testing.T) {
		term, screen, cursor := termWithText(t)
		pr, pw := io.Pipe()
		defer func() { _ = pw.Close() }()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		cctx, ccancel := context.WithCancel(ctx)
		out := &screenWatcher{term: term, want: "READ files from this computer", onDrawn: ccancel}
		opts := fast
		if early {
			opts = drawEarly(out, opts)
		}
		a, err := prompt.Prompt(cctx, pr, out, downloadQuestion(3), opts)
		if !errors.Is(err, context.Canceled) || a.Allowed() {
			t.Fatalf("Prompt = %+v, %v; want deny and context.Canceled", a, err)
		}
		checkScreen(t, out, screen, cursor)
	})
}

// TestPromptViewShowsWhereLinksLead (findings 1 and 8): a read through a link shows
// where it leads; a link upload shows where it would point; an existing directory's
// question shows the permissions it would get. Peer-supplied names are sanitized.
func TestPromptViewShowsWhereLinksLead(t *testing.T) {
	q := downloadQuestion(0)
	q.Items = []transfer.Item{{Path: "/home/u/photos/", Type: scanner.FileDirectory, Files: 2, Size: 800,
		Target: "/home/u/.ssh", TargetDir: true, Sensitive: true, Reason: "protected location ~/.ssh/"}}
	if got := plain(newArmed(t, q)); !strings.Contains(got, "! dir  2 files, 800 B      ~/.ssh (through ~/photos)  protected location") {
		t.Errorf("read through a link:\n%s", got)
	}
	// A target on the disk may have any name: a newline in it cannot forge a line.
	q.Items[0].Target = "/home/u/x\n   ! file 1 B ~/harmless"
	if got := plain(newArmed(t, q)); strings.Contains(got, "\n   ! file 1 B ~/harmless") {
		t.Errorf("a newline in a target forged a line:\n%s", got)
	}
	q = fileQuestion()
	q.File = &transfer.Item{Path: "/home/u/photos\x1b[2J", Type: scanner.FileSymlink, Size: -1, Target: "/home/u/.ssh",
		Sensitive: true, Reason: "link target: protected location ~/.ssh/"}
	if got := plain(newArmed(t, q)); !strings.Contains(got, "wants to write ~/photos") ||
		!strings.Contains(got, "\n The link would point to ~/.ssh.\n") || strings.Contains(got, "\x1b[2J") {
		t.Errorf("link upload:\n%q", got)
	}
	q.File = &transfer.Item{Path: "/home/u/work", Type: scanner.FileDirectory, Exists: true, Size: 4096, Mode: 0o700,
		Perm: scanner.Some(0o777), Sensitive: true, Reason: "opens an existing directory to group or others"}
	if got := plain(newArmed(t, q)); !strings.Contains(got, "wants to change the permissions of ~/work (directory).") ||
		!strings.Contains(got, "Its permissions would go from 0700 to 0777.") {
		t.Errorf("directory mode:\n%s", got)
	}
}
