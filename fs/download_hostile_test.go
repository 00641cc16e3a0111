package fs_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
)

// statusLines renders the status replies of cmds with statusLine, and fails on data
// packets carrying secret.
func statusLines(t testing.TB, cmds []scanner.Command, secret string) []string {
	t.Helper()
	var out []string
	for _, c := range cmds {
		if secret != "" && bytes.Contains(c.Data, []byte(secret)) {
			t.Fatalf("secret content sent: %s", c.String())
		}
		if c.Action == scanner.ActionStatus {
			out = append(out, statusLine(c))
		}
	}
	return out
}

const secretText = "TOP-SECRET"

// hostileHome is a home with dir/a.txt, dir/sub/ and secret.txt, of which only dir is
// listed by the tests.
func hostileHome(t testing.TB, home string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Join(home, "dir", "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(home, "dir", "a.txt"), []byte("aaa"), 0o644))
	must(t, os.WriteFile(filepath.Join(home, "secret.txt"), []byte(secretText), 0o644))
}

// TestDownloadHostileRequests: requests and signature data a well-behaved client never
// sends. Each ends the session with its error and CANCELED, and reads nothing it should
// not.
func TestDownloadHostileRequests(t *testing.T) {
	data := func(fid string, d string, end bool) scanner.Command {
		c := scanner.Command{Action: scanner.ActionData, ID: "s", FileID: fid, Data: []byte(d)}
		if end {
			c.Action = scanner.ActionEndData
		}
		return c
	}
	rsyncReq := func(fid, path string) scanner.Command {
		c := requestCmd("s", fid, path, false)
		c.Transmit = scanner.TransmitRsync
		return c
	}
	canceled := ":" + scanner.StatusCanceled
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, home string)
		cmds  func(home string) []scanner.Command
		want  []string
	}{
		{
			name: "an unlisted path is refused",
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{requestCmd("s", "1", home+"/secret.txt", false)}
			},
			want: []string{"1:" + scanner.StatusNotListed, canceled},
		},
		{
			name: "a path outside home is refused",
			cmds: func(string) []scanner.Command { return []scanner.Command{requestCmd("s", "1", "/etc/passwd", false)} },
			want: []string{"1:" + scanner.StatusNotListed, canceled},
		},
		{
			name: "a relative path is not resolved: requests name listed paths verbatim",
			cmds: func(string) []scanner.Command { return []scanner.Command{requestCmd("s", "1", "dir/a.txt", false)} },
			want: []string{"1:" + scanner.StatusNotListed, canceled},
		},
		{
			name: "a path with .. is not the listed path",
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{requestCmd("s", "1", home+"/dir/../secret.txt", false)}
			},
			want: []string{"1:" + scanner.StatusNotListed, canceled},
		},
		{
			name: "a listed directory is refused",
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{requestCmd("s", "1", home+"/dir/sub", false)}
			},
			want: []string{"1:" + scanner.StatusSendDirectory, canceled},
		},
		{
			name: "an unlisted request after a good one: the good one is sent, then the error",
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{requestCmd("s", "1", home+"/dir/a.txt", false), requestCmd("s", "2", home+"/secret.txt", false)}
			},
			want: []string{"2:" + scanner.StatusNotListed, canceled},
		},
		{
			name:  "a listed file that vanished",
			setup: func(t *testing.T, home string) { must(t, os.Remove(home+"/dir/a.txt")) },
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{requestCmd("s", "1", home+"/dir/a.txt", false)}
			},
			want: []string{"1:ENOENT:" + scanner.TextAddSendFile, canceled},
		},
		{
			name: "a listed file that became a directory",
			setup: func(t *testing.T, home string) {
				must(t, os.Remove(home+"/dir/a.txt"))
				must(t, os.Mkdir(home+"/dir/a.txt", 0o755))
			},
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{requestCmd("s", "1", home+"/dir/a.txt", false)}
			},
			want: []string{"1:" + scanner.StatusSendDirectory, canceled},
		},
		{
			name: "a listed file that became a symlink to the secret",
			setup: func(t *testing.T, home string) {
				must(t, os.Remove(home+"/dir/a.txt"))
				must(t, os.Symlink(home+"/secret.txt", home+"/dir/a.txt"))
			},
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{requestCmd("s", "1", home+"/dir/a.txt", false)}
			},
			want: []string{"1:" + scanner.StatusFileChanged, canceled},
		},
		{
			name: "signature data for an unknown fid",
			cmds: func(string) []scanner.Command { return []scanner.Command{data("9", "x", false)} },
			want: []string{":" + scanner.StatusSignatureUnknownFile("9"), canceled},
		},
		{
			name: "signature data for a plain request",
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{requestCmd("s", "1", home+"/dir/a.txt", false), data("1", "x", true)}
			},
			want: []string{":" + scanner.StatusSignatureNotRsync("1"), canceled},
		},
		{
			name: "a corrupt signature",
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{rsyncReq("1", home+"/dir/a.txt"), data("1", "not a signature", true)}
			},
			want: []string{"1:" + scanner.StatusBadSignature, canceled},
		},
		{
			name: "signature data after its end_data",
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{rsyncReq("1", home+"/dir/a.txt"), rsyncReq("2", home+"/dir/a.txt"),
					data("1", string(make([]byte, 12)), true), data("1", "more", false)}
			},
			want: []string{"1:" + scanner.StatusBadSignature, canceled},
		},
		{
			name: "a duplicate fid",
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{rsyncReq("1", home+"/dir/a.txt"), requestCmd("s", "1", home+"/dir/a.txt", false)}
			},
			want: []string{"1:" + scanner.StatusDuplicateFileID("1"), canceled},
		},
		{
			name: "more than 32768 queued requests",
			cmds: func(home string) []scanner.Command {
				var cmds []scanner.Command
				for i := range 32769 {
					cmds = append(cmds, requestCmd("s", fmt.Sprint(i+1), home+"/dir/a.txt", false))
				}
				return cmds
			},
			want: []string{":" + scanner.StatusTooManyQueued, canceled},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newDLHarness(t, dlAllow, fs.Limits{})
			hostileHome(t, h.home)
			h.approveAndList("s", "dir")
			if tc.setup != nil {
				tc.setup(t, h.home)
			}
			got := h.do(tc.cmds(h.home)...)
			if st := statusLines(t, got, secretText); fmt.Sprint(st) != fmt.Sprint(tc.want) {
				t.Errorf("statuses %q, want %q\n%s", st, tc.want, h.show(got))
			}
			if h.e.Active() {
				t.Error("the session is still active")
			}
			if n := len(got); n > 0 && statusLine(got[n-1]) != canceled {
				t.Errorf("last reply %s, want CANCELED", got[n-1].String())
			}
		})
	}
}

