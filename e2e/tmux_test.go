package e2e

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// tmuxServer is one private tmux server (its own socket) with one session of one pane: the
// terminal a person would sit at. It is killed in tb.Cleanup, and on failure the pane's content
// is logged.
type tmuxServer struct {
	tb     testing.TB
	socket string // tmux -L name
	target string // the pane
}

// tmuxSockets makes socket names unique within this test process.
var tmuxSockets atomic.Int64

// startTmux starts argv in a new detached tmux session of the given size, with exactly env as
// the server's (and so the pane's) environment and dir as its working directory.
func startTmux(tb testing.TB, env []string, dir string, cols, rows int, argv ...string) *tmuxServer {
	tb.Helper()
	requireSuite(tb)
	tm := &tmuxServer{
		tb:     tb,
		socket: fmt.Sprintf("xferterm-e2e-%d-%d", time.Now().UnixNano(), tmuxSockets.Add(1)),
		target: "e2e:0.0",
	}
	args := []string{"-L", tm.socket, "-f", "/dev/null", "new-session", "-d", "-s", "e2e",
		"-x", fmt.Sprint(cols), "-y", fmt.Sprint(rows), "-c", dir, "--"}
	args = append(args, argv...)
	cmd := exec.Command(suite.tools["tmux"], args...)
	cmd.Env = env
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			if screen, err := tm.captureErr(); err == nil {
				tb.Logf("tmux pane at the end of the test:\n%s", indent(screen))
			}
		}
		// Best effort: the server is gone already when its last pane exited.
		_ = exec.Command(suite.tools["tmux"], "-L", tm.socket, "kill-server").Run()
	})
	return tm
}

// tmux runs a tmux command against this server and returns its output.
func (tm *tmuxServer) tmux(args ...string) string {
	tm.tb.Helper()
	out, err := tm.tmuxErr(args...)
	if err != nil {
		tm.tb.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (tm *tmuxServer) tmuxErr(args ...string) (string, error) {
	out, err := exec.Command(suite.tools["tmux"], append([]string{"-L", tm.socket}, args...)...).CombinedOutput()
	return string(out), err
}

// Type types text literally (no key names are interpreted), without Enter.
func (tm *tmuxServer) Type(text string) {
	tm.tb.Helper()
	tm.tmux("send-keys", "-t", tm.target, "-l", text)
}

// Line types text and Enter.
func (tm *tmuxServer) Line(text string) {
	tm.tb.Helper()
	tm.Type(text)
	tm.Keys("Enter")
}

// Keys sends tmux key names: "Enter", "Escape", "C-c", "y".
func (tm *tmuxServer) Keys(keys ...string) {
	tm.tb.Helper()
	if len(keys) == 0 {
		return
	}
	tm.tmux(append([]string{"send-keys", "-t", tm.target}, keys...)...)
}

// Screen is the visible pane, one line per row, trailing spaces trimmed.
func (tm *tmuxServer) Screen() string {
	tm.tb.Helper()
	return tm.tmux("capture-pane", "-p", "-t", tm.target)
}

// SavedScreen is the normal screen kept underneath while a program shows the alternate screen
// (capture-pane -a); ok is false when the alternate screen is not on.
func (tm *tmuxServer) SavedScreen() (screen string, ok bool) {
	tm.tb.Helper()
	out, err := tm.tmuxErr("capture-pane", "-p", "-a", "-t", tm.target)
	if err != nil {
		return "", false
	}
	return out, true
}

// captureErr returns the whole pane including its scroll-back, wrapped lines joined.
func (tm *tmuxServer) captureErr() (string, error) {
	return tm.tmuxErr("capture-pane", "-p", "-J", "-S", "-", "-t", tm.target)
}

// pollInterval is how often the wait helpers look at the pane. Polling under a deadline is the
// only synchronisation the tests use.
const pollInterval = 20 * time.Millisecond

// WaitFor polls the pane's history until cond holds, and fails the test (showing the pane)
// when it does not within timeout. It returns the history that satisfied cond.
func (tm *tmuxServer) WaitFor(what string, timeout time.Duration, cond func(history string) bool) string {
	tm.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		h, err := tm.captureErr()
		if err == nil && cond(h) {
			return h
		}
		if time.Now().After(deadline) {
			tm.tb.Fatalf("e2e: waited %v for %s; the pane shows:\n%s", timeout, what, indent(h))
		}
		time.Sleep(pollInterval)
	}
}

// WaitMatch waits until a line of the history matches re and returns its submatches.
func (tm *tmuxServer) WaitMatch(re *regexp.Regexp, timeout time.Duration) []string {
	tm.tb.Helper()
	var m []string
	tm.WaitFor(fmt.Sprintf("a line matching %q", re), timeout, func(h string) bool {
		m = lastLineMatch(re, h)
		return m != nil
	})
	return m
}

// lastLineMatch returns the submatches of the last line of text that matches re, or nil.
func lastLineMatch(re *regexp.Regexp, text string) []string {
	lines := strings.Split(text, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if m := re.FindStringSubmatch(strings.TrimRight(lines[i], " ")); m != nil {
			return m
		}
	}
	return nil
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	return "\t| " + strings.ReplaceAll(s, "\n", "\n\t| ")
}
