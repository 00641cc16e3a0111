package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The transfer tests log in through xferterm and run `xferterm transfer` on the remote side, as a
// person would. Directions are the client's: send = remote → local (the terminal writes), receive
// = local → remote (the terminal reads). Relative paths on the terminal's side resolve against its
// HOME (r.Local); relative paths on the remote side against the remote shell's directory.

// TestTransferSendApproved: a file sent from the remote host arrives in the local HOME after the
// user presses y, with its bytes, permission bits and mtime.
func TestTransferSendApproved(t *testing.T) {
	r := newRig(t)
	src := filepath.Join(r.Remote, "report.bin")
	writeFile(t, src, randomBytes(1, 3<<20+17), 0o640)
	setMtime(t, src, fixedTime)
	r.Login()

	m := r.Transfer("--direction", "send", "report.bin", "report-copy.bin")
	r.Answer(m, promptSend, "y")
	if st := r.Wait(m, transferWait); st != 0 {
		t.Fatalf("xferterm transfer exited %d, want 0", st)
	}
	dst := filepath.Join(r.Local, "report-copy.bin")
	checkSameFile(t, src, dst)
	r.waitAudit("the allowed upload", func(a auditRecord) bool {
		return a.Kind == "session" && a.Direction == "send" && a.Method == "prompt" && a.Result == "allowed"
	})
	r.waitAudit("the file written", func(a auditRecord) bool {
		return a.Kind == "file" && a.Path == dst && a.Result == "ok" && a.Bytes == 3<<20+17
	})
	r.CheckShellUsable()
	if st := r.Logout(0); st != 0 {
		t.Errorf("xferterm exited %d", st)
	}
}

// TestTransferReceiveApproved: a local file read by the remote client arrives on the remote side
// after the user sees its path in the prompt and presses y.
func TestTransferReceiveApproved(t *testing.T) {
	r := newRig(t)
	src := filepath.Join(r.Local, "notes.txt")
	writeFile(t, src, textBytes(2, 2<<20+5), 0o600)
	setMtime(t, src, fixedTime)
	r.Login()

	m := r.Transfer("--direction", "receive", "notes.txt", "notes-copy.txt")
	r.AnswerWhen(m, "the prompt listing notes.txt", func(h string) bool {
		return promptReceive.MatchString(h) && strings.Contains(h, "notes.txt")
	}, "y")
	if st := r.Wait(m, transferWait); st != 0 {
		t.Fatalf("xferterm transfer exited %d, want 0", st)
	}
	checkSameFile(t, src, filepath.Join(r.Remote, "notes-copy.txt"))
	r.waitAudit("the allowed download", func(a auditRecord) bool {
		return a.Kind == "session" && a.Direction == "receive" && a.Method == "prompt" && a.Result == "allowed"
	})
	r.waitAudit("the file read", func(a auditRecord) bool {
		return a.Kind == "file" && a.Path == src && a.Result == "ok"
	})
	r.CheckShellUsable()
	r.Logout(0)
}

