package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/hinshun/vt10x"

	"github.com/xferterm/xferterm/internal/ptytest"
)

// The tests of the approval prompt as a person meets it: xferterm runs a scripted remote
// program (remote_test.go) on a pty the test owns; the test reads the screen and types,
// as someone at the terminal would. Each is named after a finding of the adversarial
// review of the prompt.

// screenProc is an xferterm with its own HOME, whose screen the test reads.
type screenProc struct {
	*proc
	home string
	term vt10x.Terminal
	fed  int // bytes of the output played on term
}

// startScreen runs `xferterm flags -- <remote scenario>` with a HOME of its own.
func startScreen(t *testing.T, scenario string, flags []string, env ...string) *screenProc {
	t.Helper()
	home := t.TempDir()
	for _, d := range []string{".ssh", "src"} {
		if err := os.Mkdir(filepath.Join(home, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return startScreenIn(t, home, scenario, flags, env...)
}

// startScreenIn is startScreen with the given HOME, which several may share (and with
// it the key pair and the record of used bypass ids).
func startScreenIn(t *testing.T, home, scenario string, flags []string, env ...string) *screenProc {
	t.Helper()
	p := &proc{t: t, Terminal: ptytest.NewTerminal(t)}
	prog := append(append([]string{xferterm, "--audit-log", ""}, flags...), "--")
	env = append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_STATE_HOME="+filepath.Join(home, ".local", "state"))
	p.cmd = ptytest.CommandUnder(prog, scenario, env...)
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = p.Slave, p.Slave, &p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill() // Best effort: the test failed.
			_ = p.cmd.Wait()
		}
	})
	return &screenProc{proc: p, home: home,
		term: vt10x.New(vt10x.WithSize(ptytest.Cols, ptytest.Rows), vt10x.WithWriter(io.Discard))}
}

// waitScreen waits until cond holds for the screen as the terminal shows it, and
// returns that screen.
func (p *screenProc) waitScreen(what string, cond func(screen string) bool) string {
	p.t.Helper()
	var screen string
	p.Out.WaitFor(p.t, what, func(b []byte) bool {
		if p.fed < len(b) {
			_, _ = p.term.Write(b[p.fed:]) // A terminal model does not fail.
			p.fed = len(b)
		}
		screen = p.term.String()
		return cond(screen)
	})
	return screen
}

// Screens of the prompt.
var (
	promptUp    = regexp.MustCompile(`xferterm: file transfer request`)
	promptArmed = regexp.MustCompile(`Denied automatically in`)
	promptWait  = regexp.MustCompile(`Wait… keys are ignored until this has been shown for 0\.5 s`)
)

// armedPrompt waits for a prompt that takes answers and whose screen contains want.
func (p *screenProc) armedPrompt(want string) string {
	p.t.Helper()
	return p.waitScreen("the prompt about "+want, func(s string) bool {
		return promptArmed.MatchString(s) && strings.Contains(s, want)
	})
}

// answer waits for a prompt that takes answers about on, types key, and waits for the
// remote program's report expect.
func (p *screenProc) answer(on, key, expect string) {
	p.t.Helper()
	p.armedPrompt(on)
	p.Type(p.t, key)
	p.Out.WaitForString(p.t, expect)
}

// prompts counts the prompts drawn so far (each enters the alternate screen once).
func (p *screenProc) prompts() int { return strings.Count(string(p.Out.Bytes()), "\x1b[?1049h") }

// lines returns the output's lines that start with prefix (the remote's reports).
func (p *screenProc) lines(prefix string) []string { return linesIn(p.Out.Bytes(), prefix) }

// linesIn returns the lines of b that start with prefix.
func linesIn(b []byte, prefix string) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\r\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// finish waits for the remote program's DONE when done is set, types q for it, and
// checks that xferterm exits cleanly.
func (p *screenProc) finish(done bool) {
	p.t.Helper()
	if done {
		p.Out.WaitForString(p.t, "DONE")
	}
	p.Type(p.t, "q")
	if code := p.wait(); code != 0 {
		p.t.Errorf("exit status %d; stderr %q", code, p.stderr.String())
	}
}

