package fs

import (
	"io"
	"os"

	"github.com/xferterm/xferterm/internal/atomicfile"
)

// target is a destination reached safely: the descriptor of its parent directory and
// its name there. createTemp hands dir to the temporary file, which closes it.
type target struct {
	dir  int
	base string
	path string // absolute, for errors and events
}

// tempFile is a regular file written beside its destination and renamed over it only
// when complete (DESIGN.md: a file is never written in place; atomicfile says how, and
// when it is synced). Its errors name the destination.
type tempFile struct {
	*atomicfile.File
	path string // the destination, absolute
}

// createTemp creates a temporary file beside t. On success the tempFile owns t's
// directory. hooks may be nil.
func createTemp(t target, hooks *uploadHooks) (*tempFile, error) {
	f, err := atomicfile.Create(t.dir, t.base)
	if err != nil {
		return nil, &opError{Op: opWrite, Path: t.path, Err: err}
	}
	f.Sync = func(f *os.File) error { return hooks.sync(f, t.path) }
	return &tempFile{File: f, path: t.path}, nil
}

// commit gives the file its mode and mtime and renames it over the destination; on
// error the temporary file is removed.
func (tf *tempFile) commit(mode uint32, mtime int64, hasMtime bool) error {
	if err := tf.Commit(mode, mtime, hasMtime); err != nil {
		return &opError{Op: opWrite, Path: tf.path, Err: err}
	}
	return nil
}

// discard removes the temporary file. It may be called more than once.
func (tf *tempFile) discard() { tf.Discard() }

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
	return freeBytes(fd)
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
