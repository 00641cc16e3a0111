package fs_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
	"github.com/xferterm/xferterm/transfer"
)

func withMode(c scanner.Command, prm int64) scanner.Command {
	c.Permissions = scanner.Some(prm)
	return c
}

func TestUploadSmallFile(t *testing.T) {
	h := newUpHarness(t)
	h.start("s1")
	f := withMode(fileCmd("s1", "1", "dir/a.txt"), 0o640)
	f.Mtime = scanner.Some(1_700_000_000_123_456_789)
	wantReplies(t, h, h.do(f), "status fid=1 st=STARTED n=~/dir/a.txt")
	wantReplies(t, h, h.do(dataCmd("s1", "1", []byte("hello ")))) // PROGRESS every 64 KiB
	if got := tree(t, h.home); len(got) != 2 || got[0] != "dir/" || !strings.HasPrefix(got[1], "dir/.a.txt.xferterm-") {
		t.Errorf("while writing, home holds %v; want only a hidden temporary file", got)
	}
	wantReplies(t, h, h.do(endCmd("s1", "1", []byte("world"))), "status fid=1 st=OK n=~/dir/a.txt sz=11")
	wantReplies(t, h, h.do(scanner.Command{Action: scanner.ActionFinish, ID: "s1"}))
	p := filepath.Join(h.home, "dir/a.txt")
	if got := readFile(t, p); got != "hello world" {
		t.Errorf("content %q", got)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o640 || st.ModTime().UnixNano() != 1_700_000_000_123_456_789 {
		t.Errorf("mode %v mtime %d", st.Mode(), st.ModTime().UnixNano())
	}
	if slices.Equal(tree(t, h.home), []string{"dir/", "dir/a.txt"}) == false {
		t.Errorf("home: %v", tree(t, h.home))
	}
	if h.e.Active() {
		t.Error("session alive after finish")
	}
	evs := h.fileEvents()
	if len(evs) != 1 || evs[0].Path != p || evs[0].Bytes != 11 || evs[0].Result != "OK" {
		t.Errorf("events %+v", evs)
	}
}

func TestUploadReplacesExistingAtomically(t *testing.T) {
	h := newUpHarness(t)
	p := filepath.Join(h.home, "a.txt")
	if err := os.WriteFile(p, []byte("old content"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.start("s")
	wantReplies(t, h, h.do(fileCmd("s", "1", "a.txt")), "status fid=1 st=STARTED n=~/a.txt sz=11")
	h.do(dataCmd("s", "1", []byte("new")))
	if got := readFile(t, p); got != "old content" {
		t.Errorf("destination changed before end_data: %q", got)
	}
	h.do(endCmd("s", "1", nil))
	if got := readFile(t, p); got != "new" {
		t.Errorf("content %q", got)
	}
	noDebris(t, h.root)
}

// TestUploadModes: the remote's permission bits without setuid, setgid and sticky; a
// file or directory without them gets 0666 or 0777 less the umask the engine was given
// (Config.Umask: the program reads the process's once), or less DefaultUmask.
func TestUploadModes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		umask *uint32
		plain os.FileMode
	}{
		{"umask 027", ptr(uint32(0o027)), 0o640},
		{"umask 077", ptr(uint32(0o077)), 0o600},
		{"no umask given: 022", nil, 0o644},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newUpHarness(t, func(c *fs.Config) { c.Umask = tc.umask })
			h.start("s")
			h.do(withMode(fileCmd("s", "1", "suid"), 0o4755|0o2000|0o1000))
			h.do(endCmd("s", "1", []byte("x")))
			h.do(fileCmd("s", "2", "plain")) // no prm
			h.do(endCmd("s", "2", []byte("y")))
			h.do(withMode(scanner.Command{Action: scanner.ActionFile, ID: "s", FileID: "3", Name: "d", FileType: scanner.FileDirectory}, 0o7700))
			h.do(scanner.Command{Action: scanner.ActionFinish, ID: "s"})
			for _, c := range []struct {
				name string
				want os.FileMode
			}{
				{"suid", 0o755},
				{"plain", tc.plain},
				{"d", os.ModeDir | 0o700},
			} {
				st, err := os.Stat(filepath.Join(h.home, c.name))
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode() != c.want {
					t.Errorf("%s: mode %v, want %v (setuid, setgid and sticky never come from the remote)", c.name, st.Mode(), c.want)
				}
			}
		})
	}
}

