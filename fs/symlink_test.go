package fs_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// The tests of finding 1 of issue 16: a symbolic link must not launder a read. Specs are
// described by where they really lead, the listing holds to what was described, and an
// uploaded link is decided by where it points once its data has arrived.

// sshHome makes a home with ~/.ssh/id_ed25519 (the secret) and ~/Pictures/cat.jpg.
func sshHome(t *testing.T, home string) {
	t.Helper()
	for _, d := range []string{".ssh", "Pictures"} {
		must(t, os.Mkdir(filepath.Join(home, d), 0o700))
	}
	must(t, os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), []byte(secretKey), 0o600))
	must(t, os.WriteFile(filepath.Join(home, "Pictures", "cat.jpg"), []byte("meow"), 0o600))
}

const secretKey = "-----BEGIN OPENSSH PRIVATE KEY-----"

// TestDescribeSpecsThroughLinks: a spec reached through a symbolic link (its own,
// followed by a trailing slash, or one of its parents) is described with the real path
// of what the listing reads; a spec that is a link, with where it points; chains and
// ".." after a link are resolved as the kernel does; a loop is described as the link.
func TestDescribeSpecsThroughLinks(t *testing.T) {
	home := t.TempDir()
	sshHome(t, home)
	for link, to := range map[string]string{
		"photos": ".ssh", "hop1": "hop2", "hop2": "photos", "up": "Pictures/..", "loop1": "loop2", "loop2": "loop1",
		"Pictures/key": "../.ssh/id_ed25519",
	} {
		must(t, os.Symlink(to, filepath.Join(home, link)))
	}
	ssh := filepath.Join(home, ".ssh")
	for _, tc := range []struct {
		spec   string
		typ    scanner.FileType
		target string
		dir    bool
	}{
		// "~/" and absolute names are not normalised (terminal-side.md §8): a trailing
		// slash makes lstat, and the listing, follow the link.
		{"~/photos/", scanner.FileDirectory, ssh, true},
		{home + "/photos/", scanner.FileDirectory, ssh, true},
		{"~/hop1/", scanner.FileDirectory, ssh, true},
		{"~/photos/.", scanner.FileDirectory, ssh, true},
		{"~/photos/..", scanner.FileDirectory, "", false}, // .ssh/.. is home itself
		// Relative names are (normpath): the link itself is listed.
		{"photos/", scanner.FileSymlink, ssh, true},
		{"photos", scanner.FileSymlink, ssh, true},
		{"hop1", scanner.FileSymlink, ssh, true},
		{"photos/id_ed25519", scanner.FileRegular, filepath.Join(ssh, "id_ed25519"), false},
		{"up/.ssh/id_ed25519", scanner.FileRegular, filepath.Join(ssh, "id_ed25519"), false},
		{"Pictures/key", scanner.FileSymlink, filepath.Join(ssh, "id_ed25519"), false},
		{"Pictures/cat.jpg", scanner.FileRegular, "", false},
		{"loop1", scanner.FileSymlink, "", false},
		// ".." after a real directory is what it says: nothing to show.
		{home + "/./Pictures/../Pictures/cat.jpg", scanner.FileRegular, "", false},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			it := fs.DescribeSpecs(home, []string{tc.spec}, fs.MaxDescribeEntries)[0]
			if it.Err != "" || it.Type != tc.typ || it.Target != tc.target || it.TargetDir != tc.dir {
				t.Errorf("described as %+v; want type %v, target %q (dir %v)", it, tc.typ, tc.target, tc.dir)
			}
		})
	}
}