// TestPromptStrayKeystroke: a y typed for the remote program's own question, just before
// the prompt appears or just after, does not answer it; the prompt says that it ignores
// keys for 0.5 s and takes answers only once it has been shown that long with nothing
// typed.
func TestPromptStrayKeystroke(t *testing.T) {
	p := startScreen(t, "ask-twice", nil)
	p.Out.WaitForString(t, "READY")
	p.Type(t, "y") // Before anything is asked: it is the remote program's.
	p.Out.WaitForString(t, "KEY 79")

	// The first question: its screen says it ignores keys for a moment.
	screen := p.waitScreen("the first prompt", promptUp.MatchString)
	if !promptWait.MatchString(screen) || promptArmed.MatchString(screen) {
		t.Fatalf("the prompt takes answers at once, or does not say it does not:\n%s", screen)
	}
	p.Type(t, "y") // The stray keystroke of the review, as the prompt appears.
	p.armedPrompt("Session first")
	if got := p.lines("REPLY first"); len(got) != 0 {
		t.Fatalf("the stray y answered the prompt: %q", got)
	}
	p.Type(t, "n")
	p.Out.WaitForString(t, "REPLY first - EPERM:")

	// The second is answered once armed.
	p.answer("Session second", "y", "REPLY second - OK")
	p.finish(true)
}

// TestPromptFlood: 25 requests in one write give one question at a time and a bounded
// queue (5 open questions); the rest are refused at once, said once. "d" refuses the
// question, the queue and what follows for 10 minutes; Ctrl+C then reaches the program.
// (While a prompt is up the program's output is held back, so its reports are read once
// the prompts are gone.)
func TestPromptFlood(t *testing.T) {
	p := startScreen(t, "flood", nil)
	screen := p.armedPrompt("Session f01")
	if !strings.Contains(screen, "d  deny, and every transfer request from this session for 10 minutes") {
		t.Fatalf("no deny-everything answer:\n%s", screen)
	}
	p.Type(t, "d")
	p.Out.WaitForString(t, "ALL REPLIED")
	if got := p.lines("REPLY f"); len(got) != 25 || slices.ContainsFunc(got, func(l string) bool { return !strings.Contains(l, "EPERM:") }) {
		t.Errorf("the flooded requests got %q", got)
	}
	if n := p.prompts(); n != 1 {
		t.Errorf("%d prompts were shown, want 1", n)
	}
	p.Type(t, "\x03")
	p.Out.WaitForString(t, "KEY 03")
	p.Type(t, "m") // One more request: refused without a question.
	p.Out.WaitForString(t, "REPLY more - EPERM:")
	if n := p.prompts(); n != 1 {
		t.Errorf("a prompt was shown during the quiet time")
	}
	p.finish(false)
	for note, want := range map[string]int{"questions are waiting already": 1, "deny all": 1} {
		if n := strings.Count(p.stderr.String(), note); n != want {
			t.Errorf("%q said %d times: %q", note, n, p.stderr.String())
		}
	}
}

// TestPromptFloodBrake: three denials in a row engage the brake: the questions still
// waiting and new requests are refused without asking, said once, and Ctrl+C reaches
// the program.
func TestPromptFloodBrake(t *testing.T) {
	p := startScreen(t, "flood", nil)
	for _, id := range []string{"f01", "f02", "f03"} {
		p.armedPrompt("Session " + id)
		p.Type(t, "n")
	}
	p.Out.WaitForString(t, "ALL REPLIED")
	if n := p.prompts(); n != 3 {
		t.Errorf("%d prompts were shown, want 3", n)
	}
	p.Type(t, "\x1b[99;5u") // Ctrl+C as the kitty keyboard protocol sends it
	p.Out.WaitForString(t, "KEY 1b5b39393b3575")
	p.Type(t, "m")
	p.Out.WaitForString(t, "REPLY more - EPERM:")
	if n := p.prompts(); n != 3 {
		t.Errorf("a prompt was shown with the brake on")
	}
	p.finish(false)
	if n := strings.Count(p.stderr.String(), "refusing new ones without asking"); n != 1 {
		t.Errorf("the brake was said %d times: %q", n, p.stderr.String())
	}
}