// TestReadUmask: ReadUmask returns the process's mask and leaves it as it was.
func TestReadUmask(t *testing.T) {
	old := unix.Umask(0o027)
	t.Cleanup(func() { unix.Umask(old) })
	if got := fs.ReadUmask(); got != 0o027 {
		t.Errorf("ReadUmask() = %#o, want 027", got)
	}
	if now := unix.Umask(0o027); now != 0o027 {
		t.Errorf("the umask is %#o after ReadUmask, want 027", now)
	}
}

func TestUploadZlibEverySplit(t *testing.T) {
	content := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog\n"), 200)
	z := testdata.Zlib(t, content)
	for _, step := range []int{1, 2, 3, 7, 13, 100, 4096} {
		t.Run(fmt.Sprintf("packets of %d bytes", step), func(t *testing.T) {
			h := newUpHarness(t)
			h.start("s")
			f := fileCmd("s", "1", "z.txt")
			f.Compression = scanner.CompressionZlib
			h.do(f)
			for i := 0; i < len(z); i += step {
				h.do(dataCmd("s", "1", z[i:min(i+step, len(z))]))
			}
			wantReplies(t, h, h.do(endCmd("s", "1", nil)), fmt.Sprintf("status fid=1 st=OK n=~/z.txt sz=%d", len(content)))
			if got := readFile(t, filepath.Join(h.home, "z.txt")); got != string(content) {
				t.Error("content differs")
			}
		})
	}
}

func TestUploadQuietLevels(t *testing.T) {
	for _, q := range []int{1, 2} {
		t.Run(fmt.Sprintf("q=%d", q), func(t *testing.T) {
			h := newUpHarness(t)
			send := sendCmd("s")
			send.Quiet = q
			wantReplies(t, h, h.do(send))
			wantReplies(t, h, h.do(fileCmd("s", "1", "a")))
			wantReplies(t, h, h.do(dataCmd("s", "1", []byte("abc"))))
			wantReplies(t, h, h.do(endCmd("s", "1", []byte("d"))))
			// A directory's OK is never gated (§5).
			dir := scanner.Command{Action: scanner.ActionFile, ID: "s", FileID: "2", Name: "d", FileType: scanner.FileDirectory}
			wantReplies(t, h, h.do(dir), "status fid=2 st=OK n=~/d")
			var errs []string
			if q == 1 {
				errs = []string{"status fid=9 st=" + scanner.StatusNotStarted}
			}
			wantReplies(t, h, h.do(dataCmd("s", "9", []byte("x"))), errs...)
			wantReplies(t, h, h.do(scanner.Command{Action: scanner.ActionCancel, ID: "s"}))
			if got := readFile(t, filepath.Join(h.home, "a")); got != "abcd" {
				t.Errorf("content %q", got)
			}
		})
	}
	t.Run("refusal at q=2 is silent", func(t *testing.T) {
		h := newUpHarness(t, withApprover(transfer.Fixed{}))
		send := sendCmd("s")
		send.Quiet = 2
		wantReplies(t, h, h.do(send))
	})
}

func TestUploadRefused(t *testing.T) {
	h := newUpHarness(t, withApprover(transfer.Fixed{Allow: false, How: "prompt"}))
	wantReplies(t, h, h.do(sendCmd("s")), "status st="+scanner.StatusRefused)
	wantReplies(t, h, h.do(fileCmd("s", "1", "a")))
	if h.e.Active() || len(tree(t, h.home)) != 0 {
		t.Error("refused session left state behind")
	}
}

