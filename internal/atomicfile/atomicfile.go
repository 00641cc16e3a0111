// Package atomicfile replaces a file only with a complete copy. Data goes to a temporary
// file beside the destination, created exclusively and without following a link, and is
// renamed over the destination only when complete; links are made at a temporary name
// and renamed the same way. So a reader, or a crash, sees the old file or the whole new
// one, and a failure leaves no debris. Both ends of a transfer write this way: the
// engine (fs) for what a remote sends, the client for what the terminal sends.
//
// # Durability
//
// One rule: when something is already at the destination, the new file's data is flushed
// to the disk (fsync) before the rename, because a file system may persist a rename
// before the data of the file it names, and a crash would then leave an empty or partial
// file where the old one was. A new name costs no fsync: a crash can lose the new file,
// but no data the user had.
//
// Everything is done relative to a directory descriptor the caller opened (openat,
// renameat, utimensat), so a path is never resolved twice.
package atomicfile

import (
	"bufio"
	"math/rand/v2"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Marker is part of every temporary name, so leftovers (there should be none) are easy
// to recognise: ".<name>.xferterm-XXXXXX".
const Marker = ".xferterm-"

// maxTempBase is how much of the destination name goes into a temporary name, so that
// the temporary name stays within NAME_MAX.
const maxTempBase = 200

// bufSize is the write buffer of a File: the 4 KiB packets of a transfer would be one
// syscall each without it.
const bufSize = 64 << 10

// TempName returns a fresh hidden name for a temporary beside base.
func TempName(base string) string {
	if len(base) > maxTempBase {
		base = base[:maxTempBase]
	}
	const digits = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b strings.Builder
	b.WriteString(".")
	b.WriteString(base)
	b.WriteString(Marker)
	for range 6 {
		b.WriteByte(digits[rand.IntN(len(digits))])
	}
	return b.String()
}

// withTempName calls create with fresh temporary names until it does not fail with
// EEXIST, and returns the name it succeeded with.
func withTempName(base string, create func(name string) error) (string, error) {
	var err error
	for range 100 {
		name := TempName(base)
		if err = create(name); err != unix.EEXIST {
			return name, err
		}
	}
	return "", err
}

// File is a regular file being written beside its destination, base in the directory
// dir. Until Commit it is hidden and mode 0600. It is used by one goroutine at a time.
type File struct {
	dir  int
	base string
	name string // the temporary name in dir; "" once renamed or removed
	f    *os.File
	w    *bufio.Writer

	// Sync flushes the file's data to the disk before it replaces another; nil means
	// f.Sync. A test sets it to inject a failure.
	Sync func(f *os.File) error
}

// Create creates a temporary file for base in dir (O_EXCL, O_NOFOLLOW). On success the
// File owns dir: Commit and Discard close it.
func Create(dir int, base string) (*File, error) {
	var fd int
	name, err := withTempName(base, func(name string) error {
		var err error
		fd, err = unix.Openat(dir, name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		return err
	})
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), name)
	return &File{dir: dir, base: base, name: name, f: f, w: bufio.NewWriterSize(f, bufSize)}, nil
}

// Write writes to the file, through its buffer.
func (t *File) Write(p []byte) (int, error) { return t.w.Write(p) }

// Fd returns the file's descriptor (for fstatfs).
func (t *File) Fd() int { return int(t.f.Fd()) }

// Commit flushes the file, syncs it if it replaces something (see Durability), gives it
// mode and, with hasMtime, the modification time mtime (ns since the epoch), and renames
// it over the destination. On error the temporary file is removed. Either way dir is
// closed.
func (t *File) Commit(mode uint32, mtime int64, hasMtime bool) error {
	err := t.w.Flush()
	if err == nil && t.replaces() {
		if t.Sync != nil {
			err = t.Sync(t.f)
		} else {
			err = t.f.Sync()
		}
	}
	if err == nil {
		err = t.f.Chmod(os.FileMode(mode))
	}
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	t.f = nil
	if err == nil && hasMtime {
		err = SetMtime(t.dir, t.name, mtime)
	}
	if err == nil {
		err = unix.Renameat(t.dir, t.name, t.dir, t.base)
	}
	if err != nil {
		t.Discard()
		return err
	}
	t.name = ""
	t.closeDir()
	return nil
}

// replaces reports whether the destination exists (as anything: a symlink or a
// directory there fails the rename anyway).
func (t *File) replaces() bool {
	var st unix.Stat_t
	return unix.Fstatat(t.dir, t.base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil
}

// Discard closes and removes the temporary file, and closes dir. It may be called more
// than once, and after Commit.
func (t *File) Discard() {
	if t.f != nil {
		_ = t.f.Close() // Best effort: the file is being thrown away.
		t.f = nil
	}
	if t.name != "" {
		_ = unix.Unlinkat(t.dir, t.name, 0) // Best effort: nothing else can be done.
		t.name = ""
	}
	t.closeDir()
}

func (t *File) closeDir() {
	if t.dir >= 0 {
		_ = unix.Close(t.dir) // Best effort: a read-only descriptor.
		t.dir = -1
	}
}

// Replace puts a new entry at base in dir: create makes it at a temporary name (a
// symbolic or hard link), prepare (if not nil) gives it its metadata there, and it is
// renamed over base. On failure the temporary entry is removed. dir stays the caller's.
func Replace(dir int, base string, create, prepare func(name string) error) error {
	name, err := withTempName(base, create)
	if err != nil {
		return err
	}
	if prepare != nil {
		err = prepare(name)
	}
	if err == nil {
		err = unix.Renameat(dir, name, dir, base)
	}
	if err != nil {
		_ = unix.Unlinkat(dir, name, 0) // Best effort: leave no debris.
	}
	return err
}

// SetMtime sets the access and modification times of name in dir to mtime (ns since the
// epoch), without following a symbolic link.
func SetMtime(dir int, name string, mtime int64) error {
	ts := unix.NsecToTimespec(mtime)
	return unix.UtimesNanoAt(dir, name, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
}