// TestListingHoldsToTheDescription: what the listing reads is what the question
// described. A spec described as missing stays an error when the remote creates it
// (here a link to ~/.ssh) before the answer; a spec swapped for a link after the
// description fails with StatusSpecChanged; neither sends the key.
func TestListingHoldsToTheDescription(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(home string) // the disk as the question describes it
		after  func(home string) // what changes while the question is up
		want   string
	}{
		{"missing, then a link to .ssh", func(string) {}, func(home string) {
			must(t, os.Symlink(".ssh", filepath.Join(home, "photos")))
		}, "0:ENOENT:Failed to read spec"},
		{"a directory, then a link to .ssh", func(home string) {
			must(t, os.Mkdir(filepath.Join(home, "photos"), 0o700))
		}, func(home string) {
			must(t, os.Rename(filepath.Join(home, "photos"), filepath.Join(home, "old")))
			must(t, os.Symlink(".ssh", filepath.Join(home, "photos")))
		}, "0:" + scanner.StatusSpecChanged},
		{"a link to Pictures, then a link to .ssh", func(home string) {
			must(t, os.Symlink("Pictures", filepath.Join(home, "photos")))
		}, func(home string) {
			must(t, os.Remove(filepath.Join(home, "photos")))
			must(t, os.Symlink(".ssh", filepath.Join(home, "photos")))
		}, "0:" + scanner.StatusSpecChanged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPersonApprover(nil)
			h := newDLHarness(t, p, fs.Limits{})
			sshHome(t, h.home)
			tc.before(h.home)
			h.do(receiveCmd("r", 1), specCmd("r", "0", "~/photos/"))
			q := p.next(t)
			if len(q.r.Items) != 1 || q.r.Items[0].Target == filepath.Join(h.home, ".ssh") {
				t.Fatalf("question %+v", q.r.Items)
			}
			tc.after(h.home)
			q.answer(transfer.Decision{Allow: true, How: "test"})
			got := h.pull()
			lines := statusLines(t, got, secretKey)
			if !slices.Contains(lines, tc.want) || slices.ContainsFunc(got, func(c scanner.Command) bool {
				return c.Action == scanner.ActionFile
			}) {
				t.Errorf("listing %q, want the error %q and no entry", lines, tc.want)
			}
		})
	}
}

// TestUploadLinkIsDecidedByItsTarget: once a symbolic link's data has arrived, the
// approval side is asked where it leads (resolved through the links on the way, in
// home's terms) before it is made; a refusal fails it and makes nothing; data for it
// meanwhile is for a closed file; other files go on.
func TestUploadLinkIsDecidedByItsTarget(t *testing.T) {
	p := newPersonApprover(func(r transfer.Request) (transfer.Decision, bool) {
		return transfer.Decision{Allow: true, How: "test"}, r.File == nil || r.File.Target == ""
	})
	h := newUpHarness(t, withApprover(p))
	must(t, os.Mkdir(filepath.Join(h.home, ".ssh"), 0o700))
	must(t, os.Symlink(".ssh", filepath.Join(h.home, "dots")))
	h.start("s")
	links := []struct{ name, data string }{
		{"photos", "path:.ssh"}, {"sub/keys", "path:../dots/authorized_keys"}, {"abs", "path:/etc/passwd"},
	}
	for i, c := range links { // as the client does: every file first, then the data
		l := fileCmd("s", itoa(i+1), c.name)
		l.FileType = scanner.FileSymlink
		wantReplies(t, h, h.do(l), "status fid="+itoa(i+1)+" st=STARTED n=~/"+c.name)
	}
	for i, c := range links {
		wantReplies(t, h, h.do(endCmd("s", itoa(i+1), []byte(c.data))))
	}
	wantReplies(t, h, h.do(endCmd("s", "1", []byte("more"))), "status fid=1 st="+scanner.StatusClosedFile)
	for _, want := range []struct {
		path, target string
		allow        bool
	}{
		{"photos", filepath.Join(h.home, ".ssh"), false},
		{"sub/keys", filepath.Join(h.home, ".ssh", "authorized_keys"), true},
		{"abs", "/etc/passwd", false},
	} {
		q := p.next(t)
		if f := q.r.File; f == nil || f.Path != filepath.Join(h.home, want.path) || f.Type != scanner.FileSymlink || f.Target != want.target {
			t.Fatalf("question %+v, want one about %s pointing to %s", q.r.File, want.path, want.target)
		}
		q.answer(transfer.Decision{Allow: want.allow, How: "test"})
	}
	got := h.show(h.pull())
	if strings.Count(got, scanner.StatusDestinationRefused) != 2 || !strings.Contains(got, "fid=2 st=OK n=~/sub/keys sz=") {
		t.Errorf("replies:\n%s", got)
	}
	if slices.ContainsFunc(tree(t, h.home), func(p string) bool { return p == "photos@" || p == "abs@" }) {
		t.Errorf("a refused link was made: %v", tree(t, h.home))
	}
}