// TestUploadPerFileApproval: every destination is asked about, and what an "allow all"
// answer granted is handed back with the session's later requests.
func TestUploadPerFileApproval(t *testing.T) {
	var asked []string
	grant := transfer.Grant{Reason: "test", Dir: "/somewhere"}
	h := newUpHarness(t, withApprover(approveFunc(func(r transfer.Request) transfer.Decision {
		if r.File == nil {
			return transfer.Decision{Allow: true}
		}
		asked = append(asked, filepath.Base(r.File.Path))
		switch filepath.Base(r.File.Path) {
		case "no":
			return transfer.Decision{Allow: slices.Equal(r.Grants, []transfer.Grant{grant})}
		case "all":
			return transfer.Decision{Allow: true, Grant: &grant}
		}
		return transfer.Decision{Allow: true}
	})))
	h.start("s")
	wantReplies(t, h, h.do(fileCmd("s", "1", "yes")), "status fid=1 st=STARTED n=~/yes")
	wantReplies(t, h, h.do(fileCmd("s", "2", "no")), "status fid=2 st="+scanner.StatusDestinationRefused)
	wantReplies(t, h, h.do(endCmd("s", "2", []byte("x")))) // a failed file's packets are ignored
	wantReplies(t, h, h.do(fileCmd("s", "3", "all")), "status fid=3 st=STARTED n=~/all")
	wantReplies(t, h, h.do(fileCmd("s", "4", "no")), "status fid=4 st=STARTED n=~/no")
	if !slices.Equal(asked, []string{"yes", "no", "all", "no"}) {
		t.Errorf("asked about %v", asked)
	}
	evs := h.fileEvents()
	if len(evs) != 1 || evs[0].Path != filepath.Join(h.home, "no") || evs[0].Result != scanner.StatusDestinationRefused {
		t.Errorf("events %+v", evs)
	}
}

