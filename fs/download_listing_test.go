package fs_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// makeTree builds, under home:
//
//	tree/a.txt            "alpha"
//	tree/hard1.txt        hard link of tree/a.txt (same spec)
//	tree/sub/b.txt        "beta"
//	tree/sub/deep/c.txt   "gamma"
//	tree/sub/rel          -> ../a.txt (relative, target listed)
//	tree/sub/abs          -> <home>/tree/sub/b.txt (absolute, target listed)
//	tree/dangling         -> nowhere
//	tree/todir            -> sub (a symlink to a directory)
//	tree/fifo             a named pipe (never listed)
//	tree/empty            ""
//	other/hard2.txt       hard link of tree/sub/b.txt (across specs)
//	other/outside         -> / (target outside the listing)
//	lone.txt              "lone"
func makeTree(t testing.TB, home string) {
	t.Helper()
	p := func(s string) string { return filepath.Join(home, s) }
	for _, d := range []string{"tree/sub/deep", "other"} {
		must(t, os.MkdirAll(p(d), 0o755))
	}
	for name, content := range map[string]string{
		"tree/a.txt": "alpha", "tree/sub/b.txt": "beta", "tree/sub/deep/c.txt": "gamma",
		"tree/empty": "", "lone.txt": "lone",
	} {
		must(t, os.WriteFile(p(name), []byte(content), 0o640))
	}
	must(t, os.Link(p("tree/a.txt"), p("tree/hard1.txt")))
	must(t, os.Link(p("tree/sub/b.txt"), p("other/hard2.txt")))
	must(t, os.Symlink("../a.txt", p("tree/sub/rel")))
	must(t, os.Symlink(p("tree/sub/b.txt"), p("tree/sub/abs")))
	must(t, os.Symlink("nowhere", p("tree/dangling")))
	must(t, os.Symlink("sub", p("tree/todir")))
	must(t, os.Symlink("/", p("other/outside")))
	must(t, unix.Mkfifo(p("tree/fifo"), 0o644))
}

