package fs_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zlib"
	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
)

func zlibOf(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

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
	wantReplies(t, h, h.do(dataCmd("s1", "1", []byte("hello "))), "status fid=1 st=PROGRESS sz=6")
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

func TestUploadModes(t *testing.T) {
	h := newUpHarness(t)
	h.start("s")
	h.do(withMode(fileCmd("s", "1", "suid"), 0o4755|0o2000|0o1000))
	h.do(endCmd("s", "1", []byte("x")))
	h.do(fileCmd("s", "2", "plain")) // no prm
	h.do(endCmd("s", "2", []byte("y")))
	h.do(withMode(scanner.Command{Action: scanner.ActionFile, ID: "s", FileID: "3", Name: "d", FileType: scanner.FileDirectory}, 0o7700))
	h.do(scanner.Command{Action: scanner.ActionFinish, ID: "s"})
	umask := currentUmask()
	for _, c := range []struct {
		name string
		want os.FileMode
	}{
		{"suid", 0o755},
		{"plain", 0o666 &^ umask},
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
}

func currentUmask() os.FileMode {
	dir, err := os.MkdirTemp("", "umask")
	if err != nil {
		return 0o022
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, nil, 0o777); err != nil {
		return 0o022
	}
	st, _ := os.Stat(p)
	return 0o777 &^ st.Mode().Perm()
}

func TestUploadZlibEverySplit(t *testing.T) {
	content := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog\n"), 200)
	z := zlibOf(t, content)
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
		h := newUpHarness(t, withApprover(fs.FixedApprover{}))
		send := sendCmd("s")
		send.Quiet = 2
		wantReplies(t, h, h.do(send))
	})
}

func TestUploadRefused(t *testing.T) {
	h := newUpHarness(t, withApprover(fs.FixedApprover{Allow: false, How: "prompt"}))
	wantReplies(t, h, h.do(sendCmd("s")), "status st="+scanner.StatusRefused)
	wantReplies(t, h, h.do(fileCmd("s", "1", "a")))
	if h.e.Active() || len(tree(t, h.home)) != 0 {
		t.Error("refused session left state behind")
	}
}

func TestUploadPerFileApproval(t *testing.T) {
	var asked []string
	h := newUpHarness(t, withApprover(approveFunc(func(r fs.Request) fs.Decision {
		if r.Kind == fs.KindSession {
			return fs.Decision{Allow: true}
		}
		asked = append(asked, filepath.Base(r.File.Path))
		switch filepath.Base(r.File.Path) {
		case "no":
			return fs.Decision{}
		case "all":
			return fs.Decision{Allow: true, AllowAll: true}
		}
		return fs.Decision{Allow: true}
	})))
	h.start("s")
	wantReplies(t, h, h.do(fileCmd("s", "1", "yes")), "status fid=1 st=STARTED n=~/yes")
	wantReplies(t, h, h.do(fileCmd("s", "2", "no")), "status fid=2 st="+scanner.StatusDestinationRefused)
	wantReplies(t, h, h.do(endCmd("s", "2", []byte("x")))) // a failed file's packets are ignored
	wantReplies(t, h, h.do(fileCmd("s", "3", "all")), "status fid=3 st=STARTED n=~/all")
	wantReplies(t, h, h.do(fileCmd("s", "4", "no")), "status fid=4 st=STARTED n=~/no")
	if !slices.Equal(asked, []string{"yes", "no", "all"}) {
		t.Errorf("asked about %v", asked)
	}
}