func TestUploadFileRequestDescribesDestination(t *testing.T) {
	var got []transfer.Item
	h := newUpHarness(t, withApprover(approveFunc(func(r transfer.Request) transfer.Decision {
		if r.File != nil {
			got = append(got, *r.File)
		}
		return transfer.Decision{Allow: true}
	})))
	if err := os.WriteFile(filepath.Join(h.home, "old"), []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.start("s")
	h.do(fileCmd("s", "1", "old"))
	l := fileCmd("s", "2", "/abs/new")
	l.FileType = scanner.FileSymlink
	h.do(l)
	want := []transfer.Item{
		{Path: filepath.Join(h.home, "old"), Type: scanner.FileRegular, Exists: true, Size: 5, Files: -1, Mode: 0o644},
		{Path: "/abs/new", Type: scanner.FileSymlink, Size: -1, Files: -1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("requests %+v, want %+v", got, want)
	}
}

// TestUploadHomeBehindSymlink: only the home prefix may be a link (temporary
// directories live under one on some systems); replies keep the configured path.
func TestUploadHomeBehindSymlink(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(root, "homelink")
	if err := os.Symlink(real, home); err != nil {
		t.Fatal(err)
	}
	e, err := fs.NewEngine(fs.Config{Home: home, Approver: allowAll})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var got []string
	for _, c := range []scanner.Command{sendCmd("s"), fileCmd("s", "1", "a"), endCmd("s", "1", []byte("x")),
		fileCmd("s", "2", filepath.Join(real, "b")), endCmd("s", "2", []byte("y"))} {
		if err := e.Handle(&c); err != nil {
			t.Fatal(err)
		}
		cmds, err := parseReplies(e.Pull(nil, 1<<20))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cmds {
			got = append(got, showCmd(c, root))
		}
	}
	want := []string{"status st=OK",
		"status fid=1 st=STARTED n=~/homelink/a", "status fid=1 st=OK n=~/homelink/a sz=1",
		"status fid=2 st=STARTED n=~/real/b", "status fid=2 st=OK n=~/real/b sz=1"}
	if !slices.Equal(got, want) {
		t.Errorf("replies:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if readFile(t, filepath.Join(real, "a")) != "x" || readFile(t, filepath.Join(real, "b")) != "y" {
		t.Error("files not written")
	}
}

func TestUploadAllFilesFailedEndsSession(t *testing.T) {
	h := newUpHarness(t, withApprover(approveFunc(func(r transfer.Request) transfer.Decision {
		return transfer.Decision{Allow: r.File == nil}
	})))
	h.start("s")
	h.do(fileCmd("s", "1", "a"))
	h.do(fileCmd("s", "2", "b"))
	h.clock.Advance(fs.FailGrace - time.Millisecond)
	h.e.Tick()
	wantReplies(t, h, h.pull())
	h.clock.Advance(time.Millisecond)
	h.e.Tick()
	wantReplies(t, h, h.pull(), "status st=CANCELED")
	if h.e.Active() {
		t.Error("session still alive")
	}
}

func TestUploadDirectoriesButEveryFileFailedEndsSession(t *testing.T) {
	h := newUpHarness(t, withApprover(approveFunc(func(r transfer.Request) transfer.Decision {
		return transfer.Decision{Allow: r.File == nil || r.File.Type == scanner.FileDirectory}
	})))
	h.start("s")
	d := fileCmd("s", "1", "d")
	d.FileType = scanner.FileDirectory
	wantReplies(t, h, h.do(d), "status fid=1 st=OK n=~/d")
	h.do(fileCmd("s", "2", "d/a"))
	h.clock.Advance(fs.FailGrace)
	h.e.Tick()
	wantReplies(t, h, h.pull(), "status st=CANCELED")
}

func TestUploadOnlyDirectoriesKeepsSession(t *testing.T) {
	h := newUpHarness(t)
	h.start("s")
	d := fileCmd("s", "1", "d")
	d.FileType = scanner.FileDirectory
	h.do(d)
	h.clock.Advance(time.Minute)
	h.e.Tick()
	wantReplies(t, h, h.pull())
	if !h.e.Active() {
		t.Error("session of directories ended")
	}
}

func TestUploadFailedAndSucceededKeepsSession(t *testing.T) {
	h := newUpHarness(t, withApprover(approveFunc(func(r transfer.Request) transfer.Decision {
		return transfer.Decision{Allow: r.File == nil || filepath.Base(r.File.Path) == "ok"}
	})))
	h.start("s")
	h.do(fileCmd("s", "1", "bad"))
	h.do(fileCmd("s", "2", "ok"))
	h.clock.Advance(time.Minute)
	h.e.Tick()
	wantReplies(t, h, h.pull())
	if !h.e.Active() {
		t.Error("a session with a live file was ended")
	}
}

func TestUploadLinks(t *testing.T) {
	h := newUpHarness(t)
	h.start("s")
	h.do(withMode(fileCmd("s", "1", "d/target.txt"), 0o600))
	h.do(endCmd("s", "1", []byte("target")))
	for i, c := range []struct {
		ft     scanner.FileType
		name   string
		data   string
		status string
	}{
		{scanner.FileSymlink, "e/rel", "fid:1", "OK"},
		{scanner.FileSymlink, "e/abs", "fid_abs:1", "OK"},
		{scanner.FileSymlink, "e/path", "path:../d/target.txt", "OK"},
		{scanner.FileLink, "e/hard", "fid:1", "OK"},
		{scanner.FileLink, "e/hardpath", "path:../d/target.txt", "OK"},
		{scanner.FileSymlink, "e/bad", "what:1", scanner.StatusUnknownLinkTarget},
		{scanner.FileSymlink, "e/nofid", "fid:77", scanner.StatusUnknownLinkFileID("77")},
		// The file id is the client's raw bytes: the status shows its safe part only, as
		// UTF-8 (found by FuzzUploadSession).
		{scanner.FileSymlink, "e/rawfid", "fid:x\x9c\xec\xc0;y", "EINVAL:Unknown link target file_id: xy"},
		{scanner.FileSymlink, "e/longfid", "fid:" + strings.Repeat("a", 5000),
			"EINVAL:Unknown link target file_id: " + strings.Repeat("a", 64) + "..."},
		{scanner.FileLink, "e/outside", "path:" + filepath.Join(h.root, "outside"), scanner.StatusLinkTargetNotWritten},
	} {
		fid := fmt.Sprint(i + 2)
		f := fileCmd("s", fid, c.name)
		f.FileType = c.ft
		f.Mtime = scanner.Some(1_600_000_000_000_000_001)
		h.do(f)
		got := h.do(endCmd("s", fid, []byte(c.data)))
		if len(got) != 1 || got[0].Status != c.status {
			t.Errorf("%s: %s, want %s", c.name, h.show(got), c.status)
		}
	}
	links := map[string]string{"e/rel": "../d/target.txt", "e/abs": filepath.Join(h.home, "d/target.txt"), "e/path": "../d/target.txt"}
	for name, want := range links {
		p := filepath.Join(h.home, name)
		if got, err := os.Readlink(p); err != nil || got != want {
			t.Errorf("%s -> %q (%v), want %q", name, got, err, want)
		}
		st, _ := os.Lstat(p)
		if st.ModTime().UnixNano() != 1_600_000_000_000_000_001 {
			t.Errorf("%s: symlink mtime %d (must be set without following)", name, st.ModTime().UnixNano())
		}
	}
	target, _ := os.Stat(filepath.Join(h.home, "d/target.txt"))
	for _, name := range []string{"e/hard", "e/hardpath"} {
		st, err := os.Lstat(filepath.Join(h.home, name))
		if err != nil || !os.SameFile(st, target) {
			t.Errorf("%s is not a hard link to the target", name)
		}
	}
	noDebris(t, h.root)
}

func TestUploadReplacesSymlinkAndHardLinkWithoutWritingThrough(t *testing.T) {
	h := newUpHarness(t)
	outside := filepath.Join(h.root, "outside", "secret")
	if err := os.WriteFile(outside, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(h.home, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.home, "orig"), []byte("keep too"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(h.home, "orig"), filepath.Join(h.home, "hard")); err != nil {
		t.Fatal(err)
	}
	h.start("s")
	h.do(fileCmd("s", "1", "link"))
	wantReplies(t, h, h.do(endCmd("s", "1", []byte("new"))), "status fid=1 st=OK n=~/link sz=3")
	h.do(fileCmd("s", "2", "hard"))
	h.do(endCmd("s", "2", []byte("new2")))
	if readFile(t, outside) != "keep" || readFile(t, filepath.Join(h.home, "orig")) != "keep too" {
		t.Error("wrote through a link")
	}
	if st, _ := os.Lstat(filepath.Join(h.home, "link")); !st.Mode().IsRegular() || readFile(t, filepath.Join(h.home, "link")) != "new" {
		t.Error("symlink not replaced by the file")
	}
	if readFile(t, filepath.Join(h.home, "hard")) != "new2" {
		t.Error("hard link not replaced")
	}
}

func TestUploadDirectories(t *testing.T) {
	h := newUpHarness(t)
	h.start("s")
	dir := func(fid, name string, mod int64) scanner.Command {
		c := fileCmd("s", fid, name)
		c.FileType = scanner.FileDirectory
		c.Mtime = scanner.Some(mod)
		c.Permissions = scanner.Some(0o750)
		return c
	}
	wantReplies(t, h, h.do(dir("1", "a", 1_500_000_000_000_000_000)), "status fid=1 st=OK n=~/a")
	wantReplies(t, h, h.do(dir("2", "a/b/c", 1_500_000_001_000_000_000)), "status fid=2 st=OK n=~/a/b/c")
	wantReplies(t, h, h.do(dir("3", "a", 1)), "status fid=3 st=OK n=~/a") // existing is fine
	h.do(fileCmd("s", "4", "a/b/c/f"))
	h.do(endCmd("s", "4", []byte("x")))
	wantReplies(t, h, h.do(dataCmd("s", "1", []byte("x"))), "status fid=1 st="+scanner.StatusWriteToDirectory)
	if err := os.WriteFile(filepath.Join(h.home, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wantReplies(t, h, h.do(dir("5", "file", 1)), "status fid=5 st=EEXIST:Failed to create directory")
	wantReplies(t, h, h.do(dir("6", "file/sub", 1)), "status fid=6 st=ENOTDIR:Failed to create directory")
	h.do(scanner.Command{Action: scanner.ActionFinish, ID: "s"})
	st, _ := os.Stat(filepath.Join(h.home, "a/b/c"))
	if st.ModTime().UnixNano() != 1_500_000_001_000_000_000 || st.Mode().Perm() != 0o750 {
		t.Errorf("a/b/c: %v %d", st.Mode(), st.ModTime().UnixNano())
	}
	st, _ = os.Stat(filepath.Join(h.home, "a"))
	if st.ModTime().UnixNano() != 1 {
		t.Errorf("a: mtime %d: directories get metadata at finish, deepest first", st.ModTime().UnixNano())
	}
}

// TestUploadSessionDiesDuringPrompt: a session that ends while a person is asked about
// it, or about one of its files, withdraws the question, leaves nothing behind, and an
// answer that arrives afterwards changes nothing.
func TestUploadSessionDiesDuringPrompt(t *testing.T) {
	for _, c := range []struct {
		name    string
		file    bool // the question is about a file, not the session
		act     func(h *upHarness) []scanner.Command
		replies []string
	}{
		{"CancelAll during the session prompt", false, func(h *upHarness) []scanner.Command { h.e.CancelAll(); return h.pull() },
			[]string{"status st=CANCELED"}},
		{"Close during the session prompt", false, func(h *upHarness) []scanner.Command { _ = h.e.Close(); return h.pull() }, nil},
		{"a command during the session prompt", false, func(h *upHarness) []scanner.Command { return h.do(fileCmd("s", "1", "a")) }, nil},
		{"CancelAll during a file prompt", true, func(h *upHarness) []scanner.Command { h.e.CancelAll(); return h.pull() },
			[]string{"status st=OK", "status st=CANCELED"}},
		{"Close during a file prompt", true, func(h *upHarness) []scanner.Command { _ = h.e.Close(); return h.pull() },
			[]string{"status st=OK"}},
		{"cancel during a file prompt", true, func(h *upHarness) []scanner.Command {
			return h.do(scanner.Command{Action: scanner.ActionCancel, ID: "s"})
		}, []string{"status st=OK", "status st=CANCELED"}},
		{"finish during a file prompt", true, func(h *upHarness) []scanner.Command {
			return h.do(scanner.Command{Action: scanner.ActionFinish, ID: "s"})
		}, []string{"status st=OK"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			atOnce := sessionsAtOnce
			if !c.file {
				atOnce = nil
			}
			p := newPersonApprover(atOnce)
			h := newUpHarness(t, withApprover(p))
			got := h.do(sendCmd("s"))
			if c.file {
				got = append(got, h.do(fileCmd("s", "1", "a"))...)
			}
			q := p.next(t)
			if (q.r.File != nil) != c.file {
				t.Fatalf("question %+v", q.r)
			}
			got = append(got, c.act(h)...)
			if !q.withdrawn() {
				t.Error("the question was not withdrawn when its session died")
			}
			q.answer(transfer.Decision{Allow: true})
			got = append(got, h.pull()...)
			wantReplies(t, h, got, c.replies...)
			if h.e.Active() || len(tree(t, h.home)) != 0 {
				t.Errorf("left behind: %v", tree(t, h.home))
			}
		})
	}
}

// TestUploadAsksOneFileAtATime: while a person is asked about a destination, the files
// after it wait their turn (in order, so that an "allow all" answer covers them), data
// for a file not yet STARTED fails it, and the pending question stops the session from
// looking stuck or idle.
func TestUploadAsksOneFileAtATime(t *testing.T) {
	grant := transfer.Grant{Reason: "r", Dir: "d"}
	p := newPersonApprover(func(r transfer.Request) (transfer.Decision, bool) {
		switch {
		case r.File == nil:
			return transfer.Decision{Allow: true}, true
		case len(r.Grants) > 0:
			return transfer.Decision{Allow: true}, true // covered by the grant
		}
		return transfer.Decision{}, false
	})
	h := newUpHarness(t, withApprover(p))
	h.start("s")
	wantReplies(t, h, h.do(fileCmd("s", "1", "a")))
	q := p.next(t)
	wantReplies(t, h, h.do(fileCmd("s", "2", "b")))
	wantReplies(t, h, h.do(fileCmd("s", "3", "c")))
	p.none(t) // one question at a time
	wantReplies(t, h, h.do(dataCmd("s", "3", []byte("early"))), "status fid=3 st="+scanner.StatusNotStarted)
	wantReplies(t, h, h.do(fileCmd("s", "1", "a")), "status fid=1 st="+scanner.StatusDuplicateFileID("1"))
	h.clock.Advance(fs.DefaultIdleTimeout / 2)
	h.e.Tick()
	if !h.e.Active() {
		t.Fatal("the session ended while a person was asked")
	}
	q.answer(transfer.Decision{Allow: true, Grant: &grant})
	wantReplies(t, h, h.pull(), "status fid=1 st=STARTED n=~/a", "status fid=2 st=STARTED n=~/b")
	p.none(t)
	wantReplies(t, h, h.do(endCmd("s", "2", []byte("bee"))), "status fid=2 st=OK n=~/b sz=3")
	if readFile(t, filepath.Join(h.home, "b")) != "bee" {
		t.Error("b not written")
	}
}

func TestUploadSessionEvents(t *testing.T) {
	h := newUpHarness(t, withApprover(approveFunc(func(r transfer.Request) transfer.Decision {
		return transfer.Decision{Allow: r.SessionID == "yes", How: "policy"}
	})))
	h.start("yes")
	wantReplies(t, h, h.do(sendCmd("no")), "status st="+scanner.StatusRefused)
	got := h.sessionEvents()
	if want := []string{"send yes policy true", "send no policy false"}; !slices.Equal(got, want) {
		t.Errorf("session events %q, want %q", got, want)
	}
}

func TestUploadProgress(t *testing.T) {
	h := newUpHarness(t)
	h.start("s")
	h.do(fileCmd("s", "1", "f"))
	var got []scanner.Command
	for range 40 {
		got = append(got, h.do(dataCmd("s", "1", make([]byte, 4096)))...)
	}
	wantReplies(t, h, got, "status fid=1 st=PROGRESS sz=65536", "status fid=1 st=PROGRESS sz=131072")
	wantReplies(t, h, h.do(endCmd("s", "1", nil)), "status fid=1 st=OK n=~/f sz=163840")
}

// TestUploadFinishDiscardsBeforeDirectoryMetadata: a file still incomplete at finish is
// discarded, and removing its temporary file changes its directory's mtime; so the
// directories get their metadata after that, not before.
func TestUploadFinishDiscardsBeforeDirectoryMetadata(t *testing.T) {
	h := newUpHarness(t)
	h.start("s")
	d := fileCmd("s", "1", "d")
	d.FileType = scanner.FileDirectory
	d.Mtime = scanner.Some(1_500_000_000_000_000_000)
	wantReplies(t, h, h.do(d), "status fid=1 st=OK n=~/d")
	h.do(fileCmd("s", "2", "d/partial"))
	h.do(dataCmd("s", "2", []byte("half a file")))
	wantReplies(t, h, h.do(scanner.Command{Action: scanner.ActionFinish, ID: "s"}))
	st, err := os.Stat(filepath.Join(h.home, "d"))
	if err != nil || st.ModTime().UnixNano() != 1_500_000_000_000_000_000 {
		t.Errorf("d: mtime %d (%v), want the one sent", st.ModTime().UnixNano(), err)
	}
	if got := tree(t, h.home); !slices.Equal(got, []string{"d/"}) {
		t.Errorf("home: %v", got)
	}
}

// TestUploadSlowFilePromptAfterAFailure: every file so far has failed, and the user
// takes longer than FailGrace to answer about the next one. The session is not stuck
// (the client is waiting on us), so Tick must not end it during the question.
func TestUploadSlowFilePromptAfterAFailure(t *testing.T) {
	p := newPersonApprover(func(r transfer.Request) (transfer.Decision, bool) {
		switch {
		case r.File == nil:
			return transfer.Decision{Allow: true}, true
		case filepath.Base(r.File.Path) == "bad":
			return transfer.Decision{}, true
		}
		return transfer.Decision{}, false
	})
	h := newUpHarness(t, withApprover(p))
	h.start("s")
	wantReplies(t, h, h.do(fileCmd("s", "1", "bad")), fidStatus("1", scanner.StatusDestinationRefused))
	wantReplies(t, h, h.do(fileCmd("s", "2", "slow")))
	q := p.next(t)
	h.clock.Advance(2 * fs.FailGrace) // the user thinks; the proxy's ticker runs
	h.e.Tick()
	wantReplies(t, h, h.pull())
	q.answer(transfer.Decision{Allow: true})
	wantReplies(t, h, h.pull(), "status fid=2 st=STARTED n=~/slow")
	wantReplies(t, h, h.do(endCmd("s", "2", []byte("x"))), "status fid=2 st=OK n=~/slow sz=1")
}
