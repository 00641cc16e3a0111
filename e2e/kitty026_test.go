package e2e

import (
	"path/filepath"
	"regexp"
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
// permission bits and mtimes.
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
	r.Answer(m, promptSend, "y")
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
