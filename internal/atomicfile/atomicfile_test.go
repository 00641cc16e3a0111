package atomicfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/internal/atomicfile"
)

func openDir(t *testing.T, p string) int {
	t.Helper()
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// TestCommit: the file appears whole, with its mode and mtime, only at Commit; it is
// synced before the rename when it replaces a file, and only then (the one durability
// rule).
func TestCommit(t *testing.T) {
	for _, replace := range []bool{false, true} {
		dir := t.TempDir()
		dest := filepath.Join(dir, "f")
		if replace {
			if err := os.WriteFile(dest, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		f, err := atomicfile.Create(openDir(t, dir), "f")
		if err != nil {
			t.Fatal(err)
		}
		synced := 0
		f.Sync = func(f *os.File) error {
			synced++
			return f.Sync()
		}
		if _, err := f.Write([]byte("new content")); err != nil {
			t.Fatal(err)
		}
		before := names(t, dir)
		if len(before) != 1+btoi(replace) || !strings.Contains(strings.Join(before, " "), atomicfile.Marker) {
			t.Errorf("before Commit the directory holds %v", before)
		}
		if b, err := os.ReadFile(dest); replace && string(b) != "old" || !replace && err == nil {
			t.Errorf("the destination changed before Commit: %q, %v", b, err)
		}
		mtime := time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC).UnixNano()
		if err := f.Commit(0o640, mtime, true); err != nil {
			t.Fatal(err)
		}
		f.Discard() // After Commit: nothing.
		if got := names(t, dir); !slices.Equal(got, []string{"f"}) {
			t.Errorf("after Commit the directory holds %v", got)
		}
		st, err := os.Stat(dest)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(dest)
		if string(b) != "new content" || st.Mode().Perm() != 0o640 || st.ModTime().UnixNano() != mtime {
			t.Errorf("replace %v: %q, mode %v, mtime %v", replace, b, st.Mode(), st.ModTime())
		}
		if synced != btoi(replace) {
			t.Errorf("replace %v: synced %d times", replace, synced)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestFailures: a failed sync, or Discard, leaves the old file and no debris.
func TestFailures(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "f")
	if err := os.WriteFile(dest, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := atomicfile.Create(openDir(t, dir), "f")
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk on fire")
	f.Sync = func(*os.File) error { return boom }
	_, _ = f.Write([]byte("new"))
	if err := f.Commit(0o644, 0, false); !errors.Is(err, boom) {
		t.Fatalf("Commit: %v", err)
	}
	g, err := atomicfile.Create(openDir(t, dir), "f")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = g.Write([]byte("half"))
	g.Discard()
	g.Discard()
	if got := names(t, dir); !slices.Equal(got, []string{"f"}) {
		t.Errorf("the directory holds %v", got)
	}
	if b, _ := os.ReadFile(dest); string(b) != "old" {
		t.Errorf("the destination holds %q", b)
	}
	// A directory that is not open fails at once.
	if _, err := atomicfile.Create(-1, "f"); err == nil {
		t.Error("Create in a bad directory succeeded")
	}
}

// TestReplace puts a link in place through a temporary name, and leaves no debris when
// its preparation fails.
func TestReplace(t *testing.T) {
	dir := t.TempDir()
	fd := openDir(t, dir)
	defer unix.Close(fd)
	if err := os.WriteFile(filepath.Join(dir, "l"), []byte("a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2021, 5, 6, 7, 8, 9, 0, time.UTC).UnixNano()
	err := atomicfile.Replace(fd, "l", func(name string) error { return unix.Symlinkat("target", fd, name) },
		func(name string) error { return atomicfile.SetMtime(fd, name, mtime) })
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.Readlink(filepath.Join(dir, "l")); err != nil || got != "target" {
		t.Fatalf("l is %q, %v", got, err)
	}
	if st, err := os.Lstat(filepath.Join(dir, "l")); err != nil || st.ModTime().UnixNano() != mtime {
		t.Errorf("the link's mtime: %v, %v", st.ModTime(), err)
	}
	boom := errors.New("no")
	err = atomicfile.Replace(fd, "l", func(name string) error { return unix.Symlinkat("other", fd, name) },
		func(string) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Replace: %v", err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"l"}) {
		t.Errorf("the directory holds %v", got)
	}
	if got, _ := os.Readlink(filepath.Join(dir, "l")); got != "target" {
		t.Errorf("l is %q after a failed replace", got)
	}
}

func TestTempName(t *testing.T) {
	long := strings.Repeat("n", 300)
	for _, base := range []string{"a.txt", long} {
		name := atomicfile.TempName(base)
		if !strings.HasPrefix(name, ".") || !strings.Contains(name, atomicfile.Marker) || len(name) > 255 {
			t.Errorf("TempName(%d bytes) = %q", len(base), name)
		}
	}
	if a, b := atomicfile.TempName("x"), atomicfile.TempName("x"); a == b {
		t.Error("two temporary names are the same")
	}
}
