package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The multiplexer tests run tmux or GNU screen on the remote side, inside the ssh session that
// xferterm wraps, and `xferterm transfer` in a shell inside it: a person who lives in tmux on the
// remote host. The remote multiplexer has its own socket (tmux -L, SCREENDIR), apart from the tmux
// that plays the person's terminal, and is killed when the test ends.

// Prompts of the shells inside the remote multiplexers.
var (
	tmuxPrompt   = regexp.MustCompile(`^\[rtmux\]\$$`)
	screenPrompt = regexp.MustCompile(`^\[rscreen\]\$$`)
)

// remoteMux is a multiplexer started in the remote shell.
type remoteMux struct {
	r      *rig
	kind   string         // "tmux" or "screen"
	socket string         // tmux -L name, or the screen session name
	dir    string         // screen: SCREENDIR
	prompt *regexp.Regexp // the shell inside it
}

// StartRemoteMux starts kind ("tmux" or "screen") with default settings in the remote shell
// (after Login) and waits for the prompt of the shell inside it. conf is tmux's configuration
// file content (screen's is fixed: no start-up message).
func (r *rig) StartRemoteMux(kind, conf string) *remoteMux {
	r.tb.Helper()
	r.seq++
	m := &remoteMux{r: r, kind: kind, socket: fmt.Sprintf("xferterm-e2e-remote-%d-%d", os.Getpid(), tmuxSockets.Add(1))}
	var cmd string
	switch kind {
	case "tmux":
		m.prompt = tmuxPrompt
		confPath := filepath.Join(r.Base, m.socket+".conf")
		writeFile(r.tb, confPath, []byte(conf), 0o644)
		// env -u: a tmux may be started inside another (TestNestedTmux).
		cmd = fmt.Sprintf(`env -u TMUX -u TMUX_PANE tmux -L %s -f %s new-session -s inner %s`, m.socket, shellQuote(confPath), m.shell("rtmux"))
		r.tb.Cleanup(func() {
			m.logOnFailure()
			_ = exec.Command(suite.tools["tmux"], "-L", m.socket, "kill-server").Run() // Best effort: gone when the test exited it.
		})
	case "screen":
		m.prompt = screenPrompt
		m.dir = filepath.Join(r.Base, "screens")
		if err := os.MkdirAll(m.dir, 0o700); err != nil {
			r.tb.Fatal(err)
		}
		rc := filepath.Join(r.Base, "screenrc")
		writeFile(r.tb, rc, []byte("startup_message off\n"), 0o644)
		cmd = fmt.Sprintf(`SCREENDIR=%s screen -c %s -S %s %s`, shellQuote(m.dir), shellQuote(rc), m.socket, m.shell("rscreen"))
		r.tb.Cleanup(func() {
			m.logOnFailure()
			c := exec.Command(suite.tools["screen"], "-S", m.socket, "-X", "quit")
			c.Env = append(os.Environ(), "SCREENDIR="+m.dir)
			_ = c.Run() // Best effort: gone when the test exited it.
		})
	default:
		r.tb.Fatalf("e2e: unknown multiplexer %q", kind)
	}
	r.TM.Line(cmd)
	r.TM.WaitFor("the shell inside remote "+kind, shortWait, func(h string) bool {
		return lastLineMatch(m.prompt, h) != nil
	})
	return m
}

// shell writes a script that runs the shell inside the multiplexer, with the prompt [name]$,
// and returns its path.
func (m *remoteMux) shell(name string) string {
	m.r.tb.Helper()
	path := filepath.Join(m.r.Base, name+"-shell")
	writeFile(m.r.tb, path, []byte(fmt.Sprintf("#!/bin/sh\nPS1='[%s]$ ' exec bash --norc --noprofile -i\n", name)), 0o755)
	return shellQuote(path)
}

// logOnFailure logs the screen of a failed test while the multiplexer still shows it.
func (m *remoteMux) logOnFailure() {
	if !m.r.tb.Failed() {
		return
	}
	if screen, err := m.r.TM.tmuxErr("capture-pane", "-p", "-t", m.r.TM.target); err == nil {
		m.r.tb.Logf("the terminal shows remote %s:\n%s", m.kind, indent(screen))
	}
}

// Exit leaves the multiplexer (its only shell exits) and waits for the remote prompt.
func (m *remoteMux) Exit() {
	m.r.tb.Helper()
	m.r.TM.Line("exit")
	m.r.TM.WaitMatch(remotePrompt, shortWait)
}

