package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The tests of this file run the kitty client that Debian 12 ships, `kitty +kitten transfer`
// 0.26 (Python), on the remote side of `xferterm -- ssh`, as a person with such a host would:
// xferterm must tell it from the current client (it prints another terminal set-up, and pads
// its base64) and speak its dialect (padded base64, librsync deltas).

// Kitty starts `kitty +kitten transfer args…` in the shell in front (the remote one after Login).
func (r *rig) Kitty(args ...string) int {
	r.tb.Helper()
	cmd := "kitty +kitten transfer"
	for _, a := range args {
		cmd += " " + shellQuote(a)
	}
	return r.Start(cmd)
}

// kittyVersion is the version line `kitty --version` must print: the tests are about this client.
var kittyVersion = regexp.MustCompile(`^kitty 0\.26\.`)

func (r *rig) checkKitty026() {
	r.tb.Helper()
	if v := r.Value(`$(kitty --version)`); !kittyVersion.MatchString(v) {
		r.tb.Fatalf("e2e: kitty --version says %q; these tests need Debian 12's kitty 0.26", v)
	}
}

// TestKitty026SendAndReceive: files go both ways after the user presses y: a small one, and
// one large and compressible enough that the client compresses it (zlib), with their bytes,
// permission bits and mtimes; and in --mode mirror.
func TestKitty026SendAndReceive(t *testing.T) {
	r := newRig(t)
	writeFile(t, filepath.Join(r.Remote, "small.txt"), []byte("hello from 0.26\n"), 0o640)
	setMtime(t, filepath.Join(r.Remote, "small.txt"), fixedTime)
	writeFile(t, filepath.Join(r.Remote, "big.txt"), textBytes(11, 3<<20+5), 0o644)
	setMtime(t, filepath.Join(r.Remote, "big.txt"), fixedTime)
	writeFile(t, filepath.Join(r.Local, "notes.txt"), textBytes(12, 2<<20+7), 0o600)
	setMtime(t, filepath.Join(r.Local, "notes.txt"), fixedTime)
	writeFile(t, filepath.Join(r.Local, "blob.bin"), randomBytes(13, 1<<20+3), 0o644)
	setMtime(t, filepath.Join(r.Local, "blob.bin"), fixedTime)
	r.Login()
	r.checkKitty026()

	m := r.Kitty("small.txt", "big.txt", "got/")
	r.Answer(m, promptSend, "y")
	if st := r.Wait(m, transferWait); st != 0 {
		t.Fatalf("kitty +kitten transfer (send) exited %d", st)
	}
	checkSameFile(t, filepath.Join(r.Remote, "small.txt"), filepath.Join(r.Local, "got", "small.txt"))
	checkSameFile(t, filepath.Join(r.Remote, "big.txt"), filepath.Join(r.Local, "got", "big.txt"))

	m = r.Kitty("--direction", "receive", "notes.txt", "blob.bin", "back/")
	r.AnswerWhen(m, "the prompt listing notes.txt", func(h string) bool {
		return promptReceive.MatchString(h) && strings.Contains(h, "notes.txt")
	}, "y")
	if st := r.Wait(m, transferWait); st != 0 {
		t.Fatalf("kitty +kitten transfer (receive) exited %d", st)
	}
	checkSameFile(t, filepath.Join(r.Local, "notes.txt"), filepath.Join(r.Remote, "back", "notes.txt"))
	checkSameFile(t, filepath.Join(r.Local, "blob.bin"), filepath.Join(r.Remote, "back", "blob.bin"))

	// --mode mirror: the same path under HOME on the other side (the client sends ~/…).
	writeFile(t, filepath.Join(r.Remote, "m", "up.txt"), []byte("mirrored up\n"), 0o644)
	setMtime(t, filepath.Join(r.Remote, "m", "up.txt"), fixedTime)
	writeFile(t, filepath.Join(r.Local, "n", "down.txt"), []byte("mirrored down\n"), 0o644)
	setMtime(t, filepath.Join(r.Local, "n", "down.txt"), fixedTime)
	m = r.Kitty("--mode", "mirror", "m/up.txt")
	r.Answer(m, promptSend, "y")
	if st := r.Wait(m, transferWait); st != 0 {
		t.Fatalf("mirror send exited %d", st)
	}
	checkSameFile(t, filepath.Join(r.Remote, "m", "up.txt"), filepath.Join(r.Local, "m", "up.txt"))
	m = r.Kitty("--mode", "mirror", "--direction", "receive", "n/down.txt")
	r.Answer(m, promptReceive, "y")
	if st := r.Wait(m, transferWait); st != 0 {
		t.Fatalf("mirror receive exited %d", st)
	}
	checkSameFile(t, filepath.Join(r.Local, "n", "down.txt"), filepath.Join(r.Remote, "n", "down.txt"))
	r.CheckShellUsable()
	if st := r.Logout(0); st != 0 {
		t.Errorf("xferterm exited %d", st)
	}
}

