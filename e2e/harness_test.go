package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Timeouts of the waits. They are generous because the binary under test is built with -race
// when the tests are; a healthy run waits a fraction of them.
const (
	shortWait    = 30 * time.Second // a shell command, a login, a prompt appearing
	transferWait = 90 * time.Second // a transfer of a few MiB, or a cancel
)

// Prompt texts of the approval prompt (approval/prompt.go), matched case-insensitively.
var (
	promptSend    = regexp.MustCompile(`(?i)wants to SEND files to this computer`)
	promptReceive = regexp.MustCompile(`(?i)wants to READ files from this computer`)
	// makeTree's abs-link points outside the allowed directories: a send of the tree asks
	// about it once its target has arrived (the user allows it).
	promptOutsideLink = regexp.MustCompile(`The link would point to /etc/hostname\.`)
	// The prompt lists its keys, and counts down, only once it takes answers: until it has
	// been on the screen for a moment with nothing typed, keys are dropped.
	promptArmed = regexp.MustCompile(`Denied automatically in`)
	// A shell prompt alone on its line: the shell is waiting for input.
	localPrompt  = regexp.MustCompile(`^\[local\]\$$`)
	remotePrompt = regexp.MustCompile(`^\[remote\]\$$`)
)

// rig is one person at one terminal: a tmux pane running a local shell, from which they ssh
// through xferterm into the private sshd. Local and Remote are the two sides' home directories.
type rig struct {
	tb     testing.TB
	SSH    *sshServer
	TM     *tmuxServer
	Base   string // temporary directory holding everything below
	Local  string // HOME and working directory of the local shell and of xferterm
	Remote string // HOME and working directory of the remote shell
	BinDir string // directory of the xferterm binary, first on both PATHs

	seq        int    // numbers the markers of commands
	loginMark  int    // marker of the xferterm -- ssh command line, 0 when not logged in
	remoteInit string // the script ssh runs on the remote side: cd, HOME, PATH, prompt, bash
}

// newRig starts sshd and a tmux pane with a local bash at the [local]$ prompt.
func newRig(tb testing.TB) *rig {
	tb.Helper()
	requireSuite(tb)
	r := &rig{tb: tb, SSH: startSSHD(tb), Base: tb.TempDir(), BinDir: filepath.Dir(suite.bin)}
	r.Local = filepath.Join(r.Base, "local")
	r.Remote = filepath.Join(r.Base, "remote")
	for _, d := range []string{r.Local, r.Remote} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}

	// The remote login runs this script: its own directory, HOME and prompt, so the two sides
	// are told apart, and the xferterm binary on PATH as `xferterm`.
	r.remoteInit = filepath.Join(r.Base, "remote-login")
	writeFile(tb, r.remoteInit, []byte(fmt.Sprintf(`#!/bin/sh
cd %[1]s || exit 1
export HOME=%[1]s PATH=%[2]s:$PATH HISTFILE=/dev/null PS1='[remote]$ '
unset XDG_CONFIG_HOME XDG_STATE_HOME
exec bash --norc --noprofile -i
`, shellQuote(r.Remote), shellQuote(r.BinDir))), 0o755)

	env := []string{
		"PATH=" + r.BinDir + ":" + os.Getenv("PATH"),
		"HOME=" + r.Local,
		"XDG_CONFIG_HOME=" + filepath.Join(r.Local, ".config"),
		"XDG_STATE_HOME=" + filepath.Join(r.Local, ".local", "state"),
		"LANG=C.UTF-8",
		"SHELL=/bin/bash",
		"HISTFILE=/dev/null",
		"PS1=[local]$ ",
		"TMPDIR=" + r.Base,
	}
	r.TM = startTmux(tb, env, r.Local, 120, 40, "bash", "--norc", "--noprofile", "-i")
	r.TM.WaitMatch(localPrompt, shortWait)
	return r
}

// Login types `xferterm [proxyFlags] -- ssh … e2e remote-login` in the local shell and waits for the
// remote prompt. Logout waits for that command line's exit status.
func (r *rig) Login(proxyFlags ...string) {
	r.tb.Helper()
	cmd := "xferterm"
	for _, f := range proxyFlags {
		cmd += " " + shellQuote(f)
	}
	cmd += fmt.Sprintf(" -- ssh -F %s -t %s %s", shellQuote(r.SSH.ClientConf), r.SSH.HostAlias, shellQuote(r.remoteInit))
	r.loginMark = r.Start(cmd)
	login := markerRE(r.loginMark)
	h := r.TM.WaitFor("the remote prompt", shortWait, func(h string) bool {
		return lastLineMatch(remotePrompt, h) != nil || lastLineMatch(login, h) != nil
	})
	if m := lastLineMatch(login, h); m != nil {
		r.tb.Fatalf("e2e: xferterm -- ssh exited with status %s before the remote prompt", m[1])
	}
}

