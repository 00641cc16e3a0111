package fs_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xferterm/xferterm/approval"
	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/rsync"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
	"github.com/xferterm/xferterm/transfer"
)

// Adversarial cases of issue 16 beyond its findings: what an attacker on the remote
// host would try next against the engine, with xferterm's real policy where the policy
// is what is tried.

// policyUpload is an upload harness under the real policy (sessionPolicy: sessions
// allowed, every file question refused), with the session s started.
func policyUpload(t *testing.T) (*upHarness, *policy) {
	t.Helper()
	p := newPolicy(sessionPolicy)
	h := newUpHarness(t, withApprover(p))
	p.start(t, h.home, t.TempDir())
	if err := h.e.Handle(&scanner.Command{Action: scanner.ActionSend, ID: "s"}); err != nil {
		t.Fatal(err)
	}
	p.await(t, 1)
	wantReplies(t, h, h.pull(), "status st=OK")
	return h, p
}

// link is an upload entry of type symbolic link at name.
func link(fid, name string) scanner.Command {
	c := fileCmd("s", fid, name)
	c.FileType = scanner.FileSymlink
	return c
}

func TestAdversarialUploads(t *testing.T) {
	t.Run("a directory entry naming HOME through .. keeps its mode", func(t *testing.T) {
		h, p := policyUpload(t)
		d := withMode(fileCmd("s", "1", "~/../"+filepath.Base(h.home)), 0)
		d.FileType = scanner.FileDirectory
		wantReplies(t, h, h.do(d), "status fid=1 st=OK n=~")
		h.do(scanner.Command{Action: scanner.ActionFinish, ID: "s"})
		if st, err := os.Stat(h.home); err != nil || st.Mode().Perm() != 0o755 || len(p.questions()) != 0 {
			t.Errorf("home: %v, %v; questions %+v", st.Mode(), err, p.questions())
		}
	})
	t.Run("a directory entry above HOME is a sensitive write", func(t *testing.T) {
		h, p := policyUpload(t)
		d := withMode(fileCmd("s", "1", h.root), 0o777)
		d.FileType = scanner.FileDirectory
		must(t, h.e.Handle(&d))
		p.await(t, 1)
		wantReplies(t, h, h.pull(), fidStatus("1", scanner.StatusDestinationRefused))
		if st, err := os.Stat(h.root); err != nil || st.Mode().Perm() == 0o777 {
			t.Errorf("%s: %v, %v", h.root, st.Mode(), err)
		}
	})
	t.Run("a bare ~ is not HOME", func(t *testing.T) {
		h, _ := policyUpload(t)
		d := withMode(fileCmd("s", "1", "~"), 0)
		d.FileType = scanner.FileDirectory
		wantReplies(t, h, h.do(d), "status fid=1 st=OK n=~/~")
		h.do(scanner.Command{Action: scanner.ActionFinish, ID: "s"})
		if st, err := os.Stat(h.home); err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("home: %v, %v", st.Mode(), err)
		}
	})
	t.Run("a mirror-mode path climbing out of HOME is judged where it lands", func(t *testing.T) {
		h, p := policyUpload(t)
		climb := h.home + strings.Repeat("/..", strings.Count(h.home, "/")) + "/etc/cron.d/job"
		must(t, h.e.Handle(&scanner.Command{Action: scanner.ActionFile, ID: "s", FileID: "1", Name: climb}))
		p.await(t, 1)
		wantReplies(t, h, h.pull(), fidStatus("1", scanner.StatusDestinationRefused))
		if q := p.questions(); len(q) != 1 || q[0].Path != "/etc/cron.d/job" || q[0].Reason != "outside the allowed directories" {
			t.Errorf("questions %+v", q)
		}
	})
	t.Run("a chain of links is judged by where it ends", func(t *testing.T) {
		h, p := policyUpload(t)
		must(t, os.Mkdir(filepath.Join(h.home, ".ssh"), 0o700))
		h.do(link("1", "a"))
		h.do(link("2", "b"))
		wantReplies(t, h, h.do(endCmd("s", "1", []byte("path:b"))), "status fid=1 st=OK n=~/a sz=6")
		must(t, h.e.Handle(ptr(endCmd("s", "2", []byte("path:.ssh")))))
		p.await(t, 1)
		wantReplies(t, h, h.pull(), fidStatus("2", scanner.StatusDestinationRefused))
		if q := p.questions(); len(q) != 1 || q[0].Target != filepath.Join(h.home, ".ssh") {
			t.Errorf("questions %+v", q)
		}
	})
	t.Run("a link climbing out through another link is judged as the kernel resolves it", func(t *testing.T) {
		h, p := policyUpload(t)
		must(t, os.Symlink("/etc", filepath.Join(h.home, "deep")))
		h.do(link("1", "z")) // "deep/../passwd": ~/passwd as written, /passwd in fact
		must(t, h.e.Handle(ptr(endCmd("s", "1", []byte("path:deep/../passwd")))))
		p.await(t, 1)
		wantReplies(t, h, h.pull(), fidStatus("1", scanner.StatusDestinationRefused))
		if q := p.questions(); len(q) != 1 || q[0].Target != "/passwd" {
			t.Errorf("questions %+v", q)
		}
	})
	t.Run("a loop of links is made, and a read through it fails", func(t *testing.T) {
		h, p := policyUpload(t)
		h.do(link("1", "a"))
		h.do(link("2", "b"))
		h.do(endCmd("s", "1", []byte("path:b")))
		wantReplies(t, h, h.do(endCmd("s", "2", []byte("path:a"))), "status fid=2 st=OK n=~/b sz=6")
		it := fs.DescribeSpecs(h.home, []string{"~/a/"}, 10)[0]
		if it.Err != "ELOOP:Failed to read spec" || len(p.questions()) != 0 {
			t.Errorf("described %+v; questions %+v", it, p.questions())
		}
	})
	t.Run("a hard link to an uploaded symlink links the symlink, not its target", func(t *testing.T) {
		h := newUpHarness(t)
		sshHome(t, h.home)
		h.start("s")
		hl := fileCmd("s", "2", "h")
		hl.FileType = scanner.FileLink
		h.do(link("1", "s"))
		h.do(hl)
		h.do(endCmd("s", "1", []byte("path:.ssh/id_ed25519")))
		wantReplies(t, h, h.do(endCmd("s", "2", []byte("fid:1"))), "status fid=2 st=OK n=~/h sz=5")
		st, err := os.Lstat(filepath.Join(h.home, "h"))
		key, _ := os.Stat(filepath.Join(h.home, ".ssh", "id_ed25519"))
		if err != nil || st.Mode()&os.ModeSymlink == 0 || os.SameFile(st, key) {
			t.Errorf("~/h: %v, %v", st.Mode(), err)
		}
	})
	t.Run("a link question withdrawn by a cancel makes nothing", func(t *testing.T) {
		p := newPersonApprover(func(r transfer.Request) (transfer.Decision, bool) {
			return transfer.Decision{Allow: true}, r.File == nil || r.File.Target == ""
		})
		h := newUpHarness(t, withApprover(p))
		h.start("s")
		h.do(link("1", "photos"))
		h.do(endCmd("s", "1", []byte("path:.ssh")))
		q := p.next(t)
		h.do(scanner.Command{Action: scanner.ActionCancel, ID: "s"})
		q.answer(transfer.Decision{Allow: true})
		if !q.withdrawn() || len(tree(t, h.home)) != 0 || fs.Held(h.e) != 0 {
			t.Errorf("withdrawn %v, home %v, %d bytes held", q.withdrawn(), tree(t, h.home), fs.Held(h.e))
		}
	})
	t.Run("an rsync request onto a link to a secret gets no signature", func(t *testing.T) {
		h := newUpHarness(t)
		sshHome(t, h.home)
		must(t, os.WriteFile(filepath.Join(h.home, ".ssh", "id_ed25519"), testdata.RandomBytes(5, 10_000), 0o600))
		must(t, os.Symlink(".ssh/id_ed25519", filepath.Join(h.home, "notes")))
		h.start("s")
		f := fileCmd("s", "1", "notes")
		f.Transmit = scanner.TransmitRsync
		wantReplies(t, h, h.do(f), "status fid=1 st=STARTED n=~/notes sz=15")
	})
	t.Run("an old file swapped during its signature: the patch uses what was signed", func(t *testing.T) {
		h := newUpHarness(t)
		old := testdata.RandomBytes(6, 100_000)
		p := filepath.Join(h.home, "r.bin")
		must(t, os.WriteFile(p, old, 0o644))
		h.start("s")
		sig := rsyncStart(t, h, "1", "r.bin", false, len(old))
		must(t, os.WriteFile(p+".other", testdata.RandomBytes(7, 100_000), 0o644))
		must(t, os.Rename(p+".other", p))
		newData := slices.Concat(old[:5000], []byte("edit"), old[5000:])
		got := sendPackets(h, "1", deltaOf(t, sig, newData))
		wantReplies(t, h, got[len(got)-1:], "status fid=1 st=OK n=~/r.bin sz="+itoa(len(newData)))
		if !bytes.Equal([]byte(readFile(t, p)), newData) {
			t.Error("patched file differs")
		}
	})
	t.Run("a zlib bomb inside a delta stops at the size limit", func(t *testing.T) {
		h := newUpHarness(t, withLimits(fs.Limits{MaxFileSize: 1 << 20}))
		old := testdata.RandomBytes(8, 10_000)
		must(t, os.WriteFile(filepath.Join(h.home, "r.bin"), old, 0o644))
		h.start("s")
		f := fileCmd("s", "1", "r.bin")
		f.Transmit, f.Compression = scanner.TransmitRsync, scanner.CompressionZlib
		h.do(f)
		// One Data op of 64 MiB of zeros: about 64 KiB compressed.
		op := binary.LittleEndian.AppendUint32([]byte{1}, 64<<20)
		bomb := testdata.Zlib(t, slices.Concat(op, make([]byte, 64<<20)))
		got := sendPackets(h, "1", bomb)
		if n := len(got); n == 0 || got[n-1].Status != scanner.StatusFileTooLarge {
			t.Errorf("replies:\n%s", h.show(got))
		}
		noDebris(t, h.root)
		if !bytes.Equal([]byte(readFile(t, filepath.Join(h.home, "r.bin"))), old) {
			t.Error("the old file changed")
		}
	})
	t.Run("a flood of empty packets gets no flood of replies", func(t *testing.T) {
		h := newUpHarness(t)
		h.start("s")
		h.do(fileCmd("s", "1", "a"))
		for range 100_000 {
			if got := h.do(dataCmd("s", "1", nil)); len(got) != 0 {
				t.Fatalf("replies: %s", h.show(got))
			}
		}
		wantReplies(t, h, h.do(endCmd("s", "1", []byte("x"))), "status fid=1 st=OK n=~/a sz=1")
	})
	t.Run("huge file ids are charged to the budget", func(t *testing.T) {
		h := newUpHarness(t, withLimits(fs.Limits{MaxHeld: 1 << 20}))
		h.start("s")
		refused := 0
		for i := range 40 {
			fid := strconv.Itoa(i) + strings.Repeat("f", 100<<10)
			if got := h.do(fileCmd("s", fid, "a"+strconv.Itoa(i))); len(got) == 1 && got[0].Status == scanner.StatusTooManyFiles {
				refused++
			}
		}
		if refused == 0 || fs.Held(h.e) > 1<<20 {
			t.Errorf("%d refused, %d bytes held", refused, fs.Held(h.e))
		}
	})
	t.Run("sessions opened and abandoned expire and give their memory back", func(t *testing.T) {
		h := newUpHarness(t)
		for i := range 12 {
			id := "s" + strconv.Itoa(i)
			for _, c := range []scanner.Command{sendCmd(id), fileCmd(id, "1", "f"+strconv.Itoa(i)), dataCmd(id, "1", []byte("half")),
				receiveCmd("r"+strconv.Itoa(i), 100), specCmd("r"+strconv.Itoa(i), "0", strings.Repeat("n", 4000))} {
				h.do(c)
			}
		}
		if fs.Held(h.e) == 0 {
			t.Fatal("nothing held")
		}
		h.clock.Advance(fs.DefaultIdleTimeout + 1)
		h.e.Tick()
		if h.e.Active() || fs.Held(h.e) != 0 {
			t.Errorf("active %v, %d bytes held", h.e.Active(), fs.Held(h.e))
		}
		noDebris(t, h.root)
	})
}