// TestKitty026Tree: a directory tree with symlinks (relative, absolute, dangling, to a
// directory) and hard links goes through in both directions and comes out the same. The
// 0.26 client sends a hard link's target as a bare file id, which xferterm takes as one, and
// asks for zlib on a hard link to a large file but sends its data plain. A symlink to a file
// with hard links names its first name the client found (its target goes as a file id), and
// that client does not keep the mtimes of the directories it receives. (Into a destination
// named with a trailing slash: without one, that client puts the directory's entries one
// level further down.)
func TestKitty026Tree(t *testing.T) {
	r := newRig(t)
	makeTree(t, filepath.Join(r.Remote, "tree"))
	makeTree(t, filepath.Join(r.Local, "ltree"))
	r.Login()

	m := r.Kitty("tree", "tree-copy/")
	r.AnswerTreeSend(m)
	if st := r.Wait(m, transferWait); st != 0 {
		t.Errorf("send of a tree exited %d", st)
	}
	checkSameTree(t, filepath.Join(r.Remote, "tree"), filepath.Join(r.Local, "tree-copy", "tree"), dirMtimes|linkPeers)

	m = r.Kitty("--direction", "receive", "ltree", "ltree-copy/")
	r.Answer(m, promptReceive, "y")
	if st := r.Wait(m, transferWait); st != 0 {
		t.Errorf("receive of a tree exited %d", st)
	}
	checkSameTree(t, filepath.Join(r.Local, "ltree"), filepath.Join(r.Remote, "ltree-copy", "ltree"), 0)
	r.Logout(0)
}

// outputOf returns what the command of mark printed: the pane's history between its command line
// and its marker.
func (r *rig) outputOf(mark int) string {
	r.tb.Helper()
	h := r.TM.WaitFor("the marker", shortWait, func(h string) bool { return lastLineMatch(markerRE(mark), h) != nil })
	start := strings.LastIndex(h, fmt.Sprintf(`E2E-%d "$?"`, mark))
	end := strings.LastIndex(h, fmt.Sprintf("E2E-%d:", mark))
	if start < 0 || end < start {
		r.tb.Fatalf("e2e: no output of command %d in the pane:\n%s", mark, indent(h))
	}
	return h[start:end]
}

// rsyncShare matches the 0.26 client's closing "Rsync stats" line and captures the share of the
// file that went over the wire (delta and signature).
var rsyncShare = regexp.MustCompile(`Transmitted: .* of a total of .* \(([0-9.]+)%\)`)

// checkDeltaUsed checks that the transfer of mark printed rsync stats with less than maxShare
// percent of the file transmitted: a delta, not the whole file.
func (r *rig) checkDeltaUsed(mark int, maxShare float64) {
	r.tb.Helper()
	out := r.outputOf(mark)
	m := rsyncShare.FindStringSubmatch(out)
	if m == nil {
		r.tb.Fatalf("e2e: no rsync stats in the client's output:\n%s", indent(out))
	}
	if share, err := strconv.ParseFloat(m[1], 64); err != nil || share >= maxShare {
		r.tb.Errorf("e2e: %s%% of the file was transmitted, want under %v%%: no delta?\n%s", m[1], maxShare, indent(out))
	}
}

// TestKitty026Deltas: --transmit-deltas against an older copy on the receiving side gives the
// new file byte for byte in both directions, in librsync's format, and only a small share of it
// crosses the terminal.
func TestKitty026Deltas(t *testing.T) {
	r := newRig(t)
	// .zip: a name the client sends uncompressed; doc.txt goes compressed.
	newBin, newText := deltaFixtures(t, r, "big.zip", 21)
	r.Login()

	m := r.Kitty("--transmit-deltas", "big.zip", "big.zip")
	r.Answer(m, promptSend, "y")
	if st := r.Wait(m, transferWait); st != 0 {
		t.Fatalf("send with deltas exited %d", st)
	}
	checkSameFile(t, newBin, filepath.Join(r.Local, "big.zip"))
	r.checkDeltaUsed(m, 10)

	m = r.Kitty("--transmit-deltas", "--direction", "receive", "doc.txt", "doc.txt")
	r.Answer(m, promptReceive, "y")
	if st := r.Wait(m, transferWait); st != 0 {
		t.Fatalf("receive with deltas exited %d", st)
	}
	checkSameFile(t, newText, filepath.Join(r.Remote, "doc.txt"))
	r.checkDeltaUsed(m, 10)
	r.Logout(0)
}

