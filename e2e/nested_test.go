package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// probeFails starts a transfer that must fail at once (well before the client's 2-minute
// timeout) with a message containing want, and checks that no answer of the probe reached the
// shell: the next command line is clean and the shell works.
func (m *remoteMux) probeFails(want string, args ...string) {
	r := m.r
	r.tb.Helper()
	start := time.Now()
	mark := r.Transfer(args...)
	if st := r.Wait(mark, shortWait); st != 1 {
		r.tb.Fatalf("the transfer exited %d, want 1", st)
	}
	if d := time.Since(start); d > 15*time.Second {
		r.tb.Errorf("the transfer failed after %v, want within a few seconds", d)
	}
	if h := r.TM.Screen(); !screenSays(h, want) {
		r.tb.Errorf("the failure does not say %q:\n%s", want, indent(h))
	}
	r.CheckShellUsable()
	if h := r.TM.Screen(); regexp.MustCompile(`\[\?[0-9;]*c|>\||5113`).MatchString(h) {
		r.tb.Errorf("an answer of the probe reached the shell:\n%s", indent(h))
	}
}

// TestNestedTmux: xferterm transfer in a tmux that runs inside another tmux (both with default
// settings, so the outer one swallows OSC 5113) fails within seconds, not after the 2-minute
// timeout, saying that the multiplexers are nested and what to do; the probe's answers do not
// reach the shell, the inner pane's allow-passthrough is back as it was, and a transfer from a
// shell of the outer tmux then works.
func TestNestedTmux(t *testing.T) {
	r := newRig(t)
	writeFile(t, filepath.Join(r.Remote, "a.txt"), []byte("nested\n"), 0o644)
	r.Login()
	outer := r.StartRemoteMux("tmux", "")
	inner := r.StartRemoteMux("tmux", "")
	inner.probeFails("tmux 3.3a answered instead of a terminal that speaks the transfer protocol", "a.txt", "a-copy.txt")
	inner.checkOption("", "the failed probe")
	r.TM.Line("exit") // the inner tmux; back in the outer one, which says [exited]
	r.TM.WaitFor("the outer tmux's shell", shortWait, func(h string) bool {
		i := strings.LastIndex(h, "[exited]")
		return i >= 0 && lastLineMatch(tmuxPrompt, h[i:]) != nil
	})
	mark := r.Transfer("a.txt", "a-copy.txt")
	r.Answer(mark, promptSend, "y")
	if st := r.Wait(mark, transferWait); st != 0 {
		t.Fatalf("send from the outer tmux exited %d", st)
	}
	checkSameFile(t, filepath.Join(r.Remote, "a.txt"), filepath.Join(r.Local, "a-copy.txt"))
	outer.checkOption("", "a send")
}

// TestTmuxNotOnPath: tmux need not be on PATH when its configuration turns allow-passthrough on;
// the probe shows that the codes get through. When it is off, the transfer fails at once and
// says to put tmux on PATH or turn the option on.
func TestTmuxNotOnPath(t *testing.T) {
	r := newRig(t)
	writeFile(t, filepath.Join(r.Remote, "a.txt"), []byte("no tmux on PATH\n"), 0o644)
	r.Login()
	noTmux := "env PATH=" + shellQuote(r.BinDir) + " xferterm"
	m := r.StartRemoteMux("tmux", "set -g allow-passthrough on\n")
	mark := r.Start(noTmux + " transfer a.txt a-copy.txt")
	r.Answer(mark, promptSend, "y")
	if st := r.Wait(mark, transferWait); st != 0 {
		t.Fatalf("send without tmux on PATH exited %d", st)
	}
	checkSameFile(t, filepath.Join(r.Remote, "a.txt"), filepath.Join(r.Local, "a-copy.txt"))
	m.Exit()

	m = r.StartRemoteMux("tmux", "")
	start := time.Now()
	mark = r.Start(noTmux + " transfer a.txt b-copy.txt")
	if st := r.Wait(mark, shortWait); st != 1 {
		t.Fatalf("send through a closed tmux without tmux on PATH exited %d, want 1", st)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("it failed after %v", d)
	}
	if h := r.TM.Screen(); !screenSays(h, "is tmux on PATH?") || !screenSays(h, "allow-passthrough on") {
		t.Errorf("the failure does not say what to change:\n%s", indent(r.TM.Screen()))
	}
	r.CheckShellUsable()
	m.checkOption("", "a failed send")
}

// TestScreenLargeTree: inside GNU screen, a send of a tree of 1 500 files works: the client
// keeps the replies it has not read within what screen holds for the window. Deltas are
// refused at once with the reason.
func TestScreenLargeTree(t *testing.T) {
	r := newRig(t)
	root := filepath.Join(r.Remote, "many")
	for i := range 1500 {
		writeFile(t, filepath.Join(root, fmt.Sprintf("d%02d", i/100), fmt.Sprintf("file-%04d.txt", i)),
			[]byte(fmt.Sprintf("file %d\n", i)), 0o644)
	}
	writeFile(t, filepath.Join(r.Remote, "d.bin"), randomBytes(5, 1<<20), 0o644)
	r.Login()
	m := r.StartRemoteMux("screen", "")
	stty := r.SttyState()
	mark := r.Transfer("many", "many-copy")
	r.Answer(mark, promptSend, "y")
	if st := r.Wait(mark, 3*transferWait); st != 0 {
		t.Fatalf("send of 1 500 files inside screen exited %d", st)
	}
	checkSameTree(t, root, filepath.Join(r.Local, "many-copy"), 0)

	mark = r.Transfer("--transmit-deltas", "d.bin", "d.bin")
	if st := r.Wait(mark, shortWait); st != 1 {
		t.Fatalf("send with deltas inside screen exited %d, want 1", st)
	}
	if h := r.TM.Screen(); !screenSays(h, "cannot work inside GNU screen") {
		t.Errorf("the refusal does not say why:\n%s", indent(r.TM.Screen()))
	}
	if _, err := os.Stat(filepath.Join(r.Local, "d.bin")); err == nil {
		t.Error("a refused send wrote a file")
	}
	m.checkUsable(stty)
}

// screenSays reports whether the screen shows text, wherever its lines wrap it.
func screenSays(screen, text string) bool {
	squeeze := func(s string) string { return strings.Join(strings.Fields(s), "") }
	return strings.Contains(squeeze(screen), squeeze(text))
}