// Logout types `exit code` in the remote shell and returns the exit status of xferterm, which the
// local shell prints.
func (r *rig) Logout(code int) int {
	r.tb.Helper()
	if r.loginMark == 0 {
		r.tb.Fatal("e2e: Logout without Login")
	}
	r.TM.Line(fmt.Sprintf("exit %d", code))
	st := r.Wait(r.loginMark, shortWait)
	r.loginMark = 0
	return st
}

// Start types cmd in the shell in front (local or remote) followed by a command that prints a
// numbered marker with cmd's exit status, and returns the marker's number for Wait.
func (r *rig) Start(cmd string) int {
	r.tb.Helper()
	r.seq++
	r.TM.Line(fmt.Sprintf(`%s; printf '\n%%s:%%s\n' E2E-%d "$?"`, cmd, r.seq))
	return r.seq
}

// Wait waits for the marker of Start and returns the exit status it carries.
func (r *rig) Wait(mark int, timeout time.Duration) int {
	r.tb.Helper()
	m := r.TM.WaitMatch(markerRE(mark), timeout)
	st, err := strconv.Atoi(m[1])
	if err != nil {
		r.tb.Fatalf("e2e: exit status %q: %v", m[1], err)
	}
	return st
}

func markerRE(mark int) *regexp.Regexp {
	return regexp.MustCompile(fmt.Sprintf(`^E2E-%d:(\d+)$`, mark))
}

// Value prints a shell expression in the shell in front and returns its value (one line).
func (r *rig) Value(expr string) string {
	r.tb.Helper()
	r.seq++
	r.TM.Line(fmt.Sprintf(`printf '\n%%s=%%s\n' VAL-%d "%s"`, r.seq, expr))
	return r.TM.WaitMatch(regexp.MustCompile(fmt.Sprintf(`^VAL-%d=(.*)$`, r.seq)), shortWait)[1]
}

// Transfer starts `xferterm transfer args…` in the shell in front (the remote one after Login).
func (r *rig) Transfer(args ...string) int {
	r.tb.Helper()
	cmd := "xferterm transfer"
	for _, a := range args {
		cmd += " " + shellQuote(a)
	}
	return r.Start(cmd)
}

// Answer waits for the approval prompt matching prompt and presses keys. It fails at once when
// the command of mark ends before the prompt shows.
func (r *rig) Answer(mark int, prompt *regexp.Regexp, keys ...string) {
	r.tb.Helper()
	r.AnswerWhen(mark, fmt.Sprintf("the approval prompt %q", prompt), prompt.MatchString, keys...)
}

// AnswerTreeSend answers the questions of a send of makeTree's tree: the session, then
// its link that points outside the allowed directories.
func (r *rig) AnswerTreeSend(mark int) {
	r.tb.Helper()
	r.Answer(mark, promptSend, "y")
	r.Answer(mark, promptOutsideLink, "y")
}

// AnswerWhen is Answer with any condition on the pane's history. The keys are pressed once the
// prompt takes answers (promptArmed), as a person reads the question first.
func (r *rig) AnswerWhen(mark int, what string, cond func(history string) bool, keys ...string) {
	r.tb.Helper()
	done := markerRE(mark)
	h := r.TM.WaitFor(what, shortWait, func(h string) bool {
		return cond(h) && promptArmed.MatchString(h) || lastLineMatch(done, h) != nil
	})
	if m := lastLineMatch(done, h); m != nil && !cond(h) {
		r.tb.Fatalf("e2e: the command ended with status %s before %s", m[1], what)
	}
	r.TM.Keys(keys...)
}

// CheckShellUsable checks that the shell in front answers a command and echoes typed text.
func (r *rig) CheckShellUsable() {
	r.tb.Helper()
	if got := r.Value(`$((6*7))`); got != "42" {
		r.tb.Fatalf("e2e: shell answered %q to $((6*7)), want 42", got)
	}
}

// SttyState returns `stty -g` of the terminal in front.
func (r *rig) SttyState() string {
	r.tb.Helper()
	return r.Value(`$(stty -g)`)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
