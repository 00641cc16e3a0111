package lockfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/xferterm/xferterm/internal/lockfile"
)

func TestOpenRefusesWhatCouldBePlanted(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "nothing-here"), dangling); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, path string }{
		{"a symbolic link to a file", link},
		{"a dangling symbolic link (O_CREATE must not create its target)", dangling},
		{"a FIFO (and the open does not block)", fifo},
		{"a directory", sub},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, flag := range []int{os.O_RDWR | os.O_CREATE, os.O_WRONLY | os.O_APPEND | os.O_CREATE} {
				f, err := lockfile.Open(tt.path, flag, 0o600)
				if err == nil {
					_ = f.Close()
					t.Fatalf("Open(%#x) succeeded", flag)
				}
			}
		})
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep me\n" {
		t.Errorf("the link's target changed: %q", data)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nothing-here")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dangling link's target was created: %v", err)
	}
}

func TestOpenMakesTheFilePrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o666); err != nil { // past the umask
		t.Fatal(err)
	}
	f, err := lockfile.Open(path, os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %04o, want 0600", st.Mode().Perm())
	}
}

func TestLockExcludesAnotherOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	a, err := lockfile.Open(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close() }()
	b, err := lockfile.Open(path, os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Close() }()
	if err := lockfile.Lock(a, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := lockfile.Lock(b, 0); !errors.Is(err, lockfile.ErrBusy) {
		t.Fatalf("second lock: %v, want ErrBusy", err)
	}
	if err := lockfile.Unlock(a); err != nil {
		t.Fatal(err)
	}
	if err := lockfile.Lock(b, 0); err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	// Closing releases the lock as well.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := lockfile.Lock(a, 0); err != nil {
		t.Fatalf("lock after the holder closed: %v", err)
	}
}

func TestSame(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	f, err := lockfile.Open(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if !lockfile.Same(f, path) {
		t.Fatal("Same is false for the file just opened")
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if lockfile.Same(f, path) {
		t.Fatal("Same is true after the file was renamed away")
	}
	if err := os.Symlink(path+".1", path); err != nil {
		t.Fatal(err)
	}
	if lockfile.Same(f, path) {
		t.Fatal("Same is true for a symbolic link to the file")
	}
}
