package approval_test

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
)

var (
	keyY      = tea.KeyPressMsg{Code: 'y', Text: "y"}
	keyShiftY = tea.KeyPressMsg{Code: 'y', Text: "Y", Mod: tea.ModShift}
	keyN      = tea.KeyPressMsg{Code: 'n', Text: "n"}
	keyA      = tea.KeyPressMsg{Code: 'a', Text: "a"}
	keyX      = tea.KeyPressMsg{Code: 'x', Text: "x"}
	keyEsc    = tea.KeyPressMsg{Code: tea.KeyEscape}
	keyEnter  = tea.KeyPressMsg{Code: tea.KeyEnter}
	keySpace  = tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	keyCtrlC  = tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
)

var t0 = time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)

func uploadQuestion() approval.Question {
	return approval.Question{Direction: approval.Upload, SessionID: "1a2b3c9f01", Home: "/home/u"}
}

func fileQuestion() approval.Question {
	q := uploadQuestion()
	q.File = &approval.Item{Path: "/home/u/.bashrc", Type: approval.ItemFile, Size: 3277, Exists: true,
		Sensitive: true, Reason: "protected location ~/.bashrc"}
	return q
}

func downloadQuestion(n int) approval.Question {
	q := approval.Question{Direction: approval.Download, SessionID: "19170bf3", Home: "/home/u"}
	q.Items = append(q.Items,
		approval.Item{Path: "/home/u/.ssh/id_ed25519", Type: approval.ItemFile, Size: 411, Sensitive: true, Reason: "protected location ~/.ssh/"},
		approval.Item{Path: "/home/u/docs/report.pdf", Type: approval.ItemFile, Size: 1258291},
		approval.Item{Path: "/home/u/photos", Type: approval.ItemDirectory, Size: 47290777, Files: 132},
	)
	for i := len(q.Items); i < n; i++ {
		q.Items = append(q.Items, approval.Item{Path: "/srv/data/file", Type: approval.ItemFile, Size: int64(i)})
	}
	return q
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
	tests := []struct {
		name string
		q    approval.Question
		keys []tea.Msg
		want approval.Answer
		done bool
	}{
		{"y allows", uploadQuestion(), []tea.Msg{keyY}, approval.Answer{Decision: approval.Allow}, true},
		{"Y allows", uploadQuestion(), []tea.Msg{keyShiftY}, approval.Answer{Decision: approval.Allow}, true},
		{"n denies", uploadQuestion(), []tea.Msg{keyN}, approval.Answer{}, true},
		{"Esc denies", uploadQuestion(), []tea.Msg{keyEsc}, approval.Answer{}, true},
		{"Ctrl+C denies", uploadQuestion(), []tea.Msg{keyCtrlC}, approval.Answer{}, true},
		{"Enter alone does nothing", uploadQuestion(), []tea.Msg{keyEnter}, approval.Answer{}, false},
		{"space does nothing", uploadQuestion(), []tea.Msg{keySpace, keyX}, approval.Answer{}, false},
		{"a does nothing in a session question", uploadQuestion(), []tea.Msg{keyA}, approval.Answer{}, false},
		{"a allows all in a per-file question", fileQuestion(), []tea.Msg{keyA}, approval.Answer{Decision: approval.AllowAll}, true},
		{"y allows one file", fileQuestion(), []tea.Msg{keyY}, approval.Answer{Decision: approval.Allow}, true},
		{"Enter then y allows", uploadQuestion(), []tea.Msg{keyEnter, keyY}, approval.Answer{Decision: approval.Allow}, true},
		{"the timeout denies", uploadQuestion(), []tea.Msg{approval.PromptTimeoutMsg}, approval.Answer{TimedOut: true}, true},
		{"a key after the timeout changes nothing", uploadQuestion(), []tea.Msg{approval.PromptTimeoutMsg, keyY}, approval.Answer{TimedOut: true}, true},
		{"the first answer stands", uploadQuestion(), []tea.Msg{keyN, keyY}, approval.Answer{}, true},
		{"a resize changes nothing", uploadQuestion(), []tea.Msg{tea.WindowSizeMsg{Width: 40, Height: 10}}, approval.Answer{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := approval.NewPromptModel(tt.q, time.Minute, fixedClock(t0))
			m, cmd := send(m, tt.keys...)
			got, done := approval.PromptResult(m)
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
			if got.Allowed() != (tt.want.Decision != approval.Deny) {
				t.Fatal("Allowed() disagrees with the decision")
			}
		})
	}
}

