package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// writeFile writes data to path with mode perm (exactly: the umask does not apply).
func writeFile(tb testing.TB, path string, data []byte, perm os.FileMode) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, perm); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		tb.Fatal(err)
	}
}

// randomBytes returns n bytes of a deterministic pseudo-random stream named by seed.
func randomBytes(seed uint64, n int) []byte {
	rng := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24)})
	b := make([]byte, n)
	_, _ = rng.Read(b) // ChaCha8.Read never fails.
	return b
}

// textWords is the vocabulary of textBytes: terminal-like text that compresses like real text.
var textWords = strings.Fields(`the a file transfer terminal remote local session approve deny
	send receive data block delta signature checksum xferterm kitty proxy escape code OSC pty tmux
	ssh host home directory link symlink mode mtime byte bytes error ok started progress 0 1 42 1024`)

// textBytes returns about n bytes of deterministic lines of words (exactly n).
func textBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	b.Grow(n + 128)
	for b.Len() < n {
		words := 4 + rng.IntN(12)
		for i := 0; i < words; i++ {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(textWords[rng.IntN(len(textWords))])
		}
		b.WriteByte('\n')
	}
	return b.Bytes()[:n]
}

// writeLargeFile writes size bytes from gen (called with chunk indices) to path without holding
// the whole file in memory.
func writeLargeFile(tb testing.TB, path string, size int64, gen func(chunk uint64, n int) []byte) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	const chunk = 4 << 20
	for i, left := uint64(0), size; left > 0; i++ {
		n := int(min(left, chunk))
		if _, err := w.Write(gen(i, n)); err != nil {
			tb.Fatal(err)
		}
		left -= int64(n)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// setMtime sets the modification (and access) time of path without following a symlink.
func setMtime(tb testing.TB, path string, t time.Time) {
	tb.Helper()
	ts := []unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		tb.Fatalf("lutimes %s: %v", path, err)
	}
}

// fixedTime is a modification time with nanoseconds, far from now, for the files the tests send.
var fixedTime = time.Date(2021, 3, 4, 5, 6, 7, 123456789, time.UTC)

// fileSum is the SHA-256 of a file's content.
func fileSum(tb testing.TB, path string) [32]byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = f.Close() }() // Read only.
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		tb.Fatal(err)
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

// checkSameFile checks that got is a regular file with want's bytes, permission bits and mtime.
func checkSameFile(tb testing.TB, want, got string) {
	tb.Helper()
	wi, err := os.Lstat(want)
	if err != nil {
		tb.Fatal(err)
	}
	gi, err := os.Lstat(got)
	if err != nil {
		tb.Fatalf("e2e: %s was not transferred: %v", got, err)
	}
	if !gi.Mode().IsRegular() {
		tb.Fatalf("e2e: %s is a %v, want a regular file", got, gi.Mode().Type())
	}
	if gi.Size() != wi.Size() {
		tb.Errorf("e2e: %s has %d bytes, want %d", got, gi.Size(), wi.Size())
	} else if fileSum(tb, got) != fileSum(tb, want) {
		tb.Errorf("e2e: %s differs from %s", got, want)
	}
	if gi.Mode().Perm() != wi.Mode().Perm() {
		tb.Errorf("e2e: %s has mode %v, want %v", got, gi.Mode().Perm(), wi.Mode().Perm())
	}
	if !gi.ModTime().Equal(wi.ModTime()) {
		tb.Errorf("e2e: %s has mtime %v, want %v", got, gi.ModTime().UTC(), wi.ModTime().UTC())
	}
}

// treeEntry describes one entry of a directory tree for comparisons.
type treeEntry struct {
	Type   string // "dir", "file", "symlink"
	Perm   os.FileMode
	Size   int64
	Sum    [32]byte // file content
	Target string   // symlink target
	Mtime  time.Time
	Inode  uint64 // for hard-link groups
}