// TestKitty026Bypass: the 0.26 client's --permissions-bypass sends the sha256 scheme (it knows
// nothing of KITTY_PUBLIC_KEY); with xferterm's --password-file it goes through without a prompt
// in both directions, and a wrong password is refused without writing anything.
func TestKitty026Bypass(t *testing.T) {
	r := newRig(t)
	up, down := bypassFixtures(t, r, 23)

	m := r.Kitty("--permissions-bypass", "./pw", "up.bin", "up-copy.bin")
	if st := r.waitNoPrompt(m); st != 0 {
		t.Fatalf("send with the right password exited %d", st)
	}
	checkSameFile(t, up, filepath.Join(r.Local, "up-copy.bin"))

	m = r.Kitty("-p", "./pw", "--direction", "receive", "down.txt", "down-copy.txt")
	if st := r.waitNoPrompt(m); st != 0 {
		t.Fatalf("receive with the right password exited %d", st)
	}
	checkSameFile(t, down, filepath.Join(r.Remote, "down-copy.txt"))
	for _, dir := range []string{"send", "receive"} {
		r.waitAudit("the "+dir+" granted by the sha256 bypass", func(a auditRecord) bool {
			return a.Kind == "session" && a.Direction == dir && a.Method == "bypass" && a.Scheme == "sha256" && a.Result == "allowed"
		})
	}

	r.checkWrongPassword(r.Kitty("-p", "./wrong-pw", "up.bin", "wrong-copy.bin"), filepath.Join(r.Local, "wrong-copy.bin"))
	r.Logout(0)
}

// TestKitty026Denied: n at the prompt refuses the 0.26 client in both directions; it says so,
// and nothing is written on either side. It fails in the send direction; in the receive
// direction that client exits 0 whatever happened (its receive_main never passes its loop's
// return code on), so only its words tell.
func TestKitty026Denied(t *testing.T) {
	r := newRig(t)
	writeFile(t, filepath.Join(r.Remote, "secret.txt"), []byte("remote data\n"), 0o644)
	writeFile(t, filepath.Join(r.Local, "secret.txt"), []byte("local data\n"), 0o644)
	r.Login()
	for _, tc := range []struct {
		args     []string
		prompt   *regexp.Regexp
		says     string
		exitCode int
	}{
		{[]string{"secret.txt", "copy.txt"}, promptSend, "Permission denied for this transfer", 1},
		{[]string{"--direction", "receive", "secret.txt", "copy.txt"}, promptReceive, "Permission for transfer denied", 0},
	} {
		m := r.Kitty(tc.args...)
		r.Answer(m, tc.prompt, "n")
		if st := r.Wait(m, transferWait); st != tc.exitCode {
			t.Errorf("%v exited %d after a denial, want %d", tc.args, st, tc.exitCode)
		}
		if out := r.outputOf(m); !strings.Contains(out, tc.says) {
			t.Errorf("%v: the client does not say %q:\n%s", tc.args, tc.says, indent(out))
		}
	}
	for _, p := range []string{filepath.Join(r.Local, "copy.txt"), filepath.Join(r.Remote, "copy.txt")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was written although the transfer was denied", p)
		}
	}
	r.CheckShellUsable()
	r.Logout(0)
}

// TestKitty026CtrlC: Ctrl+C in the middle of a large transfer with the 0.26 client cancels it in
// both directions: xferterm answers CANCELED and the client stops at once; no partial or
// temporary file is left on the terminal's side, and both terminals work afterwards. The client
// fails in the send direction; in the receive direction it exits 0 whatever happened (see
// TestKitty026Denied), and writes what it receives in place, so the remote side keeps a partial
// file: its doing. There the audit log and the partial file show the cancel.
func TestKitty026CtrlC(t *testing.T) {
	for _, tc := range cancelCases {
		t.Run(tc.direction, func(t *testing.T) {
			// .zip: a name the client does not compress, so the transfer takes a while.
			cancelMidTransfer(t, tc, "huge.zip", func(r *rig) int {
				return r.Kitty("--direction", tc.direction, "huge.zip", "huge-copy.zip")
			}, func(r *rig, st int, dst string, before []string) {
				if tc.direction == "receive" {
					r.waitAudit("the canceled download", func(a auditRecord) bool {
						return a.Kind == "file" && a.Direction == "receive" && a.Result == "canceled"
					})
					if fi, err := os.Stat(filepath.Join(dst, "huge-copy.zip")); err == nil && fi.Size() >= hugeSize {
						t.Errorf("the whole file arrived despite Ctrl+C")
					}
					return
				}
				if st == 0 {
					t.Errorf("kitty +kitten transfer exited 0 after Ctrl+C")
				}
				waitDir(t, dst, "no partial file in "+dst, func(names []string) bool {
					return slices.Equal(names, before)
				})
			})
		})
	}
}