func TestPromptViewUpload(t *testing.T) {
	m := approval.NewPromptModel(uploadQuestion(), 2*time.Minute, fixedClock(t0))
	v := m.View()
	if !v.AltScreen || !v.DisableBracketedPasteMode {
		t.Fatalf("view: AltScreen %v, DisableBracketedPasteMode %v; want both", v.AltScreen, v.DisableBracketedPasteMode)
	}
	got := plain(m)
	for _, want := range []string{"SEND files to this computer", "saved under /home/u", "Session 1a2b3c9f01", "y allow", "n/Esc deny", "in 2:00"} {
		if !strings.Contains(got, want) {
			t.Errorf("view lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "allow all") {
		t.Errorf("session question offers allow all:\n%s", got)
	}
	m, _ = send(m, approval.PromptTickMsg(t0.Add(61*time.Second+time.Millisecond)))
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

func TestPromptViewPerFile(t *testing.T) {
	got := plain(approval.NewPromptModel(fileQuestion(), time.Minute, fixedClock(t0)))
	for _, want := range []string{"wants to overwrite ~/.bashrc (3.2 KiB)", "! protected location ~/.bashrc", "a allow all for this transfer"} {
		if !strings.Contains(got, want) {
			t.Errorf("view lacks %q:\n%s", want, got)
		}
	}
	q := downloadQuestion(0)
	q.File = &approval.Item{Path: "/home/u/secrets", Type: approval.ItemDirectory, Size: 10, Files: 2}
	if got := plain(approval.NewPromptModel(q, time.Minute, fixedClock(t0))); !strings.Contains(got, "wants to read ~/secrets (directory)") {
		t.Errorf("download per-file view:\n%s", got)
	}
}

func TestPromptViewDownload(t *testing.T) {
	got := plain(approval.NewPromptModel(downloadQuestion(3), time.Minute, fixedClock(t0)))
	for _, want := range []string{
		"READ files from this computer",
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

	m := approval.NewPromptModel(downloadQuestion(50), time.Minute, fixedClock(t0))
	m, _ = send(m, tea.WindowSizeMsg{Width: 40, Height: 20})
	got = plain(m)
	if !strings.Contains(got, "… and 44 more") {
		t.Errorf("a long list is not cut to the window:\n%s", got)
	}
	lines := strings.Split(m.View().Content, "\n")
	if len(lines) > 20 {
		t.Errorf("view has %d lines for a 20-line window", len(lines))
	}
	for _, l := range lines {
		if w := lipgloss.Width(l); w > 40 {
			t.Errorf("line %q is %d cells wide, window is 40", l, w)
		}
	}

	q := downloadQuestion(0)
	q.Items = nil
	if got := plain(approval.NewPromptModel(q, time.Minute, fixedClock(t0))); !strings.Contains(got, "have not arrived yet") {
		t.Errorf("empty download list:\n%s", got)
	}
}

func TestPromptSanitizesPeerText(t *testing.T) {
	evil := "/home/u/\x1b]52;c;ZXZpbA==\x07x\u202egnp.exe\x9b2J"
	q := downloadQuestion(0)
	q.SessionID = "id\x1b[2J"
	q.Items = []approval.Item{{Path: evil, Type: approval.ItemFile, Size: 1}}
	m, _ := send(approval.NewPromptModel(q, time.Minute, fixedClock(t0)), tea.WindowSizeMsg{Width: 200, Height: 24})
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

// TestPromptProgram runs the real Bubble Tea program on byte buffers.
func TestPromptProgram(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	t.Run("y allows", func(t *testing.T) {
		var out bytes.Buffer
		a, err := approval.Prompt(ctx, strings.NewReader("y"), &out, uploadQuestion(), time.Minute)
		if err != nil || a != (approval.Answer{Decision: approval.Allow}) {
			t.Fatalf("Prompt = %+v, %v; want allow", a, err)
		}
		s := out.String()
		enter, leave := strings.Index(s, "\x1b[?1049h"), strings.LastIndex(s, "\x1b[?1049l")
		if enter < 0 || leave < enter {
			t.Fatalf("output does not enter then leave the alternate screen:\n%q", s)
		}
	})
	t.Run("Enter alone then silence times out", func(t *testing.T) {
		a, err := approval.Prompt(ctx, strings.NewReader("\r"), &bytes.Buffer{}, uploadQuestion(), 50*time.Millisecond)
		if err != nil || a != (approval.Answer{Decision: approval.Deny, TimedOut: true}) {
			t.Fatalf("Prompt = %+v, %v; want a timeout", a, err)
		}
	})
	t.Run("a cancelled context denies with an error", func(t *testing.T) {
		cctx, ccancel := context.WithCancel(ctx)
		ccancel()
		a, err := approval.Prompt(cctx, strings.NewReader(""), &bytes.Buffer{}, uploadQuestion(), time.Minute)
		if !errors.Is(err, context.Canceled) || a.Allowed() {
			t.Fatalf("Prompt = %+v, %v; want deny and context.Canceled", a, err)
		}
	})
	t.Run("bad arguments are errors", func(t *testing.T) {
		if _, err := approval.Prompt(ctx, strings.NewReader("y"), &bytes.Buffer{}, approval.Question{}, time.Minute); err == nil {
			t.Error("a question without direction was asked")
		}
		if _, err := approval.Prompt(ctx, strings.NewReader("y"), &bytes.Buffer{}, uploadQuestion(), 0); err == nil {
			t.Error("a zero timeout was accepted")
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

// drawEarly makes the renderer of the prompts that follow draw before the
// program renders the prompt's first view, as it does when the program's
// goroutine is held up for a frame's time, as under load (Bubble Tea starts
// its frame ticker first): Init, called in between, waits until the program
// has written to out, or tried to.
func drawEarly(t *testing.T, out *screenWatcher) {
	wrote := make(chan struct{})
	var once sync.Once
	signal := func() { once.Do(func() { close(wrote) }) }
	out.onWrite = signal
	t.Cleanup(approval.SetPromptHooks(func() { <-wrote }, signal))
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
			out := &screenWatcher{term: term, want: "READ files from this computer", onDrawn: func() {
				_, err := pw.Write([]byte(key))
				typed <- err
			}}
			if early {
				drawEarly(t, out)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			a, err := approval.Prompt(ctx, pr, out, downloadQuestion(3), time.Minute)
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
			for _, want := range []string{"~/.ssh/id_ed25519", "Session 19170bf3", "y allow"} {
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
		if early {
			drawEarly(t, out)
		}
		a, err := approval.Prompt(cctx, pr, out, downloadQuestion(3), time.Minute)
		if !errors.Is(err, context.Canceled) || a.Allowed() {
			t.Fatalf("Prompt = %+v, %v; want deny and context.Canceled", a, err)
		}
		checkScreen(t, out, screen, cursor)
	})
}
