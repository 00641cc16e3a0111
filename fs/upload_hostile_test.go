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

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
	"github.com/xferterm/xferterm/transfer"
)

func TestUploadHostile(t *testing.T) {
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
			z := testdata.Zlib(t, bytes.Repeat([]byte("abc"), 1000))
			z[5] ^= 0xff
			z[6] ^= 0xff
			return [][]byte{z}
		}, scanner.StatusZlibCorrupt},
		{"bad adler32", func(t *testing.T) [][]byte {
			z := testdata.Zlib(t, []byte("hello"))
			z[len(z)-1] ^= 1
			return [][]byte{z}
		}, scanner.StatusZlibCorrupt},
		{"truncated zlib", func(t *testing.T) [][]byte {
			z := testdata.Zlib(t, bytes.Repeat([]byte("abc"), 1000))
			return [][]byte{z[:len(z)-3]}
		}, scanner.StatusZlibTruncated},
		{"bytes after the stream in the same packet", func(t *testing.T) [][]byte {
			return [][]byte{append(testdata.Zlib(t, []byte("hello")), 'x')}
		}, scanner.StatusZlibTrailing},
		{"bytes after the stream in a later packet", func(t *testing.T) [][]byte {
			return [][]byte{testdata.Zlib(t, []byte("hello")), []byte("x")}
		}, scanner.StatusZlibTrailing},
		{"a second stream", func(t *testing.T) [][]byte {
			return [][]byte{testdata.Zlib(t, []byte("hello")), testdata.Zlib(t, []byte("again"))}
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
		h := newUpHarness(t, withLimits(fs.Limits{MaxFileSize: 256 << 10}))
		h.start("s")
		f := fileCmd("s", "1", "bomb")
		f.Compression = scanner.CompressionZlib
		h.do(f)
		z := testdata.Zlib(t, make([]byte, 2<<20)) // 2 MiB of zeros in ~2 KiB
		var got []scanner.Command
		for i := 0; i < len(z); i += 4096 {
			got = append(got, h.do(dataCmd("s", "1", z[i:min(i+4096, len(z))]))...)
		}
		got = append(got, h.do(endCmd("s", "1", nil))...)
		if n := len(got); got[n-1].Status != scanner.StatusFileTooLarge {
			t.Errorf("last reply %s", showCmd(got[n-1], h.home))
		}
		for _, c := range got {
			if c.Size.Value > 256<<10 {
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
		if !unprivileged(t) {
			return // root ignores directory permissions: it ran as another user
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
	t.Run("writable but unreadable parent", func(t *testing.T) {
		// A drop box (mode 0333, like a 1733 spool directory): writing needs only write
		// and search permission, so the Linux walk (O_PATH) does not read the directories.
		if !unprivileged(t) {
			return // root ignores directory permissions: it ran as another user
		}
		h := newUpHarness(t)
		drop := filepath.Join(h.home, "drop")
		if err := os.Mkdir(drop, 0o333); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(drop, 0o755) }) // so that TempDir can remove it
		h.start("s")
		replies := h.do(fileCmd("s", "1", "drop/x"))
		if fs.WalkNeedsRead {
			// The portable walk (macOS, FreeBSD) holds each directory open for reading,
			// having no O_PATH: it refuses what it cannot read, and never falls back to a
			// path, which would follow a link planted on the way.
			wantReplies(t, h, replies, fidStatus("1", "EACCES:Failed to create directory"))
			wantReplies(t, h, h.do(endCmd("s", "1", []byte("x"))))
			if _, err := os.Lstat(filepath.Join(drop, "x")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("drop/x: %v, want none", err)
			}
			return
		}
		wantReplies(t, h, replies, "status fid=1 st=STARTED n=~/drop/x")
		wantReplies(t, h, h.do(endCmd("s", "1", []byte("x"))), "status fid=1 st=OK n=~/drop/x sz=1")
		if err := os.Chmod(drop, 0o755); err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, filepath.Join(drop, "x")); got != "x" {
			t.Errorf("drop/x = %q", got)
		}
	})
	t.Run("commands for another session", func(t *testing.T) {
		h := newUpHarness(t)
		h.start("s")
		h.do(fileCmd("s", "1", "a"))
		wantReplies(t, h, h.do(fileCmd("other", "1", "b")))
		wantReplies(t, h, h.do(endCmd("other", "1", []byte("x"))))
		// A cancel of a session that does not exist is answered, for that id only.
		if got := h.do(scanner.Command{Action: scanner.ActionCancel, ID: "other"}); len(got) != 1 || got[0].ID != "other" || got[0].Status != scanner.StatusCanceled {
			t.Errorf("cancel of an unknown session: %s", h.show(got))
		}
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
			if i < fs.MaxOpenUploadFiles {
				wantReplies(t, h, got)
			} else {
				wantReplies(t, h, got, "status fid="+fid+" st="+scanner.StatusTooManyOpen)
			}
		}
		h.do(scanner.Command{Action: scanner.ActionFinish, ID: "s"})
		if len(tree(t, h.home)) != 0 {
			t.Errorf("incomplete files kept after finish: %v", tree(t, h.home))
		}
	})
}

// TestUploadHardLinkToUnwrittenFile: a hard link shares its target's inode, and the
// link's `prm` and `mod` are applied to that inode. So a hard link may only name a file
// this session wrote (and was allowed to write): never an existing file it did not send
// (path:), nor an entry that failed or was refused (fid:). Otherwise a remote allowed to
// write into /tmp could link ~/.ssh/id_ed25519 there and make it world-readable.
func TestUploadHardLinkToUnwrittenFile(t *testing.T) {
	h := newUpHarness(t, withApprover(approveFunc(func(r transfer.Request) transfer.Decision {
		return transfer.Decision{Allow: r.File == nil || !strings.Contains(r.File.Path, "protected")}
	})))
	secret := filepath.Join(h.home, "protected", "key")
	if err := os.MkdirAll(filepath.Dir(secret), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(secret, []byte("key"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.start("s")
	wantReplies(t, h, h.do(fileCmd("s", "1", "protected/key")), fidStatus("1", scanner.StatusDestinationRefused))
	for fid, data := range map[string]string{"2": "path:" + secret, "3": "fid:1", "4": "fid_abs:1", "5": "path:protected/key"} {
		l := withMode(fileCmd("s", fid, "pub"+fid), 0o644)
		l.FileType = scanner.FileLink
		l.Mtime = scanner.Some(1)
		h.do(l)
		wantReplies(t, h, h.do(endCmd("s", fid, []byte(data))), fidStatus(fid, scanner.StatusLinkTargetNotWritten))
	}
	st, err := os.Stat(secret)
	if err != nil || st.Mode().Perm() != 0o600 || st.ModTime().UnixNano() == 1 {
		t.Errorf("the protected file was changed through a hard link: %v %v", st.Mode(), err)
	}
	if got := tree(t, h.home); !slices.Equal(got, []string{"protected/", "protected/key"}) {
		t.Errorf("home: %v", got)
	}
}

// fidStatus is how wantReplies shows a status for fid.
func fidStatus(fid, st string) string { return "status fid=" + fid + " st=" + st }