// TestPrompt: the approval prompt as a person answers it. Only y allows: n, Esc and Ctrl+C deny,
// Enter alone does nothing, and no answer denies after prompt_timeout. A denied client fails,
// nothing is written on either side, the screen under the prompt is given back unchanged and the
// shell works afterwards.
func TestPrompt(t *testing.T) {
	for _, tc := range []struct {
		name, direction string
		prompt          *regexp.Regexp
		answer          func(r *rig) // after the prompt is up
		config          string       // config.toml
	}{
		{"n denies a send", "send", promptSend, func(r *rig) { r.TM.Keys("n") }, ""},
		{"Esc denies a receive", "receive", promptReceive, func(r *rig) { r.TM.Keys("Escape") }, ""},
		{"Ctrl+C denies a send", "send", promptSend, func(r *rig) { r.TM.Keys("C-c") }, ""},
		{"Enter alone does not allow", "receive", promptReceive, func(r *rig) {
			r.TM.Keys("Enter")
			r.TM.WaitFor("the hint after Enter", shortWait, regexp.MustCompile(`(?i)press y to allow`).MatchString)
			r.TM.Keys("n")
		}, ""},
		{"no answer denies after prompt_timeout", "send", promptSend, func(*rig) {}, `prompt_timeout = "3s"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			if tc.config != "" {
				writeFile(t, filepath.Join(r.Local, ".config", "xferterm", "config.toml"), []byte(tc.config+"\n"), 0o600)
			}
			writeFile(t, filepath.Join(r.Remote, "secret.txt"), []byte("remote data\n"), 0o644)
			writeFile(t, filepath.Join(r.Local, "secret.txt"), []byte("local data\n"), 0o644)
			r.Login()
			m := r.Transfer("--direction", tc.direction, "secret.txt", "copy.txt")
			r.AnswerWhen(m, "the approval prompt", tc.prompt.MatchString) // No keys yet.
			under, alt := r.TM.SavedScreen()
			tc.answer(r)
			if st := r.Wait(m, transferWait); st == 0 {
				t.Errorf("xferterm transfer exited 0 after a denial")
			}
			for _, p := range []string{filepath.Join(r.Local, "copy.txt"), filepath.Join(r.Remote, "copy.txt")} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s was written although the transfer was denied", p)
				}
			}
			r.waitAudit("the denial", func(a auditRecord) bool {
				return a.Kind == "session" && a.Method == "prompt" && a.Result == "denied"
			})
			if alt {
				checkScreenKept(t, under, r.TM.Screen(), "xferterm transfer")
			} else {
				t.Log("the prompt did not use the alternate screen: the screen under it is not compared")
			}
			r.CheckShellUsable()
			r.Logout(0)
		})
	}
}

// checkScreenKept checks that the rows of before up to the one containing mark are unchanged in
// after: what was on the screen when the prompt came up is still there when it has gone.
func checkScreenKept(tb testing.TB, before, after, mark string) {
	tb.Helper()
	b, a := strings.Split(before, "\n"), strings.Split(after, "\n")
	last := -1
	for i, l := range b {
		if strings.Contains(l, mark) {
			last = i
		}
	}
	if last < 0 {
		tb.Errorf("e2e: %q is not on the screen under the prompt:\n%s", mark, indent(before))
		return
	}
	if len(a) <= last || !slices.Equal(b[:last+1], a[:last+1]) {
		tb.Errorf("e2e: the screen under the prompt changed:\nbefore:\n%s\nafter:\n%s", indent(before), indent(after))
	}
}

// TestTransferBypass: with the pre-shared secret on both sides (xferterm --password-file locally,
// xferterm transfer --password-file remotely) and KITTY_PUBLIC_KEY exported over ssh (SendEnv),
// transfers go through without a prompt in both directions; a wrong password is refused.
func TestTransferBypass(t *testing.T) {
	r := newRig(t)
	up, down := bypassFixtures(t, r, 3)
	if k := r.Value(`$KITTY_PUBLIC_KEY`); !strings.HasPrefix(k, "1:") {
		t.Fatalf("remote KITTY_PUBLIC_KEY = %q: ssh did not forward xferterm's key", k)
	}

	m := r.Transfer("--password-file", "pw", "--direction", "send", "up.bin", "up-copy.bin")
	if st := r.waitNoPrompt(m); st != 0 {
		t.Fatalf("send with the right password exited %d", st)
	}
	checkSameFile(t, up, filepath.Join(r.Local, "up-copy.bin"))

	m = r.Transfer("--password-file", "pw", "--direction", "receive", "down.txt", "down-copy.txt")
	if st := r.waitNoPrompt(m); st != 0 {
		t.Fatalf("receive with the right password exited %d", st)
	}
	checkSameFile(t, down, filepath.Join(r.Remote, "down-copy.txt"))
	for _, dir := range []string{"send", "receive"} {
		r.waitAudit("the "+dir+" granted by the bypass", func(a auditRecord) bool {
			return a.Kind == "session" && a.Direction == dir && a.Method == "bypass" && a.Scheme == "kitty-1" && a.Result == "allowed"
		})
	}

	r.checkWrongPassword(r.Transfer("--password-file", "wrong-pw", "--direction", "send", "up.bin", "wrong-copy.bin"),
		filepath.Join(r.Local, "wrong-copy.bin"))
	r.Logout(0)
}

// checkWrongPassword checks the send of mark, started with a wrong password for the
// destination dst: it fails and writes nothing, the audit log has the refusal and no secret,
// and the shell works. Whether xferterm refuses outright (as kitty does) or falls back to
// asking, the answer here is no.
func (r *rig) checkWrongPassword(mark int, dst string) {
	r.tb.Helper()
	h := r.TM.WaitFor("the end of the transfer or a prompt", transferWait, func(h string) bool {
		return lastLineMatch(markerRE(mark), h) != nil || promptSend.MatchString(h)
	})
	if lastLineMatch(markerRE(mark), h) == nil {
		r.TM.Keys("n")
	}
	if st := r.Wait(mark, transferWait); st == 0 {
		r.tb.Errorf("send with a wrong password exited 0")
	}
	if _, err := os.Lstat(dst); err == nil {
		r.tb.Errorf("a send with a wrong password wrote its file")
	}
	r.waitAudit("the refused bypass", func(a auditRecord) bool {
		return a.Kind == "session" && a.Result == "denied"
	})
	r.checkAuditSecretFree("correct horse", "incorrect horse")
	r.CheckShellUsable()
}

// bypassFixtures writes the secret for xferterm (outside both homes), the right and a wrong one
// on the remote side (pw, wrong-pw), a file to send (up.bin) and one to receive (down.txt); then
// it logs in through xferterm --password-file. It returns the two files' paths.
func bypassFixtures(tb testing.TB, r *rig, seed uint64) (up, down string) {
	tb.Helper()
	localPW := filepath.Join(r.Base, "password")
	writeFile(tb, localPW, []byte("correct horse battery staple\n"), 0o600)
	writeFile(tb, filepath.Join(r.Remote, "pw"), []byte("correct horse battery staple\n"), 0o600)
	writeFile(tb, filepath.Join(r.Remote, "wrong-pw"), []byte("incorrect horse\n"), 0o600)
	up = filepath.Join(r.Remote, "up.bin")
	writeFile(tb, up, randomBytes(seed, 1<<20+3), 0o644)
	setMtime(tb, up, fixedTime)
	down = filepath.Join(r.Local, "down.txt")
	writeFile(tb, down, textBytes(seed+1, 512<<10), 0o644)
	setMtime(tb, down, fixedTime)
	r.Login("--password-file", localPW)
	return up, down
}

// waitNoPrompt waits for the command of mark and fails at once if an approval prompt shows up.
func (r *rig) waitNoPrompt(mark int) int {
	r.tb.Helper()
	h := r.TM.WaitFor("the transfer to end without a prompt", transferWait, func(h string) bool {
		return lastLineMatch(markerRE(mark), h) != nil || promptSend.MatchString(h) || promptReceive.MatchString(h)
	})
	if lastLineMatch(markerRE(mark), h) == nil {
		r.tb.Fatalf("e2e: the bypass did not bypass: an approval prompt is on the screen")
	}
	return r.Wait(mark, shortWait)
}

// editedCopy returns old with the kinds of edits deltas are for: an overwrite, an insertion and a
// deletion in the middle, a changed tail.
func editedCopy(old []byte) []byte {
	n := slices.Clone(old)
	copy(n[1<<20:], "an overwrite in the middle of the second MiB")
	n = slices.Insert(n, 3<<20, randomBytes(99, 1000)...)
	n = slices.Delete(n, 4<<20, 4<<20+777)
	n = append(n[:len(n)-10<<10], randomBytes(98, 5<<10)...)
	return n
}

// deltaFixtures writes, for deltas in both directions, a 6 MiB binary bin whose new version is
// remote and old version local, and a 5 MiB text doc.txt whose new version is local and old
// version remote. It returns the paths of the two new versions.
func deltaFixtures(tb testing.TB, r *rig, bin string, seed uint64) (newBin, newText string) {
	tb.Helper()
	oldBin := randomBytes(seed, 6<<20)
	writeFile(tb, filepath.Join(r.Local, bin), oldBin, 0o644)
	newBin = filepath.Join(r.Remote, bin)
	writeFile(tb, newBin, editedCopy(oldBin), 0o640)
	setMtime(tb, newBin, fixedTime)

	oldText := textBytes(seed+1, 5<<20)
	writeFile(tb, filepath.Join(r.Remote, "doc.txt"), oldText, 0o644)
	newText = filepath.Join(r.Local, "doc.txt")
	writeFile(tb, newText, editedCopy(oldText), 0o600)
	setMtime(tb, newText, fixedTime.Add(time.Hour))
	return newBin, newText
}

// TestTransferDeltas: --transmit-deltas against an older copy on the receiving side gives the new
// file byte for byte, in both directions.
func TestTransferDeltas(t *testing.T) {
	r := newRig(t)
	newBin, newText := deltaFixtures(t, r, "big.bin", 5)
	r.Login()

	m := r.Transfer("--transmit-deltas", "--direction", "send", "big.bin", "big.bin")
	r.Answer(m, promptSend, "y")
	if st := r.Wait(m, transferWait); st != 0 {
		t.Fatalf("send with deltas exited %d", st)
	}
	checkSameFile(t, newBin, filepath.Join(r.Local, "big.bin"))

	m = r.Transfer("--transmit-deltas", "--direction", "receive", "doc.txt", "doc.txt")
	r.Answer(m, promptReceive, "y")
	if st := r.Wait(m, transferWait); st != 0 {
		t.Fatalf("receive with deltas exited %d", st)
	}
	checkSameFile(t, newText, filepath.Join(r.Remote, "doc.txt"))
	r.Logout(0)
}

// makeTree builds a directory tree with nested directories, an empty one, relative symlinks (to a
// file, up a level, to a directory), an absolute and a dangling symlink, and hard links; every
// entry gets a distinct fixed mtime.
func makeTree(tb testing.TB, root string) {
	tb.Helper()
	writeFile(tb, filepath.Join(root, "a.txt"), textBytes(7, 20<<10), 0o644)
	writeFile(tb, filepath.Join(root, "run.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755)
	writeFile(tb, filepath.Join(root, "sub", "b.bin"), randomBytes(8, 300<<10), 0o600)
	writeFile(tb, filepath.Join(root, "sub", "deeper", "c.txt"), []byte("deep\n"), 0o644)
	writeFile(tb, filepath.Join(root, "sub", "empty.txt"), nil, 0o644)
	for _, d := range []string{filepath.Join(root, "empty")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	links := []struct{ target, name string }{
		{"a.txt", "rel-link"},
		{"../a.txt", "sub/up-link"},
		{"sub", "dir-link"},
		{"does-not-exist", "dangling"},
		{"/etc/hostname", "abs-link"},
	}
	for _, l := range links {
		if err := os.Symlink(l.target, filepath.Join(root, l.name)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.Link(filepath.Join(root, "a.txt"), filepath.Join(root, "hard-a.txt")); err != nil {
		tb.Fatal(err)
	}
	if err := os.Link(filepath.Join(root, "sub", "b.bin"), filepath.Join(root, "sub", "deeper", "hard-b.bin")); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "sub"), 0o750); err != nil {
		tb.Fatal(err)
	}
	// Mtimes last, deepest first, so that creating entries does not change them again.
	var paths []string
	_ = filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		paths = append(paths, p)
		return err
	})
	for i := len(paths) - 1; i >= 0; i-- {
		setMtime(tb, paths[i], fixedTime.Add(time.Duration(i)*time.Minute))
	}
}

// TestTransferTree: a directory tree with links goes through in both directions, and comes out
// the same: contents, permission bits, mtimes, symlink targets, hard-link groups.
func TestTransferTree(t *testing.T) {
	r := newRig(t)
	makeTree(t, filepath.Join(r.Remote, "tree"))
	makeTree(t, filepath.Join(r.Local, "ltree"))
	r.Login()

	m := r.Transfer("--direction", "send", "tree", "tree-copy")
	r.AnswerTreeSend(m)
	if st := r.Wait(m, transferWait); st != 0 {
		t.Errorf("send of a tree exited %d", st)
	}
	checkSameTree(t, filepath.Join(r.Remote, "tree"), filepath.Join(r.Local, "tree-copy"), dirMtimes)

	m = r.Transfer("--direction", "receive", "ltree", "ltree-copy")
	r.Answer(m, promptReceive, "y")
	if st := r.Wait(m, transferWait); st != 0 {
		t.Errorf("receive of a tree exited %d", st)
	}
	checkSameTree(t, filepath.Join(r.Local, "ltree"), filepath.Join(r.Remote, "ltree-copy"), dirMtimes)
	r.Logout(0)
}

// TestTransferCancel: Ctrl+C in the middle of a large transfer cancels it in both directions: the
// client fails, no partial or temporary file is left beside the destination, and the terminal
// works afterwards.
func TestTransferCancel(t *testing.T) {
	for _, tc := range cancelCases {
		t.Run(tc.direction, func(t *testing.T) {
			cancelMidTransfer(t, tc, "huge.bin", func(r *rig) int {
				return r.Transfer("--compress", "never", "--direction", tc.direction, "huge.bin", "huge-copy.bin")
			}, func(r *rig, st int, dst string, before []string) {
				if st == 0 {
					t.Errorf("xferterm transfer exited 0 after Ctrl+C")
				}
				waitDir(t, dst, "no partial file in "+dst, func(names []string) bool {
					return slices.Equal(names, before)
				})
			})
		})
	}
}

// cancelMidTransfer makes a sparse file name of hugeSize on tc's source side, logs in, starts
// the transfer of it with start, answers the prompt, presses Ctrl+C once something new (the
// temporary file) exists beside the destination, and hands the client's exit status, the
// destination directory and its entries before the transfer to check. Then it checks what
// every canceled transfer must keep: the remote terminal's modes, a usable shell on both
// sides, xferterm's exit status.
func cancelMidTransfer(t *testing.T, tc cancelCase, name string, start func(r *rig) int,
	check func(r *rig, st int, dst string, before []string)) {
	t.Helper()
	r := newRig(t)
	sparseFile(t, filepath.Join(tc.srcSide(r), name), hugeSize)
	dst := tc.dstSide(r)
	r.Login()
	stty := r.SttyState()
	before := visibleEntries(t, dst)

	m := start(r)
	r.Answer(m, tc.prompt, "y")
	waitDir(t, dst, "a file being written in "+dst, func(names []string) bool {
		return len(names) > len(before)
	})
	r.TM.Keys("C-c")
	check(r, r.Wait(m, transferWait), dst, before)
	r.CheckShellUsable()
	if got := r.SttyState(); got != stty {
		t.Errorf("remote terminal modes changed by the canceled transfer:\n\tbefore %s\n\tafter  %s", stty, got)
	}
	if st := r.Logout(0); st != 0 {
		t.Errorf("xferterm exited %d", st)
	}
	r.CheckShellUsable()
}

// cancelCase is one direction of a canceled transfer: the prompt it raises and the sides of
// its source and destination.
type cancelCase struct {
	direction string
	prompt    *regexp.Regexp
	srcSide   func(r *rig) string // directory of the source
	dstSide   func(r *rig) string // directory that receives
}

// cancelCases are the two directions.
var cancelCases = []cancelCase{
	{"send", promptSend, func(r *rig) string { return r.Remote }, func(r *rig) string { return r.Local }},
	{"receive", promptReceive, func(r *rig) string { return r.Local }, func(r *rig) string { return r.Remote }},
}

// hugeSize is the size of the sparse file a transfer is canceled in the middle of.
const hugeSize = 2 << 30

// sparseFile creates path holding size zero bytes that take no disk.
func sparseFile(tb testing.TB, path string, size int64) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		tb.Fatal(err)
	}
	_ = f.Close() // Nothing written.
}

// visibleEntries lists dir without the configuration and state directories xferterm keeps in HOME.
func visibleEntries(tb testing.TB, dir string) []string {
	tb.Helper()
	return slices.DeleteFunc(listDir(tb, dir), func(n string) bool { return n == ".config" || n == ".local" })
}

// waitDir polls the entries of dir until cond holds, and fails the test after transferWait.
func waitDir(tb testing.TB, dir, what string, cond func(names []string) bool) {
	tb.Helper()
	deadline := time.Now().Add(transferWait)
	for {
		names := visibleEntries(tb, dir)
		if cond(names) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("e2e: waited %v for %s; it holds %q", transferWait, what, names)
		}
		time.Sleep(pollInterval)
	}
}
