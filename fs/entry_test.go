package fs

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// These tests run the file-system primitives (lookup and what an entry does) on the
// build's implementation: Linux's O_PATH one, and under the build tag xferterm_portable
// the one macOS and FreeBSD run. Each swaps the entry's name for another file between
// the lookup and the use, as a local attacker could: the use must reach the entry's own
// file (Linux: heldInode) or fail (portable: errChanged, errNotTheSame), and never read
// or change the file swapped in.

// swaps are the ways a name is given to another file: each puts victim, or a way to it,
// at path. The first swaps nothing: the use must then work.
var swaps = []struct {
	name string
	swap func(t *testing.T, path, victim string)
}{
	{"not swapped", func(*testing.T, string, string) {}},
	{"a hard link to another file renamed over it", func(t *testing.T, path, victim string) {
		mustDo(t, os.Link(victim, path+".new"))
		mustDo(t, os.Rename(path+".new", path))
	}},
	{"a symbolic link to another file renamed over it", func(t *testing.T, path, victim string) {
		mustDo(t, os.Symlink(victim, path+".new"))
		mustDo(t, os.Rename(path+".new", path))
	}},
	{"a FIFO renamed over it", func(t *testing.T, path, _ string) {
		mustDo(t, unix.Mkfifo(path+".new", 0o644))
		mustDo(t, os.Rename(path+".new", path))
	}},
	{"removed, a directory made in its place", func(t *testing.T, path, _ string) {
		mustDo(t, os.Remove(path))
		mustDo(t, os.Mkdir(path, 0o755))
	}},
}

// entryFixture is a directory holding "f" (content "listed", mode 0644, also linked as
// "keep" so that its inode stays reachable after a swap) and "victim" (content
// "secret", mode 0600).
type entryFixture struct{ dir, f, keep, victim string }

func newEntryFixture(t *testing.T) entryFixture {
	t.Helper()
	dir := t.TempDir()
	x := entryFixture{dir: dir, f: filepath.Join(dir, "f"), keep: filepath.Join(dir, "keep"), victim: filepath.Join(dir, "victim")}
	mustDo(t, os.WriteFile(x.f, []byte("listed"), 0o644))
	mustDo(t, os.Chmod(x.f, 0o644))
	mustDo(t, os.Link(x.f, x.keep))
	mustDo(t, os.WriteFile(x.victim, []byte("secret"), 0o600))
	mustDo(t, os.Chmod(x.victim, 0o600))
	return x
}

// lookupWays are the ways lookupFrom looks a name up.
var lookupWays = []struct {
	name   string
	byPath bool
}{{"by path", true}, {"in a held directory", false}}