// checkListing checks the rules of terminal-side.md §7.2 that hold for any listing:
// spec errors first; every entry with a spec fid, a fresh decimal st id, a listed
// directory as parent (created before it), lstat metadata, and links pointing at a
// listed entry; a hard link right after its group's first entry or its previous link.
// It returns the entries by path.
func checkListing(t *testing.T, l listing, nspecs int) map[string]scanner.Command {
	t.Helper()
	byID := map[string]scanner.Command{}
	byPath := map[string]scanner.Command{}
	for _, e := range l.errors {
		if n, err := strconv.Atoi(e.FileID); err != nil || n < 0 || n >= nspecs {
			t.Errorf("spec error with fid %q", e.FileID)
		}
	}
	for i, e := range l.entries {
		if n, err := strconv.Atoi(e.FileID); err != nil || n < 0 || n >= nspecs {
			t.Errorf("%s: fid %q is not a spec id", e.Name, e.FileID)
		}
		if _, err := strconv.Atoi(e.Status); err != nil {
			t.Errorf("%s: st %q is not decimal", e.Name, e.Status)
		}
		if _, dup := byID[e.Status]; dup {
			t.Errorf("%s: st %s used twice", e.Name, e.Status)
		}
		byID[e.Status] = e
		if _, ok := byPath[e.Name]; !ok {
			byPath[e.Name] = e
		}
		var st unix.Stat_t
		must(t, unix.Lstat(e.Name, &st))
		if e.FileType != scanner.FileDirectory && e.Size.Value != st.Size {
			t.Errorf("%s: sz %d, lstat says %d", e.Name, e.Size.Value, st.Size)
		}
		if e.Mtime.Value != st.Mtim.Nano() || e.Permissions.Value != int64(st.Mode&0o7777) {
			t.Errorf("%s: mod %d prm %o, lstat says %d %o", e.Name, e.Mtime.Value, e.Permissions.Value, st.Mtim.Nano(), st.Mode&0o7777)
		}
		wantFT := map[uint32]scanner.FileType{unix.S_IFREG: scanner.FileRegular, unix.S_IFDIR: scanner.FileDirectory, unix.S_IFLNK: scanner.FileSymlink}[uint32(st.Mode)&unix.S_IFMT]
		if e.FileType != wantFT && !(e.FileType == scanner.FileLink && wantFT == scanner.FileRegular) {
			t.Errorf("%s: ft %s for mode %o", e.Name, e.FileType, st.Mode)
		}
		if e.FileType == scanner.FileLink {
			first, ok := byID[string(e.Data)]
			if !ok {
				t.Errorf("%s: hard link to %q, not emitted before it", e.Name, e.Data)
			}
			prev := l.entries[i-1]
			if prev.Status != first.Status && !(prev.FileType == scanner.FileLink && string(prev.Data) == string(e.Data)) {
				t.Errorf("%s: hard link not right after its group", e.Name)
			}
			var fst unix.Stat_t
			must(t, unix.Lstat(first.Name, &fst))
			if fst.Ino != st.Ino {
				t.Errorf("%s: hard link to %s, another inode", e.Name, first.Name)
			}
		}
	}
	for _, e := range l.entries {
		if e.Parent != "" {
			p, ok := byID[e.Parent]
			if !ok || p.FileType != scanner.FileDirectory || filepath.Dir(e.Name) != p.Name {
				t.Errorf("%s: parent %q is not its listed directory", e.Name, e.Parent)
			}
			a, _ := strconv.Atoi(e.Parent)
			b, _ := strconv.Atoi(e.Status)
			if a >= b {
				t.Errorf("%s: id %d not after its parent's %d (pre-order)", e.Name, b, a)
			}
		}
		if e.FileType == scanner.FileSymlink && len(e.Data) > 0 {
			target, ok := byID[string(e.Data)]
			var a, b unix.Stat_t
			if !ok || unix.Stat(e.Name, &a) != nil || unix.Lstat(target.Name, &b) != nil || a.Ino != b.Ino {
				t.Errorf("%s: d=%q is not the entry it resolves to", e.Name, e.Data)
			}
		}
	}
	return byPath
}

// unreadableSpec returns a path the test process cannot read: a mode-000 file, or, for
// root (whom mode bits do not stop), a write-only sysctl, which the kernel refuses to
// read even to root. It skips the test when neither is possible.
func unreadableSpec(t *testing.T, home string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		p := filepath.Join(home, "secret.txt")
		must(t, os.WriteFile(p, []byte("secret"), 0o000))
		return p
	}
	const sysctl = "/proc/sys/vm/compact_memory"
	if f, err := os.Open(sysctl); err == nil {
		_ = f.Close()
		t.Skip("running as root and " + sysctl + " is readable: no way to make an unreadable file")
	}
	return sysctl
}

