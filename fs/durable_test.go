package fs_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
)

// syncLog records the paths whose replacement was flushed to disk, and fails them with
// err if it is set.
type syncLog struct {
	paths []string
	err   error
}

func (l *syncLog) fsync(path string) error {
	l.paths = append(l.paths, path)
	return l.err
}

// TestUploadSyncsBeforeReplacing: a file that replaces another is flushed to disk before
// the rename (so that a crash leaves the old file or the whole new one); a file with a
// new name is not (a crash may lose it, but no data the user had). If the flush fails,
// the file fails and the old one stays.
func TestUploadSyncsBeforeReplacing(t *testing.T) {
	h := newUpHarness(t)
	var log syncLog
	fs.SetSyncHook(h.e, log.fsync)
	old := filepath.Join(h.home, "old")
	must(t, os.WriteFile(old, []byte("previous"), 0o644))
	h.start("s")
	h.do(fileCmd("s", "1", "new"))
	h.do(endCmd("s", "1", []byte("fresh")))
	h.do(fileCmd("s", "2", "old"))
	h.do(endCmd("s", "2", []byte("replacement")))
	if want := []string{old}; !slices.Equal(log.paths, want) {
		t.Errorf("flushed %q, want %q", log.paths, want)
	}
	if readFile(t, filepath.Join(h.home, "new")) != "fresh" || readFile(t, old) != "replacement" {
		t.Errorf("home: %v", tree(t, h.home))
	}

	log.err = unix.EIO
	h.do(fileCmd("s", "3", "old"))
	got := h.do(endCmd("s", "3", []byte("lost")))
	if n := len(got); n == 0 || got[n-1].Status != "EIO:Failed to write file" {
		t.Errorf("replies:\n%s\nwant the file failed with EIO", h.show(got))
	}
	if readFile(t, old) != "replacement" || !slices.Equal(tree(t, h.home), []string{"new", "old"}) {
		t.Errorf("after a failed flush: %v, old holds %q", tree(t, h.home), readFile(t, old))
	}
}

// TestUploadRsyncSyncsBeforeReplacing: a file patched with a delta replaces its old
// version, so it is flushed too.
func TestUploadRsyncSyncsBeforeReplacing(t *testing.T) {
	h := newUpHarness(t)
	var log syncLog
	fs.SetSyncHook(h.e, log.fsync)
	p := filepath.Join(h.home, "r.bin")
	old := testdata.RandomBytes(3, 100_000)
	must(t, os.WriteFile(p, old, 0o644))
	h.start("s")
	sig := rsyncStart(t, h, "1", "r.bin", false, len(old))
	next := append(slices.Clone(old[:50_000]), testdata.RandomBytes(4, 60_000)...)
	got := sendPackets(h, "1", deltaOf(t, sig, next))
	if n := len(got); n == 0 || got[n-1].Status != scanner.StatusOK {
		t.Fatalf("replies:\n%s", h.show(got))
	}
	if !slices.Equal(log.paths, []string{p}) {
		t.Errorf("flushed %q, want %q", log.paths, p)
	}
	if readFile(t, p) != string(next) {
		t.Error("patched file differs")
	}
}