// readTree lists root recursively (links not followed), keyed by slash paths relative to root.
func readTree(tb testing.TB, root string) map[string]treeEntry {
	tb.Helper()
	tree := map[string]treeEntry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p) // p is below root.
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := treeEntry{Perm: fi.Mode().Perm(), Mtime: fi.ModTime()}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			e.Inode = st.Ino
		}
		switch {
		case fi.IsDir():
			e.Type = "dir"
		case fi.Mode()&os.ModeSymlink != 0:
			e.Type = "symlink"
			e.Perm = 0 // Symlink permissions mean nothing on Linux.
			if e.Target, err = os.Readlink(p); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			e.Type, e.Size, e.Sum = "file", fi.Size(), fileSum(tb, p)
		default:
			e.Type = fi.Mode().Type().String()
		}
		tree[filepath.ToSlash(rel)] = e
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return tree
}

// treeCheck says how strictly checkSameTree compares.
type treeCheck uint8

const (
	// dirMtimes compares the mtimes of directories too.
	dirMtimes treeCheck = 1 << iota
	// linkPeers lets a symlink name another hard link of the file its original names (in
	// the original tree): a client that sends a symlink's target as a file id of the
	// transfer names the file, not one of its names.
	linkPeers
)

// checkSameTree compares two trees: the same entries with the same types, contents, permission
// bits, symlink targets and mtimes (files and symlinks; directories only with dirMtimes), and
// the same hard-link groups.
func checkSameTree(tb testing.TB, wantRoot, gotRoot string, how treeCheck) {
	tb.Helper()
	want, got := readTree(tb, wantRoot), readTree(tb, gotRoot)
	var names []string
	for name := range want {
		names = append(names, name)
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			tb.Errorf("e2e: %s: unexpected entry %s (%s)", gotRoot, name, got[name].Type)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		w, g := want[name], got[name]
		if g.Type == "" {
			tb.Errorf("e2e: %s: missing %s (%s)", gotRoot, name, w.Type)
			continue
		}
		sameTarget := w.Target == g.Target ||
			how&linkPeers != 0 && samePeer(filepath.Join(wantRoot, filepath.Dir(name)), w.Target, g.Target)
		if w.Type != g.Type || w.Size != g.Size || w.Sum != g.Sum || !sameTarget {
			tb.Errorf("e2e: %s: %s differs:\n\twant %s size %d target %q\n\tgot  %s size %d target %q",
				gotRoot, name, w.Type, w.Size, w.Target, g.Type, g.Size, g.Target)
		}
		if w.Perm != g.Perm && name != "." {
			tb.Errorf("e2e: %s: %s has mode %v, want %v", gotRoot, name, g.Perm, w.Perm)
		}
		if (w.Type != "dir" || how&dirMtimes != 0) && w.Type != "symlink" && !w.Mtime.Equal(g.Mtime) {
			tb.Errorf("e2e: %s: %s has mtime %v, want %v", gotRoot, name, g.Mtime.UTC(), w.Mtime.UTC())
		}
	}
	// Hard links: entries sharing an inode on one side share one on the other.
	for _, a := range names {
		for _, b := range names {
			if a < b && want[a].Type == "file" && want[b].Type == "file" && got[a].Type == "file" && got[b].Type == "file" {
				ws, gs := want[a].Inode == want[b].Inode, got[a].Inode == got[b].Inode
				if ws != gs {
					tb.Errorf("e2e: %s: %s and %s: hard-linked %v, want %v", gotRoot, a, b, gs, ws)
				}
			}
		}
	}
}

// samePeer reports whether the relative symlink targets a and b, seen from dir, name two hard
// links of one regular file.
func samePeer(dir, a, b string) bool {
	if filepath.IsAbs(a) || filepath.IsAbs(b) {
		return false
	}
	ai, err1 := os.Lstat(filepath.Join(dir, a))
	bi, err2 := os.Lstat(filepath.Join(dir, b))
	return err1 == nil && err2 == nil && ai.Mode().IsRegular() && os.SameFile(ai, bi)
}

// listDir returns the names in dir, sorted; a missing dir is empty.
func listDir(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