func TestDownloadListingTree(t *testing.T) {
	h := newDLHarness(t, dlAllow, fs.Limits{})
	makeTree(t, h.home)
	must(t, os.Symlink("nowhere", filepath.Join(h.home, "dangling")))
	unreadable := unreadableSpec(t, h.home)
	specs := []string{
		"tree",           // 0: the tree
		"other",          // 1: hard link across specs, link leading outside
		"tree/sub/b.txt", // 2: overlaps spec 0: a regular duplicate, emitted as a link
		"tree/sub",       // 3: overlaps spec 0: a directory seen again, not emitted
		"missing",        // 4: ENOENT
		"~/lone.txt",     // 5: ~/ expansion
		"tree/fifo",      // 6: not a valid file type
		unreadable,       // 7: not readable
		"~//dangling",    // 8: a dangling symlink spec is fine
	}
	l := h.approveAndList("s1", specs...)
	if l.home != h.home {
		t.Errorf("final OK has n=%q, want the home %q", l.home, h.home)
	}
	wantErrors := []string{"4:ENOENT:Failed to read spec", "6:EINVAL:Not a valid filetype", "7:EPERM:No permission to read spec"}
	var gotErrors []string
	for _, e := range l.errors {
		gotErrors = append(gotErrors, e.FileID+":"+e.Status)
	}
	if fmt.Sprint(gotErrors) != fmt.Sprint(wantErrors) {
		t.Errorf("spec errors %q, want %q", gotErrors, wantErrors)
	}
	byPath := checkListing(t, l, len(specs))
	p := func(s string) string { return filepath.Join(h.home, s) }
	id := func(s string) string { return byPath[p(s)].Status }
	for _, tc := range []struct {
		path string
		fid  string
		ft   scanner.FileType
		d    string // "" for none
	}{
		{"tree", "0", scanner.FileDirectory, ""},
		{"tree/a.txt", "0", scanner.FileRegular, ""},
		{"tree/hard1.txt", "0", scanner.FileLink, id("tree/a.txt")},
		{"tree/sub", "0", scanner.FileDirectory, ""},
		{"tree/sub/b.txt", "0", scanner.FileRegular, ""},
		{"tree/sub/deep", "0", scanner.FileDirectory, ""},
		{"tree/sub/deep/c.txt", "0", scanner.FileRegular, ""},
		{"tree/sub/rel", "0", scanner.FileSymlink, id("tree/a.txt")},
		{"tree/sub/abs", "0", scanner.FileSymlink, id("tree/sub/b.txt")},
		{"tree/dangling", "0", scanner.FileSymlink, ""},
		{"tree/todir", "0", scanner.FileSymlink, id("tree/sub")},
		{"tree/empty", "0", scanner.FileRegular, ""},
		{"other", "1", scanner.FileDirectory, ""},
		{"other/hard2.txt", "1", scanner.FileLink, id("tree/sub/b.txt")},
		{"other/outside", "1", scanner.FileSymlink, ""},
		{"lone.txt", "5", scanner.FileRegular, ""},
	} {
		e, ok := byPath[p(tc.path)]
		if !ok {
			t.Errorf("%s: not listed", tc.path)
			continue
		}
		if e.FileID != tc.fid || e.FileType != tc.ft || string(e.Data) != tc.d {
			t.Errorf("%s: fid=%s ft=%s d=%q, want fid=%s ft=%s d=%q", tc.path, e.FileID, e.FileType, e.Data, tc.fid, tc.ft, tc.d)
		}
	}
	if _, ok := byPath[p("tree/fifo")]; ok {
		t.Error("the fifo was listed")
	}
	// Spec 2 names b.txt again: a link entry with the same path; spec 3's directory was
	// already walked, so it has no entry of its own; spec 8's path is not normalised.
	var spec2, spec3, spec8 int
	for _, e := range l.entries {
		switch e.FileID {
		case "2":
			spec2++
			if e.FileType != scanner.FileLink || string(e.Data) != id("tree/sub/b.txt") {
				t.Errorf("spec 2: %s", e.String())
			}
		case "3":
			spec3++
		case "8":
			spec8++
			if e.Name != h.home+"/dangling" || e.FileType != scanner.FileSymlink {
				t.Errorf("spec 8: %s n=%q", e.String(), e.Name)
			}
		}
	}
	if spec2 != 1 || spec3 != 0 || spec8 != 1 {
		t.Errorf("entries of specs 2, 3, 8: %d %d %d, want 1 0 1", spec2, spec3, spec8)
	}

	// The client then requests every entry but directories and hard links (§7.2); each
	// arrives whole, in request order, symlinks as their text, compressed when asked.
	var reqs []scanner.Command
	var fids []string
	for _, e := range l.entries {
		if e.FileType == scanner.FileDirectory || e.FileType == scanner.FileLink {
			continue
		}
		fid := strconv.Itoa(len(reqs) + 1)
		reqs = append(reqs, requestCmd("s1", fid, e.Name, len(reqs)%2 == 0 && e.FileType == scanner.FileRegular))
		fids = append(fids, fid)
	}
	got := h.do(reqs...)
	if order := dataFIDs(got); fmt.Sprint(order) != fmt.Sprint(fids) {
		t.Errorf("files sent in order %v, want %v", order, fids)
	}
	for _, r := range reqs {
		data := fileData(t, got, r.FileID, r.Compression == scanner.CompressionZlib)
		if want := localContent(t, r.Name); string(data) != string(want) {
			t.Errorf("%s: got %q, want %q", r.Name, data, want)
		}
	}
	for _, c := range got {
		if c.Action == scanner.ActionStatus {
			t.Errorf("unexpected status %s", statusLine(c))
		}
	}
	if n := len(h.fileEvents()); n != len(reqs) {
		t.Errorf("%d file events, want %d", n, len(reqs))
	}
	if got := h.do(actionCmd("s1", scanner.ActionFinish)); len(got) != 0 || h.e.Active() {
		t.Errorf("finish: replies %s, active %v", h.show(got), h.e.Active())
	}
}

