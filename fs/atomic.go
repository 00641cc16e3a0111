package fs

import (
	"bufio"
	"io"
	"math/rand/v2"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// tempMarker is part of every temporary name, so leftovers (there should be none) are
// easy to recognise: ".<name>.xferterm-XXXXXX".
const tempMarker = ".xferterm-"

// maxTempBase is how much of the destination name goes into a temporary name, so that
// the temporary name stays within NAME_MAX.
const maxTempBase = 200

// tempName returns a fresh hidden name for a temporary beside base.
func tempName(base string) string {
	if len(base) > maxTempBase {
		base = base[:maxTempBase]
	}
	const digits = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b strings.Builder
	b.WriteString(".")
	b.WriteString(base)
	b.WriteString(tempMarker)
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
		name := tempName(base)
		if err = create(name); err != unix.EEXIST {
			return name, err
		}
	}
	return "", err
}

// target is a destination reached safely: the descriptor of its parent directory and
// its name there. The upload owns dir and closes it in release.
type target struct {
	dir  int
	base string
	path string // absolute, for errors and events
}

func (t *target) release() {
	if t.dir >= 0 {
		_ = unix.Close(t.dir) // Best effort: read-only descriptor.
		t.dir = -1
	}
}

// tempFile is a regular file written beside its destination and renamed over it only
// when complete (DESIGN.md: a file is never written in place). Until then it is 0600
// and hidden.
type tempFile struct {
	t     target
	name  string // temporary name in t.dir; "" once renamed or removed
	f     *os.File
	w     *bufio.Writer // over f: the client's 4 KiB packets would be one syscall each
	hooks *uploadHooks  // may be nil
}

// tempBuf is the write buffer of a temporary file.
const tempBuf = 64 << 10

// createTemp creates a temporary file beside t, O_EXCL and O_NOFOLLOW in its directory.
// On success the tempFile owns t. hooks may be nil.
func createTemp(t target, hooks *uploadHooks) (*tempFile, error) {
	var fd int
	name, err := withTempName(t.base, func(name string) error {
		var err error
		fd, err = unix.Openat(t.dir, name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		return err
	})
	if err != nil {
		return nil, &opError{Op: opWrite, Path: t.path, Err: err}
	}
	f := os.NewFile(uintptr(fd), t.path)
	return &tempFile{t: t, name: name, f: f, w: bufio.NewWriterSize(f, tempBuf), hooks: hooks}, nil
}

// commit closes the file, gives it its final mode and mtime and renames it over the
// destination. On error the temporary is removed.
//
// When something is already at the destination, the file's data is flushed to the disk
// (fsync) before the rename: a file system may persist a rename before the data of the
// file it names, and a crash would then leave an empty or partial file where the old
// one was. So after a crash the destination holds the old file or the whole new one. A
// new name costs no fsync: a crash can lose the new file, but no data the user had.
func (tf *tempFile) commit(mode uint32, mtime int64, hasMtime bool) error {
	err := tf.w.Flush()
	if err == nil && tf.replaces() {
		err = tf.hooks.sync(tf.f, tf.t.path)
	}
	if err == nil {
		err = tf.f.Chmod(os.FileMode(mode))
	}
	if cerr := tf.f.Close(); err == nil {
		err = cerr
	}
	tf.f = nil
	if err == nil && hasMtime {
		err = setMtime(tf.t.dir, tf.name, mtime)
	}
	if err == nil {
		err = unix.Renameat(tf.t.dir, tf.name, tf.t.dir, tf.t.base)
	}
	if err != nil {
		tf.discard()
		return &opError{Op: opWrite, Path: tf.t.path, Err: err}
	}
	tf.name = ""
	tf.t.release()
	return nil
}

// replaces reports whether the destination exists (as anything: a symlink or a
// directory there fails the rename anyway).
func (tf *tempFile) replaces() bool {
	var st unix.Stat_t
	return unix.Fstatat(tf.t.dir, tf.t.base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil
}

// discard closes and removes the temporary file. It may be called more than once.
func (tf *tempFile) discard() {
	if tf.f != nil {
		_ = tf.f.Close() // Best effort: the file is being thrown away.
		tf.f = nil
	}
	if tf.name != "" {
		_ = unix.Unlinkat(tf.t.dir, tf.name, 0) // Best effort: nothing else can be done.
		tf.name = ""
	}
	tf.t.release()
}

// limitedWriter is where the decoded bytes of one file go. It enforces MaxFileSize (a
// zlib bomb stops there) and keeps DiskReserve free on the destination file system.
// It is used by one goroutine at a time.
type limitedWriter struct {
	w       io.Writer
	fd      int // for statfs; -1 when w is not on disk
	written int64
	max     int64
	reserve int64
	budget  int64 // bytes that may still be written before the next statfs
	hooks   *uploadHooks
	path    string
}

// budgetStep caps how much is written between two free-space checks.
const budgetStep = 16 << 20

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.max-l.written {
		return 0, errFileTooLarge
	}
	if l.fd >= 0 && int64(len(p)) > l.budget {
		free, err := l.hooks.freeSpace(l.fd)
		if err != nil {
			return 0, &opError{Op: opWrite, Path: l.path, Err: err}
		}
		l.budget = min(free-l.reserve, budgetStep)
		if int64(len(p)) > l.budget {
			return 0, errDiskReserve
		}
	}
	if err := l.hooks.beforeWrite(l.path, l.written); err != nil {
		return 0, &opError{Op: opWrite, Path: l.path, Err: err}
	}
	n, err := l.w.Write(p)
	l.written += int64(n)
	l.budget -= int64(n)
	if err != nil {
		return n, &opError{Op: opWrite, Path: l.path, Err: err}
	}
	return n, nil
}

// uploadHooks lets tests inject file-system faults. The zero value (and nil) is the real
// file system.
type uploadHooks struct {
	// statfs returns the free bytes of the file system of fd.
	statfs func(fd int) (int64, error)
	// write is called before each write to a destination with the bytes written so far.
	write func(path string, written int64) error
	// fsync replaces the fsync of a file that is about to replace another at path.
	fsync func(path string) error
}

func (h *uploadHooks) freeSpace(fd int) (int64, error) {
	if h != nil && h.statfs != nil {
		return h.statfs(fd)
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

func (h *uploadHooks) sync(f *os.File, path string) error {
	if h != nil && h.fsync != nil {
		return h.fsync(path)
	}
	return f.Sync()
}

func (h *uploadHooks) beforeWrite(path string, written int64) error {
	if h != nil && h.write != nil {
		return h.write(path, written)
	}
	return nil
}