// TestDownloadThousandsOfRequests: many queued requests are served one at a time, in
// order, each whole.
func TestDownloadThousandsOfRequests(t *testing.T) {
	h := newDLHarness(t, dlAllow, fs.Limits{})
	hostileHome(t, h.home)
	h.approveAndList("s", "dir")
	var cmds []scanner.Command
	const n = 3000
	for i := range n {
		cmds = append(cmds, requestCmd("s", fmt.Sprint(i+1), h.home+"/dir/a.txt", i%10 == 0))
	}
	got := h.do(cmds...)
	if len(got) != n {
		t.Fatalf("%d replies, want %d", len(got), n)
	}
	for i, c := range got {
		if c.Action != scanner.ActionEndData || c.FileID != fmt.Sprint(i+1) {
			t.Fatalf("reply %d: %s", i, c.String())
		}
	}
	if d := fileData(t, got, "2", false); string(d) != "aaa" {
		t.Errorf("data %q", d)
	}
	if d := fileData(t, got, "1", true); string(d) != "aaa" {
		t.Errorf("data %q", d)
	}
}

// TestDownloadReadErrors: a file that cannot be opened or read ends the session with
// its errno, then CANCELED.
func TestDownloadReadErrors(t *testing.T) {
	t.Run("unreadable file", func(t *testing.T) {
		if !unprivileged(t) {
			return // mode bits do not stop root: it ran as another user
		}
		h := newDLHarness(t, dlAllow, fs.Limits{})
		must(t, os.Mkdir(filepath.Join(h.home, "d"), 0o755))
		path := filepath.Join(h.home, "d", "secret")
		must(t, os.WriteFile(path, []byte("s"), 0o000))
		spec := "d" // children of a spec are listed without an access check (§7.2)
		h.approveAndList("s", spec)
		got := h.do(requestCmd("s", "1", path, false))
		want := []string{"1:EACCES:" + scanner.TextAddSendFile, ":CANCELED"}
		if st := statusLines(t, got, ""); fmt.Sprint(st) != fmt.Sprint(want) {
			t.Errorf("statuses %q, want %q", st, want)
		}
	})
	t.Run("read error", func(t *testing.T) {
		// /proc/self/mem is a regular file of size 0 whose first byte cannot be read:
		// the check for bytes beyond the size meets EIO.
		const path = "/proc/self/mem"
		if _, err := os.Stat(path); err != nil {
			t.Skip(err)
		}
		h := newDLHarness(t, dlAllow, fs.Limits{})
		h.approveAndList("s", path)
		got := h.do(requestCmd("s", "1", path, false))
		want := []string{"1:EIO:" + scanner.TextReadData, ":CANCELED"}
		if st := statusLines(t, got, ""); fmt.Sprint(st) != fmt.Sprint(want) {
			t.Errorf("statuses %q, want %q", st, want)
		}
		if ev := h.fileEvents(); len(ev) != 1 || ev[0].Result != "EIO:"+scanner.TextReadData {
			t.Errorf("events %+v", ev)
		}
	})
}