// TestDownloadListingHardLinkBeforeParent is §7.2's example: spec 0 = file a, spec 1 =
// directory d holding a hard link to a: the order is a, d/h, d.
func TestDownloadListingHardLinkBeforeParent(t *testing.T) {
	h := newDLHarness(t, dlAllow, fs.Limits{})
	must(t, os.WriteFile(filepath.Join(h.home, "a"), []byte("x"), 0o644))
	must(t, os.Mkdir(filepath.Join(h.home, "d"), 0o755))
	must(t, os.Link(filepath.Join(h.home, "a"), filepath.Join(h.home, "d", "h")))
	l := h.approveAndList("s", "a", "d")
	checkListing(t, l, 2)
	var order []string
	for _, e := range l.entries {
		rel, _ := filepath.Rel(h.home, e.Name)
		order = append(order, fmt.Sprintf("%s:%s:%s:%s", rel, e.FileID, e.Status, e.FileType))
	}
	want := "[a:0:0:regular d/h:1:2:link d:1:1:directory]"
	if fmt.Sprint(order) != want {
		t.Errorf("order %v, want %s", order, want)
	}
}

func TestDownloadListingAllSpecsFail(t *testing.T) {
	h := newDLHarness(t, dlAllow, fs.Limits{})
	l := h.approveAndList("s", "nope", "/nonexistent/x")
	if len(l.errors) != 2 || len(l.entries) != 0 {
		t.Errorf("got errors %v entries %v", l.errors, l.entries)
	}
}

func TestDownloadListingHugeDirectoryIsProducedLazily(t *testing.T) {
	const n = 300 // creating files is slow on some test machines
	h := newDLHarness(t, dlAllow, fs.Limits{MaxOutbox: 4096})
	dir := filepath.Join(h.home, "many")
	must(t, os.Mkdir(dir, 0o755))
	for i := range n {
		must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d", i)), nil, 0o644))
	}
	// The listing (about 75 KB) is far above MaxOutbox: it must come through Pull.
	h.max = 1000
	l := h.approveAndList("s", "many")
	if len(l.entries) != n+1 {
		t.Fatalf("%d entries, want %d", len(l.entries), n+1)
	}
	checkListing(t, l, 1)
}