func TestAdversarialDownloads(t *testing.T) {
	t.Run("a spec behind a link among its parents is judged where it is", func(t *testing.T) {
		p := newPolicy(func(approval.Question) approval.Choice { return approval.Deny })
		h := newDLHarness(t, p, fs.Limits{})
		p.start(t, h.home, t.TempDir())
		sshHome(t, h.home)
		must(t, os.WriteFile(filepath.Join(h.home, ".ssh", "authorized_keys"), []byte("ssh-ed25519 AAAA"), 0o600))
		must(t, os.Symlink(".ssh", filepath.Join(h.home, "photos")))
		got := h.do(receiveCmd("r", 1), specCmd("r", "0", "photos/authorized_keys"))
		p.await(t, 1)
		got = append(got, h.pull()...)
		p.mu.Lock()
		items := p.asked[0].Items
		p.mu.Unlock()
		if len(items) != 1 || !items[0].Sensitive || items[0].Target != filepath.Join(h.home, ".ssh", "authorized_keys") {
			t.Errorf("question %+v", items)
		}
		if lines := statusLines(t, got, "AAAA"); !slices.Equal(lines, []string{":" + scanner.StatusRefused}) {
			t.Errorf("replies %q", lines)
		}
	})
	t.Run("an rsync request racing a swap of its file sends nothing of the new one", func(t *testing.T) {
		h := newDLHarness(t, dlAllow, fs.Limits{})
		path, _, old := rsyncFixture(t, h.home)
		h.approveAndList("t", "f")
		sig, err := io.ReadAll(rsync.NewSignatureReader(bytes.NewReader(old), rsync.BlockSize(int64(len(old)))))
		must(t, err)
		rq := requestCmd("t", "1", path, false)
		rq.Transmit = scanner.TransmitRsync
		cmds := append([]scanner.Command{rq}, signaturePackets("t", "1", sig)...)
		for _, c := range cmds[:len(cmds)-1] {
			must(t, h.e.Handle(&c))
		}
		must(t, os.WriteFile(path+".new", []byte(secretText), 0o644))
		must(t, os.Rename(path+".new", path))
		got := h.do(cmds[len(cmds)-1])
		if lines := statusLines(t, got, secretText); !slices.Equal(lines, []string{"1:" + scanner.StatusFileChanged, ":CANCELED"}) {
			t.Errorf("replies %q", lines)
		}
	})
	t.Run("a session abandoned while its question is up gives its memory back", func(t *testing.T) {
		p := newPersonApprover(nil)
		h := newDLHarness(t, p, fs.Limits{})
		cmds := []scanner.Command{receiveCmd("r", 100)}
		for i := range 100 {
			cmds = append(cmds, specCmd("r", strconv.Itoa(i), strings.Repeat("n", 4000)))
		}
		h.do(cmds...)
		q := p.next(t)
		h.do(receiveCmd("r", 1)) // §2: a second receive destroys it
		if !q.withdrawn() || fs.Held(h.e) != 0 {
			t.Errorf("withdrawn %v, %d bytes held", q.withdrawn(), fs.Held(h.e))
		}
	})
}

func ptr[T any](v T) *T { return &v }