// TestCtrlCReachesTheProgramWhileNothingIsShown: a receive session that only collects
// its specs is never shown, so Ctrl+C is the program's, in both forms; once a transfer
// the user allowed runs, Ctrl+C cancels it.
func TestCtrlCReachesTheProgramWhileNothingIsShown(t *testing.T) {
	t.Run("collecting specs", func(t *testing.T) {
		p := startScreen(t, "collect", nil)
		p.Out.WaitForString(t, "COLLECTING")
		p.Type(t, "\x03")
		p.Out.WaitForString(t, "KEY 03")
		p.Type(t, "\x1b[99;5u")
		p.Out.WaitForString(t, "KEY 1b5b39393b3575")
		if n := p.prompts(); n != 0 || len(p.lines("REPLY")) != 0 {
			t.Errorf("%d prompts, replies %q", n, p.lines("REPLY"))
		}
		p.finish(false)
	})
	t.Run("an approved transfer", func(t *testing.T) {
		p := startScreen(t, "cancel-upload", nil)
		p.answer("Session c1", "y", "RUNNING")
		p.Type(t, "\x03")
		p.Out.WaitForString(t, "REPLY c1 - CANCELED")
		if got := p.lines("KEY"); len(got) != 0 {
			t.Errorf("Ctrl+C reached the program during the transfer: %q", got)
		}
		p.finish(true)
		if _, err := os.Lstat(filepath.Join(p.home, "partial.bin")); err == nil {
			t.Error("the cancelled file was written")
		}
	})
}

// TestPromptAllowAllReachesOnlyWhatItShowed: "allow all" given for ~/.vimrc does not let
// ~/.ssh/authorized_keys be written without a question.
func TestPromptAllowAllReachesOnlyWhatItShowed(t *testing.T) {
	p := startScreen(t, "allow-all", nil)
	p.answer("Session a1", "y", "REPLY a1 - OK")
	screen := p.armedPrompt("~/.vimrc")
	if !strings.Contains(screen, "a  allow it, and the rest of this transfer in ~/ marked the same way") {
		t.Fatalf("allow all does not say how far it reaches:\n%s", screen)
	}
	p.Type(t, "a")
	p.Out.WaitForString(t, "REPLY a1 1 STARTED")
	p.answer("~/.ssh/authorized_keys", "n", "REPLY a1 2 EPERM:")
	p.finish(true)
	if b, err := os.ReadFile(filepath.Join(p.home, ".vimrc")); err != nil || string(b) != "set nocompatible\n" {
		t.Errorf("~/.vimrc: %q, %v", b, err)
	}
	if _, err := os.Lstat(filepath.Join(p.home, ".ssh", "authorized_keys")); err == nil {
		t.Error("~/.ssh/authorized_keys was written")
	}
}

// TestPromptBypassReadOfAPrivateKey: with the right password, a read of ~/.ssh/id_* is
// asked about, as a write to ~/.ssh is; an ordinary read is not.
func TestPromptBypassReadOfAPrivateKey(t *testing.T) {
	const password = "correct horse battery staple"
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startScreen(t, "bypass-read", []string{"--password-file", pwFile}, "PW="+password)
	for name, data := range map[string]string{".ssh/id_ed25519": "-----BEGIN OPENSSH PRIVATE KEY-----\n", "notes.txt": "notes\n"} {
		if err := os.WriteFile(filepath.Join(p.home, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	screen := p.armedPrompt("~/.ssh/id_ed25519")
	if !strings.Contains(screen, "pre-shared password") || !strings.Contains(screen, "1 of them sensitive") {
		t.Errorf("the question does not say why it asks:\n%s", screen)
	}
	p.Type(t, "n")
	p.Out.WaitForString(t, "REPLY key - EPERM:")
	p.Out.WaitForString(t, "DONE")
	if got := p.lines("REPLY notes - OK"); len(got) != 2 {
		t.Errorf("the ordinary read: %q", got)
	}
	if n := p.prompts(); n != 1 {
		t.Errorf("%d prompts, want 1 (the ordinary read needs none)", n)
	}
	p.finish(false)
}

// TestPromptLongReadList: the header of a long read list counts the sensitive paths and
// they come first, where the screen shows them.
func TestPromptLongReadList(t *testing.T) {
	p := startScreen(t, "long-read", nil)
	screen := p.armedPrompt("40 paths, 3 of them sensitive (listed first)")
	rows := strings.Split(screen, "\n")
	pos := func(s string) int {
		for i, r := range rows {
			if strings.Contains(r, s) {
				return i
			}
		}
		return -1
	}
	key, aws, gpg, first := pos("~/.ssh/id_ed25519"), pos("~/.aws/credentials"), pos("~/.gnupg/private-keys-v1.d"), pos("~/src/file00.go")
	if key < 0 || aws < 0 || gpg < 0 || first < 0 || !(key < aws && aws < gpg && gpg < first) {
		t.Errorf("rows: key %d, aws %d, gnupg %d, first ordinary file %d:\n%s", key, aws, gpg, first, screen)
	}
	p.Type(t, "n")
	p.Out.WaitForString(t, "REPLY long - EPERM:")
	p.finish(true)
}