func TestDescribeSpecs(t *testing.T) {
	home := t.TempDir()
	makeTree(t, home)
	infos := fs.DescribeSpecs(home, []string{"tree", "lone.txt", "missing", "tree/sub/rel"}, fs.MaxDescribeEntries)
	want := []transfer.Item{
		// tree: a, hard1, sub, b, deep, c, rel, abs, dangling, todir, empty (not the fifo);
		// bytes of the regular files, hard links counted twice.
		{Name: "tree", Path: home + "/tree", Type: scanner.FileDirectory, Files: 11, Size: 5 + 5 + 4 + 5},
		{Name: "lone.txt", Path: home + "/lone.txt", Type: scanner.FileRegular, Size: 4, Files: -1},
		{Name: "missing", Path: home + "/missing", Err: "ENOENT:Failed to read spec", Size: -1, Files: -1},
		// A link is described by where it leads, too.
		{Name: "tree/sub/rel", Path: home + "/tree/sub/rel", Type: scanner.FileSymlink, Size: 8, Files: -1,
			Target: home + "/tree/a.txt"},
	}
	if fmt.Sprint(infos) != fmt.Sprint(want) {
		t.Errorf("got  %+v\nwant %+v", infos, want)
	}
	capped := fs.DescribeSpecs(home, []string{"tree", "other"}, 4)
	// The budget counts every name visited: a.txt, dangling, empty, fifo.
	if !capped[0].Partial || capped[0].Files != 3 || !capped[1].Partial || capped[1].Files != 0 {
		t.Errorf("capped: %+v", capped)
	}
}

// TestDownloadListingCap: a spec that would take the listing past its cap fails with
// StatusTooManyEntries; what was found before stays listed.
func TestDownloadListingCap(t *testing.T) {
	home := t.TempDir()
	makeTree(t, home)
	out := fs.Listing(home, []string{"lone.txt", "tree", "other"}, 4)
	var errs []string
	entries := 0
	for _, p := range out {
		c, err := scanner.Parse([]byte(strings.TrimSuffix(strings.TrimPrefix(p, "\x1b]5113;"), "\x1b\\")))
		must(t, err)
		switch c.Action {
		case scanner.ActionStatus:
			errs = append(errs, statusLine(c))
		case scanner.ActionFile:
			entries++
		}
	}
	want := []string{"1:" + scanner.StatusTooManyEntries, "2:" + scanner.StatusTooManyEntries}
	if fmt.Sprint(errs) != fmt.Sprint(want) || entries != 4 {
		t.Errorf("errors %q (want %q), %d entries (want 4)", errs, want, entries)
	}
}

// TestDownloadListingWalkStaysInTheTree: someone who can write inside a listed tree
// replaces a directory by a symlink to elsewhere after the walk has read its names
// (chosen to match files elsewhere). The walk must go on in the directory it read, not
// list the files the symlink leads to under the tree's names.
func TestDownloadListingWalkStaysInTheTree(t *testing.T) {
	home := t.TempDir()
	sub := filepath.Join(home, "tree", "sub")
	must(t, os.MkdirAll(sub, 0o755))
	must(t, os.WriteFile(filepath.Join(sub, "id_rsa"), []byte("decoy"), 0o644))
	must(t, os.Mkdir(filepath.Join(sub, "inner"), 0o755))
	secret := filepath.Join(home, "secret")
	must(t, os.MkdirAll(filepath.Join(secret, "inner"), 0o700))
	must(t, os.WriteFile(filepath.Join(secret, "id_rsa"), []byte(secretText), 0o600))
	must(t, os.WriteFile(filepath.Join(secret, "inner", "key"), []byte(secretText), 0o600))

	out := fs.ListingRacing(home, []string{"tree"}, 1000, func(path string) {
		if path == sub {
			must(t, os.Rename(sub, sub+".old"))
			must(t, os.Symlink(secret, sub))
		}
	})
	var got []string
	for _, p := range out {
		c, err := scanner.Parse([]byte(strings.TrimSuffix(strings.TrimPrefix(p, "\x1b]5113;"), "\x1b\\")))
		must(t, err)
		got = append(got, fmt.Sprintf("%s sz=%d", strings.TrimPrefix(c.Name, home), c.Size.Value))
		if c.Size.Value == int64(len(secretText)) {
			t.Errorf("listed a file of the symlink's target: %s", c.Name)
		}
	}
	if !slices.Contains(got, "/tree/sub/id_rsa sz=5") {
		t.Errorf("listing %q: want the decoy read from the directory the walk opened", got)
	}
}
