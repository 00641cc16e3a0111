package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestPromptRedrawsRemoteTmux: the approval prompt draws on the terminal's alternate screen,
// which a remote tmux was showing; when the prompt is gone, xferterm makes the child redraw
// (a one-column resize, once the transfer is over), so that what tmux showed before the
// prompt is on the screen again, at the terminal's real width.
func TestPromptRedrawsRemoteTmux(t *testing.T) {
	r := newRig(t)
	writeFile(t, filepath.Join(r.Remote, "a.txt"), []byte("redraw\n"), 0o644)
	r.Login()
	m := r.StartRemoteMux("tmux", "set -g allow-passthrough on\n")
	const shown = "SHOWN-BEFORE-THE-PROMPT"
	r.TM.Line(`printf 'SHOWN-%s\n' BEFORE-THE-PROMPT`) // the command line itself does not say it
	waitFor(t, "the line before the prompt", func() bool { return strings.Contains(r.TM.Screen(), shown) })
	mark := r.Transfer("a.txt", "a-copy.txt")
	r.Answer(mark, promptSend, "y")
	if st := r.Wait(mark, transferWait); st != 0 {
		t.Fatalf("send exited %d", st)
	}
	waitFor(t, "the remote tmux to redraw what it showed before the prompt", func() bool {
		return strings.Contains(r.TM.Screen(), shown)
	})
	waitFor(t, "the remote tmux to be 120 columns wide again", func() bool {
		return m.tmux("display-message", "-p", "#{client_width}") == "120"
	})
	checkSameFile(t, filepath.Join(r.Remote, "a.txt"), filepath.Join(r.Local, "a-copy.txt"))
	m.checkOption("", "a send") // set globally, never on the pane
}