// TestDownloadSearchOnlyDirectory: a file and a link named as specs in a directory that
// may be searched but not read (mode 0111) are sent. The portable lookup cannot hold that
// directory open (it would need read permission): it goes by the path at each use and
// checks the file there is the one it found.
func TestDownloadSearchOnlyDirectory(t *testing.T) {
	if !unprivileged(t) {
		return // mode bits do not stop root: it ran as another user
	}
	h := newDLHarness(t, dlAllow, fs.Limits{})
	dir := filepath.Join(h.home, "d")
	must(t, os.Mkdir(dir, 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "f"), []byte("data"), 0o644))
	must(t, os.Symlink("f", filepath.Join(dir, "l")))
	must(t, os.Chmod(dir, 0o111))
	t.Cleanup(func() { _ = os.Chmod(dir, 0o755) }) // so that TempDir can remove it
	h.approveAndList("s", "d/f", "d/l")
	for i, c := range []struct{ name, want string }{{"f", "data"}, {"l", "f"}} {
		fid := itoa(i + 1)
		got := h.do(requestCmd("s", fid, filepath.Join(dir, c.name), false))
		if d := fileData(t, got, fid, false); string(d) != c.want {
			t.Errorf("%s: sent %q, want %q\n%s", c.name, d, c.want, h.show(got))
		}
	}
}

// TestDownloadSwappedDirectoryIsNotRead: after the listing, a listed directory is
// replaced by a symlink to another directory holding a file of the same name. A request
// for the listed path must not read that other file: what is sent is the file that was
// listed (same inode), or nothing.
func TestDownloadSwappedDirectoryIsNotRead(t *testing.T) {
	for _, name := range []string{"a.txt", "link"} {
		t.Run(name, func(t *testing.T) {
			h := newDLHarness(t, dlAllow, fs.Limits{})
			hostileHome(t, h.home)
			must(t, os.Symlink("a.txt", filepath.Join(h.home, "dir", "link")))
			elsewhere := filepath.Join(h.home, "elsewhere")
			must(t, os.Mkdir(elsewhere, 0o755))
			must(t, os.WriteFile(filepath.Join(elsewhere, "a.txt"), []byte(secretText), 0o644))
			must(t, os.Symlink(secretText, filepath.Join(elsewhere, "link")))
			h.approveAndList("s", "dir")

			must(t, os.Rename(filepath.Join(h.home, "dir"), filepath.Join(h.home, "dir.old")))
			must(t, os.Symlink(elsewhere, filepath.Join(h.home, "dir")))
			got := h.do(requestCmd("s", "1", filepath.Join(h.home, "dir", name), false))
			want := []string{"1:" + scanner.StatusFileChanged, ":CANCELED"}
			if st := statusLines(t, got, secretText); fmt.Sprint(st) != fmt.Sprint(want) {
				t.Errorf("statuses %q, want %q", st, want)
			}
		})
	}
}