// tmux runs a command against the remote tmux server.
func (m *remoteMux) tmux(args ...string) string {
	m.r.tb.Helper()
	out, err := exec.Command(suite.tools["tmux"], append([]string{"-L", m.socket}, args...)...).CombinedOutput()
	if err != nil {
		m.r.tb.Fatalf("e2e: remote tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// PaneOption is the remote tmux pane's own allow-passthrough ("" when it has none).
func (m *remoteMux) PaneOption() string {
	m.r.tb.Helper()
	return m.tmux("show-options", "-p", "-v", "-t", "inner:0.0", "allow-passthrough")
}

// checkOption checks that the remote tmux pane's allow-passthrough is want, as before the
// transfer; screen has no such setting.
func (m *remoteMux) checkOption(want, after string) {
	m.r.tb.Helper()
	if m.kind != "tmux" {
		return
	}
	if got := m.PaneOption(); got != want {
		m.r.tb.Errorf("after %s, the pane's allow-passthrough is %q, want %q as before", after, got, want)
	}
}

// TestTmuxTransfers: inside a remote tmux with its default configuration (allow-passthrough off),
// `xferterm transfer` works in every mode, both directions: a tree with links and metadata, large
// files with and without zlib, deltas, the bypass; a window size change while a transfer runs does
// not disturb it; the pane's setting is back as it was after each transfer, and the shell in the
// pane works afterwards.
func TestTmuxTransfers(t *testing.T) {
	r := newRig(t)
	makeTree(t, filepath.Join(r.Remote, "tree"))
	makeTree(t, filepath.Join(r.Local, "ltree"))
	big := filepath.Join(r.Remote, "big.bin")
	writeFile(t, big, randomBytes(11, 24<<20+5), 0o640)
	setMtime(t, big, fixedTime)
	text := filepath.Join(r.Local, "text.txt")
	writeFile(t, text, textBytes(12, 16<<20+3), 0o600)
	setMtime(t, text, fixedTime)
	oldBin := randomBytes(13, 6<<20)
	writeFile(t, filepath.Join(r.Local, "delta.bin"), oldBin, 0o644)
	newBin := filepath.Join(r.Remote, "delta.bin")
	writeFile(t, newBin, editedCopy(oldBin), 0o644)
	localPW := filepath.Join(r.Base, "password")
	writeFile(t, localPW, []byte("tmux and screen\n"), 0o600)
	writeFile(t, filepath.Join(r.Remote, "pw"), []byte("tmux and screen\n"), 0o600)

	r.Login("--password-file", localPW)
	m := r.StartRemoteMux("tmux", "")
	stty := r.SttyState()

	m.sendTree()
	m.checkOption("", "a send")
	mark := r.Transfer("--direction", "receive", "ltree", "ltree-copy")
	r.Answer(mark, promptReceive, "y")
	if st := r.Wait(mark, transferWait); st != 0 {
		t.Fatalf("receive of a tree exited %d", st)
	}
	checkSameTree(t, filepath.Join(r.Local, "ltree"), filepath.Join(r.Remote, "ltree-copy"), dirMtimes)
	m.checkOption("", "a receive")

	m.sendLarge(big)
	m.sendResized(big)

	// A large text file, compressed (auto), granted by the bypass.
	mark = r.Transfer("--password-file", "pw", "--direction", "receive", "text.txt", "text-copy.txt")
	if st := r.waitNoPrompt(mark); st != 0 {
		t.Fatalf("receive of a large file with the bypass exited %d", st)
	}
	checkSameFile(t, text, filepath.Join(r.Remote, "text-copy.txt"))

	mark = r.Transfer("--password-file", "pw", "--transmit-deltas", "--direction", "send", "delta.bin", "delta.bin")
	if st := r.waitNoPrompt(mark); st != 0 {
		t.Fatalf("send with deltas exited %d", st)
	}
	checkSameFile(t, newBin, filepath.Join(r.Local, "delta.bin"))
	writeFile(t, filepath.Join(r.Local, "delta.bin"), editedCopy(editedCopy(oldBin)), 0o600)
	mark = r.Transfer("--password-file", "pw", "--transmit-deltas", "--direction", "receive", "delta.bin", "delta.bin")
	if st := r.waitNoPrompt(mark); st != 0 {
		t.Fatalf("receive with deltas exited %d", st)
	}
	checkSameFile(t, filepath.Join(r.Local, "delta.bin"), newBin)

	m.checkOption("", "every transfer")
	m.checkUsable(stty)
}

// TestTransferResized: the window size changing while a file moves (no multiplexer on the
// remote side) does not disturb the transfer.
func TestTransferResized(t *testing.T) {
	r := newRig(t)
	big := filepath.Join(r.Remote, "big.bin")
	writeFile(t, big, randomBytes(11, 24<<20+5), 0o640)
	r.Login()
	(&remoteMux{r: r}).sendResized(big)
	r.CheckShellUsable()
	r.Logout(0)
}

// TestTmuxPassthroughKept: a pane whose allow-passthrough is already on is left alone, and a pane
// option set to off stays set to off (not unset) after a transfer.
func TestTmuxPassthroughKept(t *testing.T) {
	r := newRig(t)
	writeFile(t, filepath.Join(r.Remote, "a.txt"), []byte("some text\n"), 0o644)
	r.Login()
	m := r.StartRemoteMux("tmux", "set -g allow-passthrough on\n")
	mark := r.Transfer("a.txt", "a-copy.txt")
	r.Answer(mark, promptSend, "y")
	if st := r.Wait(mark, transferWait); st != 0 {
		t.Fatalf("send exited %d", st)
	}
	m.checkOption("", "a send with allow-passthrough on globally")
	if got := m.tmux("show-options", "-g", "-v", "allow-passthrough"); got != "on" {
		t.Errorf("the global allow-passthrough is %q after a send, want on", got)
	}
	m.tmux("set-option", "-p", "-t", "inner:0.0", "allow-passthrough", "off")
	mark = r.Transfer("a.txt", "b-copy.txt")
	r.Answer(mark, promptSend, "y")
	if st := r.Wait(mark, transferWait); st != 0 {
		t.Fatalf("send with the pane's option off exited %d", st)
	}
	m.checkOption("off", "a send with the pane's option off")
	checkSameFile(t, filepath.Join(r.Remote, "a.txt"), filepath.Join(r.Local, "b-copy.txt"))
}

// TestScreenTransfers: inside a remote GNU screen, `xferterm transfer` sends a small tree with links
// and metadata, a large file (with a window size change while it moves) and a file granted by the
// bypass; a receive is refused at once with the reason (screen drops input it cannot pass on at
// once), and the shell in the window works afterwards.
func TestScreenTransfers(t *testing.T) {
	r := newRig(t)
	makeTree(t, filepath.Join(r.Remote, "tree"))
	big := filepath.Join(r.Remote, "big.bin")
	writeFile(t, big, randomBytes(11, 24<<20+5), 0o640)
	writeFile(t, filepath.Join(r.Local, "l.txt"), []byte("local\n"), 0o644)
	localPW := filepath.Join(r.Base, "password")
	writeFile(t, localPW, []byte("screen\n"), 0o600)
	writeFile(t, filepath.Join(r.Remote, "pw"), []byte("screen\n"), 0o600)
	r.Login("--password-file", localPW)
	m := r.StartRemoteMux("screen", "")
	stty := r.SttyState()

	m.sendTree()
	m.sendLarge(big)
	m.sendResized(big)
	mark := r.Transfer("--password-file", "pw", "--compress", "always", "big.bin", "big-zlib.bin")
	if st := r.waitNoPrompt(mark); st != 0 {
		t.Fatalf("send with the bypass exited %d", st)
	}
	checkSameFile(t, big, filepath.Join(r.Local, "big-zlib.bin"))

	mark = r.Transfer("--direction", "receive", "l.txt", "l-copy.txt")
	h := r.TM.WaitFor("the receive to end", shortWait, func(h string) bool {
		return lastLineMatch(markerRE(mark), h) != nil || promptReceive.MatchString(h)
	})
	if m := lastLineMatch(markerRE(mark), h); m == nil || m[1] == "0" {
		t.Fatalf("a receive inside screen did not fail at once")
	}
	if !strings.Contains(h, "GNU screen cannot carry a receive") {
		t.Errorf("the refused receive does not say why")
	}
	m.checkUsable(stty)
}

// sendTree sends the remote tree (makeTree) and checks the copy.
func (m *remoteMux) sendTree() {
	r := m.r
	r.tb.Helper()
	mark := r.Transfer("--direction", "send", "tree", "tree-copy")
	r.AnswerTreeSend(mark)
	if st := r.Wait(mark, transferWait); st != 0 {
		r.tb.Fatalf("send of a tree exited %d", st)
	}
	checkSameTree(r.tb, filepath.Join(r.Remote, "tree"), filepath.Join(r.Local, "tree-copy"), dirMtimes)
}

// sendLarge sends the remote file src without zlib and checks the copy.
func (m *remoteMux) sendLarge(src string) {
	r := m.r
	r.tb.Helper()
	mark := r.Transfer("--compress", "never", "--direction", "send", filepath.Base(src), "large-copy")
	r.Answer(mark, promptSend, "y")
	if st := r.Wait(mark, transferWait); st != 0 {
		r.tb.Fatalf("send of a large file exited %d", st)
	}
	checkSameFile(r.tb, src, filepath.Join(r.Local, "large-copy"))
}

// sendResized sends the remote file src without zlib and resizes the terminal twice while it
// moves. Without a multiplexer (m.kind "") the copy must arrive. A multiplexer that redraws its
// screen drops what it passes through meanwhile (tmux 3.3a skips passthrough strings while a
// redraw of the window is pending); then the client must fail and say so, and no short copy
// may be left (TestTmuxRedrawLoss makes the loss happen on purpose).
func (m *remoteMux) sendResized(src string) {
	r := m.r
	r.tb.Helper()
	before := visibleEntries(r.tb, r.Local)
	mark := r.Transfer("--compress", "never", "--direction", "send", filepath.Base(src), "resized-copy")
	r.Answer(mark, promptSend, "y")
	waitDir(r.tb, r.Local, "the copy being written", func(names []string) bool {
		return len(names) > len(before)
	})
	r.TM.tmux("resize-window", "-t", "e2e", "-x", "100", "-y", "30")
	r.TM.tmux("resize-window", "-t", "e2e", "-x", "120", "-y", "40")
	st := r.Wait(mark, transferWait)
	if st == 0 {
		checkSameFile(r.tb, src, filepath.Join(r.Local, "resized-copy"))
		return
	}
	if m.kind == "" {
		r.tb.Fatalf("send of a large file while the window was resized exited %d", st)
	}
	h := r.TM.Screen()
	if !strings.Contains(h, "data was lost on the way") {
		r.tb.Fatalf("send through %s while the window was resized exited %d without saying that data was lost:\n%s", m.kind, st, indent(h))
	}
	waitDir(r.tb, r.Local, "no copy and no temporary file", func(names []string) bool {
		return slices.Equal(names, before)
	})
	r.tb.Logf("%s dropped passthrough data while it redrew; the copy was refused and the client said so", m.kind)
}

// checkUsable checks the shell inside the multiplexer and its terminal modes (stty before the
// transfers), leaves the multiplexer and logs out.
func (m *remoteMux) checkUsable(stty string) {
	r := m.r
	r.tb.Helper()
	r.CheckShellUsable()
	if got := r.SttyState(); got != stty {
		r.tb.Errorf("the pane's terminal modes changed:\n\tbefore %s\n\tafter  %s", stty, got)
	}
	m.Exit()
	r.CheckShellUsable()
	if st := r.Logout(0); st != 0 {
		r.tb.Errorf("xferterm exited %d", st)
	}
}

// TestMultiplexerCancel: Ctrl+C in the middle of a large transfer inside a remote tmux cancels it
// in both directions, inside screen in the send direction (the only one it carries): no partial file is left, tmux's setting is back as it was (here
// set on the pane: "off"), the terminal modes are unchanged and the shell in the pane works.
func TestMultiplexerCancel(t *testing.T) {
	const size = 2 << 30 // sparse: costs no disk on the source side
	for _, kind := range []string{"tmux", "screen"} {
		for _, tc := range []struct {
			direction string
			prompt    *regexp.Regexp
			srcSide   func(r *rig) string
			dstSide   func(r *rig) string
		}{
			{"send", promptSend, func(r *rig) string { return r.Remote }, func(r *rig) string { return r.Local }},
			{"receive", promptReceive, func(r *rig) string { return r.Local }, func(r *rig) string { return r.Remote }},
		} {
			if kind == "screen" && tc.direction == "receive" {
				continue
			}
			t.Run(kind+"/"+tc.direction, func(t *testing.T) {
				r := newRig(t)
				f, err := os.Create(filepath.Join(tc.srcSide(r), "huge.bin"))
				if err != nil {
					t.Fatal(err)
				}
				if err := f.Truncate(size); err != nil {
					t.Fatal(err)
				}
				_ = f.Close() // Nothing written.
				dst := tc.dstSide(r)
				r.Login()
				m := r.StartRemoteMux(kind, "")
				if kind == "tmux" {
					m.tmux("set-option", "-p", "-t", "inner:0.0", "allow-passthrough", "off")
				}
				stty := r.SttyState()
				r.cancelMidTransfer(tc.direction, tc.prompt, dst)
				m.checkOption("off", "a canceled transfer")
				m.checkUsable(stty)
			})
		}
	}
}

// cancelMidTransfer starts a transfer of huge.bin in direction, allows it, presses Ctrl+C once
// something new exists in dst, and checks that the client failed and no partial file is left.
func (r *rig) cancelMidTransfer(direction string, prompt *regexp.Regexp, dst string) {
	t := r.tb
	t.Helper()
	before := visibleEntries(t, dst)
	mark := r.Transfer("--compress", "never", "--direction", direction, "huge.bin", "huge-copy.bin")
	r.Answer(mark, prompt, "y")
	waitDir(t, dst, "a file being written in "+dst, func(names []string) bool {
		return len(names) > len(before)
	})
	r.TM.Keys("C-c")
	if st := r.Wait(mark, transferWait); st == 0 {
		t.Errorf("xferterm transfer exited 0 after Ctrl+C")
	}
	waitDir(t, dst, "no partial file in "+dst, func(names []string) bool {
		return slices.Equal(names, before)
	})
}