// lookupFrom looks name up the way the engine does: by path (a download), or in a held
// directory (a mode given at the end of an upload).
func lookupFrom(t *testing.T, x entryFixture, byPath bool) *entry {
	t.Helper()
	var e *entry
	var err error
	if byPath {
		e, err = lookup(unix.AT_FDCWD, x.f)
	} else {
		dir, derr := unix.Open(x.dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		mustDo(t, derr)
		t.Cleanup(func() { closeFD(dir) })
		e, err = lookup(dir, "f")
	}
	mustDo(t, err)
	t.Cleanup(e.close)
	if modeOf(&e.st)&unix.S_IFMT != unix.S_IFREG {
		t.Fatalf("lookup: mode %o, want a regular file", modeOf(&e.st))
	}
	return e
}

// eachSwap runs use on an entry looked up each way and then swapped each way. own says
// whether the use must reach the entry's own file (nothing swapped, or a held inode) or
// fail.
func eachSwap(t *testing.T, use func(t *testing.T, x entryFixture, e *entry, own bool)) {
	for _, how := range lookupWays {
		for _, s := range swaps {
			t.Run(how.name+"/"+s.name, func(t *testing.T) {
				x := newEntryFixture(t)
				e := lookupFrom(t, x, how.byPath)
				s.swap(t, x.f, x.victim)
				use(t, x, e, s.name == "not swapped" || heldInode)
			})
		}
	}
}

func TestEntryReadSwapped(t *testing.T) {
	eachSwap(t, func(t *testing.T, x entryFixture, e *entry, own bool) {
		f, _, err := openFile(e, x.f)
		var got []byte
		if err == nil {
			got, err = io.ReadAll(f)
			_ = f.Close() // Read-only.
		}
		switch {
		case own:
			if err != nil || string(got) != "listed" {
				t.Errorf("read %q, %v; want the entry's own file, %q", got, err, "listed")
			}
		case !errors.Is(err, errChanged):
			t.Errorf("read %q, %v; want errChanged", got, err)
		}
	})
}

func TestEntryChmodSwapped(t *testing.T) {
	eachSwap(t, func(t *testing.T, x entryFixture, e *entry, own bool) {
		err := e.chmod(0o604)
		want := os.FileMode(0o644) // the entry's own file, when the change fails
		switch {
		case own:
			want = 0o604
			if err != nil {
				t.Errorf("chmod: %v", err)
			}
		case !errors.Is(err, errNotTheSame):
			t.Errorf("chmod: %v, want errNotTheSame", err)
		}
		if got := modeAt(t, x.keep); got != want {
			t.Errorf("the entry's file has mode %o, want %o", got, want)
		}
		if got := modeAt(t, x.victim); got != 0o600 {
			t.Errorf("the file swapped in has mode %o, want 600 (untouched)", got)
		}
	})
}

// TestEntryReadlinkSwapped: the text read is the entry's link's, even when the name
// now holds another link of the same length.
func TestEntryReadlinkSwapped(t *testing.T) {
	for _, s := range []struct {
		name string
		swap func(t *testing.T, path string)
	}{
		{"not swapped", func(*testing.T, string) {}},
		{"another link renamed over it", func(t *testing.T, path string) {
			mustDo(t, os.Symlink("bbbb", path+".new"))
			mustDo(t, os.Rename(path+".new", path))
		}},
		{"a regular file renamed over it", func(t *testing.T, path string) {
			mustDo(t, os.WriteFile(path+".new", []byte("bbbb"), 0o644))
			mustDo(t, os.Rename(path+".new", path))
		}},
	} {
		t.Run(s.name, func(t *testing.T) {
			l := filepath.Join(t.TempDir(), "l")
			mustDo(t, os.Symlink("aaaa", l))
			e, err := lookup(unix.AT_FDCWD, l)
			mustDo(t, err)
			defer e.close()
			if modeOf(&e.st)&unix.S_IFMT != unix.S_IFLNK {
				t.Fatalf("lookup followed the link: mode %o", modeOf(&e.st))
			}
			s.swap(t, l)
			got, err := e.readlink(int(e.st.Size))
			switch {
			case s.name == "not swapped" || heldInode:
				if err != nil || got != "aaaa" {
					t.Errorf("readlink = %q, %v; want %q", got, err, "aaaa")
				}
			case !errors.Is(err, errChanged):
				t.Errorf("readlink = %q, %v; want errChanged", got, err)
			}
		})
	}
}

// TestLookupPaths: by path, every directory on the way is followed and the last
// component is not, whatever form the path has.
func TestLookupPaths(t *testing.T) {
	root := t.TempDir()
	mustDo(t, os.MkdirAll(filepath.Join(root, "d", "sub"), 0o755))
	mustDo(t, os.WriteFile(filepath.Join(root, "d", "f"), []byte("x"), 0o644))
	mustDo(t, os.Symlink("d", filepath.Join(root, "ld")))
	mustDo(t, os.Symlink("f", filepath.Join(root, "d", "lf")))
	for _, c := range []struct {
		path string
		want uint32 // S_IFMT of what lookup finds
		is   string // the path of what it must be (os.Lstat)
	}{
		{"d/f", unix.S_IFREG, "d/f"},
		{"ld/f", unix.S_IFREG, "d/f"},     // a link on the way is followed
		{"d/lf", unix.S_IFLNK, "d/lf"},    // the last one is not
		{"ld/lf", unix.S_IFLNK, "d/lf"},   // both
		{"d/sub/", unix.S_IFDIR, "d/sub"}, // a trailing slash: a directory
		{"d/sub/.", unix.S_IFDIR, "d/sub"},
		{"d/sub/..", unix.S_IFDIR, "d"},
		{"ld/", unix.S_IFDIR, "d"}, // a trailing slash follows the link, as the kernel does
	} {
		e, err := lookup(unix.AT_FDCWD, root+"/"+c.path)
		if err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		var want unix.Stat_t
		mustDo(t, unix.Lstat(filepath.Join(root, c.is), &want))
		if modeOf(&e.st)&unix.S_IFMT != c.want || keyOf(&e.st) != keyOf(&want) {
			t.Errorf("%s: found mode %o %v, want mode %o and the inode of %s", c.path, modeOf(&e.st), keyOf(&e.st), c.want, c.is)
		}
		e.close()
	}
	if _, err := lookup(unix.AT_FDCWD, filepath.Join(root, "d", "f", "x")); !errors.Is(err, unix.ENOTDIR) {
		t.Errorf("a file as a directory: %v, want ENOTDIR", err)
	}
}

func modeAt(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Lstat(path)
	mustDo(t, err)
	return st.Mode().Perm()
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