func TestUploadAllFilesFailedEndsSession(t *testing.T) {
	h := newUpHarness(t, withApprover(approveFunc(func(r fs.Request) fs.Decision {
		return fs.Decision{Allow: r.Kind == fs.KindSession}
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

func TestUploadFailedAndSucceededKeepsSession(t *testing.T) {
	h := newUpHarness(t, withApprover(approveFunc(func(r fs.Request) fs.Decision {
		return fs.Decision{Allow: r.Kind == fs.KindSession || filepath.Base(r.File.Path) == "ok"}
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
		{scanner.FileLink, "e/outside", "path:" + filepath.Join(h.root, "outside"), scanner.StatusLinkOutsideHome},
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

func TestUploadHostile(t *testing.T) {
	fidStatus := func(fid, st string) string { return "status fid=" + fid + " st=" + st }
	t.Run("data before STARTED", func(t *testing.T) {
		h := newUpHarness(t)
		h.start("s")
		wantReplies(t, h, h.do(dataCmd("s", "1", []byte("x"))), fidStatus("1", scanner.StatusNotStarted))
		wantReplies(t, h, h.do(fileCmd("s", "1", "a")), "status fid=1 st=STARTED n=~/a")
	})
	t.Run("duplicate file id", func(t *testing.T) {
		h := newUpHarness(t)
		h.start("s")
		h.do(fileCmd("s", "1", "a"))
		wantReplies(t, h, h.do(fileCmd("s", "1", "b")), fidStatus("1", scanner.StatusDuplicateFileID("1")))
		wantReplies(t, h, h.do(endCmd("s", "1", []byte("x"))), "status fid=1 st=OK n=~/a sz=1")
	})
	t.Run("data after end_data", func(t *testing.T) {
		h := newUpHarness(t)
		h.start("s")
		h.do(fileCmd("s", "1", "a"))
		h.do(endCmd("s", "1", []byte("x")))
		wantReplies(t, h, h.do(dataCmd("s", "1", []byte("y"))), fidStatus("1", scanner.StatusClosedFile))
		wantReplies(t, h, h.do(endCmd("s", "1", []byte("y"))), fidStatus("1", scanner.StatusClosedFile))
		if readFile(t, filepath.Join(h.home, "a")) != "x" {
			t.Error("completed file changed")
		}
	})
	zlibCases := []struct {
		name    string
		packets func(t *testing.T) [][]byte
		status  string
	}{
		{"garbage zlib", func(t *testing.T) [][]byte { return [][]byte{[]byte("this is not zlib at all")} }, scanner.StatusZlibCorrupt},
		{"corrupt deflate", func(t *testing.T) [][]byte {
			z := zlibOf(t, bytes.Repeat([]byte("abc"), 1000))
			z[5] ^= 0xff
			z[6] ^= 0xff
			return [][]byte{z}
		}, scanner.StatusZlibCorrupt},
		{"bad adler32", func(t *testing.T) [][]byte {
			z := zlibOf(t, []byte("hello"))
			z[len(z)-1] ^= 1
			return [][]byte{z}
		}, scanner.StatusZlibCorrupt},
		{"truncated zlib", func(t *testing.T) [][]byte {
			z := zlibOf(t, bytes.Repeat([]byte("abc"), 1000))
			return [][]byte{z[:len(z)-3]}
		}, scanner.StatusZlibTruncated},
		{"bytes after the stream in the same packet", func(t *testing.T) [][]byte {
			return [][]byte{append(zlibOf(t, []byte("hello")), 'x')}
		}, scanner.StatusZlibTrailing},
		{"bytes after the stream in a later packet", func(t *testing.T) [][]byte {
			return [][]byte{zlibOf(t, []byte("hello")), []byte("x")}
		}, scanner.StatusZlibTrailing},
		{"a second stream", func(t *testing.T) [][]byte {
			return [][]byte{zlibOf(t, []byte("hello")), zlibOf(t, []byte("again"))}
		}, scanner.StatusZlibTrailing},
	}
	for _, c := range zlibCases {
		t.Run(c.name, func(t *testing.T) {
			h := newUpHarness(t)
			p := filepath.Join(h.home, "a")
			if err := os.WriteFile(p, []byte("original"), 0o644); err != nil {
				t.Fatal(err)
			}
			h.start("s")
			f := fileCmd("s", "1", "a")
			f.Compression = scanner.CompressionZlib
			h.do(f)
			var got []scanner.Command
			for _, pk := range c.packets(t) {
				got = append(got, h.do(dataCmd("s", "1", pk))...)
			}
			got = append(got, h.do(endCmd("s", "1", nil))...)
			if n := len(got); n == 0 || got[n-1].Status != c.status {
				t.Errorf("replies:\n%s\nwant last %s", h.show(got), c.status)
			}
			if readFile(t, p) != "original" {
				t.Error("original changed")
			}
			noDebris(t, h.root)
		})
	}
	t.Run("zlib bomb stops at MaxFileSize", func(t *testing.T) {
		h := newUpHarness(t, withLimits(fs.Limits{MaxFileSize: 1 << 20}))
		h.start("s")
		f := fileCmd("s", "1", "bomb")
		f.Compression = scanner.CompressionZlib
		h.do(f)
		z := zlibOf(t, make([]byte, 8<<20)) // 8 MiB of zeros in ~8 KiB
		var got []scanner.Command
		for i := 0; i < len(z); i += 4096 {
			got = append(got, h.do(dataCmd("s", "1", z[i:min(i+4096, len(z))]))...)
		}
		got = append(got, h.do(endCmd("s", "1", nil))...)
		if n := len(got); got[n-1].Status != scanner.StatusFileTooLarge {
			t.Errorf("last reply %s", showCmd(got[n-1], h.home))
		}
		for _, c := range got {
			if c.Size.Value > 1<<20 {
				t.Errorf("wrote past the limit: %s", showCmd(c, h.home))
			}
		}
		if len(tree(t, h.home)) != 0 {
			t.Errorf("debris: %v", tree(t, h.home))
		}
	})
	t.Run("packet above MaxPacket", func(t *testing.T) {
		h := newUpHarness(t, withLimits(fs.Limits{MaxPacket: 100}))
		h.start("s")
		h.do(fileCmd("s", "1", "a"))
		wantReplies(t, h, h.do(dataCmd("s", "1", make([]byte, 101))), fidStatus("1", scanner.StatusPacketTooLarge))
		wantReplies(t, h, h.do(endCmd("s", "1", nil)))
		noDebris(t, h.root)
	})
	t.Run("symlink then write through it", func(t *testing.T) {
		h := newUpHarness(t)
		outside := filepath.Join(h.root, "outside")
		h.start("s")
		l := fileCmd("s", "1", "x")
		l.FileType = scanner.FileSymlink
		h.do(l)
		wantReplies(t, h, h.do(endCmd("s", "1", []byte("path:"+outside))), "status fid=1 st=OK n=~/x sz="+fmt.Sprint(len("path:"+outside)))
		wantReplies(t, h, h.do(fileCmd("s", "2", "x/passwd")), fidStatus("2", scanner.StatusSymlinkInPath))
		wantReplies(t, h, h.do(endCmd("s", "2", []byte("owned"))))
		d := fileCmd("s", "3", "x/sub")
		d.FileType = scanner.FileDirectory
		wantReplies(t, h, h.do(d), fidStatus("3", scanner.StatusSymlinkInPath))
		l2 := fileCmd("s", "4", "x/l")
		l2.FileType = scanner.FileSymlink
		wantReplies(t, h, h.do(l2), fidStatus("4", scanner.StatusSymlinkInPath))
		if e := tree(t, outside); len(e) != 0 {
			t.Errorf("wrote outside home: %v", e)
		}
	})
	t.Run("symlink planted in the path after STARTED", func(t *testing.T) {
		h := newUpHarness(t)
		outside := filepath.Join(h.root, "outside")
		h.start("s")
		wantReplies(t, h, h.do(fileCmd("s", "1", "d/f")), "status fid=1 st=STARTED n=~/d/f")
		if err := os.Symlink(outside, filepath.Join(h.home, "d")); err != nil {
			t.Fatal(err)
		}
		wantReplies(t, h, h.do(endCmd("s", "1", []byte("x"))), fidStatus("1", scanner.StatusSymlinkInPath))
		if e := tree(t, outside); len(e) != 0 {
			t.Errorf("wrote outside home: %v", e)
		}
	})
	t.Run("destination is a directory", func(t *testing.T) {
		h := newUpHarness(t)
		if err := os.Mkdir(filepath.Join(h.home, "d"), 0o755); err != nil {
			t.Fatal(err)
		}
		h.start("s")
		wantReplies(t, h, h.do(fileCmd("s", "1", "d")), fidStatus("1", scanner.StatusDestinationIsDirectory))
		l := fileCmd("s", "2", "d")
		l.FileType = scanner.FileSymlink
		wantReplies(t, h, h.do(l), fidStatus("2", scanner.StatusDestinationIsDirectory))
		wantReplies(t, h, h.do(fileCmd("s", "3", "~/")), fidStatus("3", scanner.StatusDestinationIsDirectory))
	})
	t.Run("parent is a file", func(t *testing.T) {
		h := newUpHarness(t)
		if err := os.WriteFile(filepath.Join(h.home, "f"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		h.start("s")
		wantReplies(t, h, h.do(fileCmd("s", "1", "f/x")), fidStatus("1", "ENOTDIR:Failed to create directory"))
		wantReplies(t, h, h.do(endCmd("s", "1", []byte("x"))))
	})
	t.Run("unwritable parent", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root ignores directory permissions; see TestUploadWriteFaults")
		}
		h := newUpHarness(t)
		ro := filepath.Join(h.home, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		h.start("s")
		h.do(fileCmd("s", "1", "ro/x"))
		wantReplies(t, h, h.do(endCmd("s", "1", []byte("x"))), fidStatus("1", "EACCES:Failed to write file"))
	})
	t.Run("commands for another session", func(t *testing.T) {
		h := newUpHarness(t)
		h.start("s")
		h.do(fileCmd("s", "1", "a"))
		wantReplies(t, h, h.do(fileCmd("other", "1", "b")))
		wantReplies(t, h, h.do(endCmd("other", "1", []byte("x"))))
		wantReplies(t, h, h.do(scanner.Command{Action: scanner.ActionCancel, ID: "other"}))
		wantReplies(t, h, h.do(scanner.Command{Action: scanner.ActionFinish, ID: "other"}))
		wantReplies(t, h, h.do(endCmd("s", "1", []byte("x"))), "status fid=1 st=OK n=~/a sz=1")
		if !slices.Equal(tree(t, h.home), []string{"a"}) {
			t.Errorf("home: %v", tree(t, h.home))
		}
	})
	t.Run("hundreds of sessions", func(t *testing.T) {
		h := newUpHarness(t)
		var oks int
		for i := range 300 {
			for _, c := range h.do(sendCmd(fmt.Sprintf("s%d", i))) {
				if c.Status == scanner.StatusOK {
					oks++
				}
			}
		}
		if oks != fs.DefaultMaxSessions {
			t.Errorf("%d sessions approved, want %d", oks, fs.DefaultMaxSessions)
		}
		wantReplies(t, h, h.do(fileCmd("s299", "1", "a")))
		wantReplies(t, h, h.do(fileCmd("s9", "1", "a")), "status fid=1 st=STARTED n=~/a")
	})
	t.Run("idle expiry", func(t *testing.T) {
		h := newUpHarness(t)
		h.start("s")
		h.do(fileCmd("s", "1", "a"))
		h.do(dataCmd("s", "1", []byte("partial")))
		h.clock.Advance(fs.DefaultIdleTimeout + time.Second)
		h.e.Tick()
		wantReplies(t, h, h.pull())
		wantReplies(t, h, h.do(endCmd("s", "1", []byte("x"))))
		if h.e.Active() || len(tree(t, h.home)) != 0 {
			t.Errorf("expired session left %v", tree(t, h.home))
		}
	})
	t.Run("second send for a live id", func(t *testing.T) {
		h := newUpHarness(t)
		h.start("s")
		h.do(fileCmd("s", "1", "a"))
		h.do(dataCmd("s", "1", []byte("partial")))
		wantReplies(t, h, h.do(sendCmd("s")))
		if h.e.Active() || len(tree(t, h.home)) != 0 {
			t.Errorf("session not destroyed: %v", tree(t, h.home))
		}
	})
	t.Run("too many open files", func(t *testing.T) {
		h := newUpHarness(t)
		h.start("s")
		for i := range fs.MaxOpenUploadFiles + 1 {
			fid := fmt.Sprint(i + 1)
			h.do(fileCmd("s", fid, "f"+fid))
			got := h.do(dataCmd("s", fid, []byte("x")))
			want := "PROGRESS"
			if i == fs.MaxOpenUploadFiles {
				want = scanner.StatusTooManyOpen
			}
			if len(got) != 1 || got[0].Status != want {
				t.Fatalf("file %d: %s", i, h.show(got))
			}
		}
		h.do(scanner.Command{Action: scanner.ActionFinish, ID: "s"})
		if len(tree(t, h.home)) != 0 {
			t.Errorf("incomplete files kept after finish: %v", tree(t, h.home))
		}
	})
}

func TestUploadCancelMidFile(t *testing.T) {
	for _, how := range []string{"cancel", "CancelAll", "Close"} {
		t.Run(how, func(t *testing.T) {
			h := newUpHarness(t)
			p := filepath.Join(h.home, "big")
			if err := os.WriteFile(p, []byte("previous"), 0o644); err != nil {
				t.Fatal(err)
			}
			h.start("s")
			h.do(fileCmd("s", "1", "big"))
			chunk := bytes.Repeat([]byte{0xa5}, 1<<20)
			for range 25 { // half of a 50 MiB file
				h.do(dataCmd("s", "1", chunk))
			}
			switch how {
			case "cancel":
				wantReplies(t, h, h.do(scanner.Command{Action: scanner.ActionCancel, ID: "s"}), "status st=CANCELED")
			case "CancelAll":
				if !h.e.CancelAll() {
					t.Error("CancelAll found no session")
				}
				wantReplies(t, h, h.pull(), "status st=CANCELED")
			case "Close":
				if err := h.e.Close(); err != nil {
					t.Fatal(err)
				}
				if err := h.e.Handle(&scanner.Command{Action: scanner.ActionData, ID: "s", FileID: "1"}); !errors.Is(err, fs.ErrClosed) {
					t.Errorf("Handle after Close: %v", err)
				}
			}
			if readFile(t, p) != "previous" || !slices.Equal(tree(t, h.home), []string{"big"}) {
				t.Errorf("home after %s: %v", how, tree(t, h.home))
			}
			evs := h.fileEvents()
			if len(evs) != 1 || evs[0].Bytes != 25<<20 || evs[0].Result == "OK" {
				t.Errorf("events: %+v", evs)
			}
		})
	}
}

func TestUploadCancelWithZlibInFlight(t *testing.T) {
	h := newUpHarness(t)
	h.start("s")
	f := fileCmd("s", "1", "z")
	f.Compression = scanner.CompressionZlib
	h.do(f)
	z := zlibOf(t, bytes.Repeat([]byte("data "), 100000))
	h.do(dataCmd("s", "1", z[:len(z)/2]))
	wantReplies(t, h, h.do(scanner.Command{Action: scanner.ActionCancel, ID: "s"}), "status st=CANCELED")
	if len(tree(t, h.home)) != 0 {
		t.Errorf("debris: %v", tree(t, h.home))
	}
}

func TestUploadWriteFaults(t *testing.T) {
	eacces := func(path string, written int64) error {
		if written >= 4096 {
			return unix.EACCES
		}
		return nil
	}
	for _, c := range []struct {
		name   string
		opts   []harnessOption
		statfs func(int) (int64, error)
		write  func(string, int64) error
		status string
	}{
		{name: "EACCES while writing", write: eacces, status: "EACCES:Failed to write file"},
		{name: "reserve above free space", opts: []harnessOption{withLimits(fs.Limits{DiskReserve: 1 << 62})}, status: scanner.StatusDiskReserve},
		{name: "disk fills up", statfs: fillingDisk(fs.DefaultDiskReserve + 5000), status: scanner.StatusDiskReserve},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newUpHarness(t, c.opts...)
			fs.SetUploadFaults(h.e, c.statfs, c.write)
			p := filepath.Join(h.home, "f")
			if err := os.WriteFile(p, []byte("previous"), 0o644); err != nil {
				t.Fatal(err)
			}
			h.start("s")
			h.do(fileCmd("s", "1", "f"))
			var got []scanner.Command
			for range 3 {
				got = append(got, h.do(dataCmd("s", "1", make([]byte, 4096)))...)
			}
			got = append(got, h.do(endCmd("s", "1", []byte("x")))...)
			if n := len(got); n == 0 || got[n-1].Status != c.status {
				t.Errorf("replies:\n%s\nwant last %s", h.show(got), c.status)
			}
			if readFile(t, p) != "previous" || !slices.Equal(tree(t, h.home), []string{"f"}) {
				t.Errorf("home: %v", tree(t, h.home))
			}
		})
	}
}

// fillingDisk is a statfs whose free space is free at first and then shrinks as if
// someone else were filling the disk.
func fillingDisk(free int64) func(int) (int64, error) {
	return func(int) (int64, error) {
		f := free
		free -= 4096
		return f, nil
	}
}
