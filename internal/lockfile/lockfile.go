// Package lockfile opens a small private file that several xferterm processes share,
// and locks it against the others with flock(2). Two files are shared that way: the
// bypass's record of used session ids (package bypass) and the audit log (package
// approval), both kept in the user's own directories.
//
// A shared file is opened by name every time it matters, so what Open refuses is what
// could be planted at that name: a symbolic link (the last element is never followed,
// so a link to ~/.bashrc cannot make xferterm write there), a FIFO (the open does not
// block), a directory or a device. A file that group or others may read or write is
// made private. A lock is waited for a bounded time only: a process that keeps it
// cannot stall the one that waits.
//
// flock and O_NOFOLLOW are the same on Linux, macOS and FreeBSD, but for the error of
// an open that meets a link: ELOOP, or EMLINK on FreeBSD.
package lockfile

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNotRegular is returned by Open for anything at the path but a regular file.
var ErrNotRegular = errors.New("lockfile: not a regular file")

// ErrBusy is returned by Lock when another process kept the lock for the whole wait.
var ErrBusy = errors.New("lockfile: locked by another process")

// Open opens path with flag (os.O_RDWR, os.O_APPEND|os.O_WRONLY, … with or without
// os.O_CREATE), creating the file with mode perm. It never follows a symbolic link in
// the last element of path, never blocks on a FIFO, and refuses anything but a regular
// file (ErrNotRegular). A file whose mode gives group or others more than perm does is
// changed to perm.
func Open(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, perm)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EMLINK) { // EMLINK: FreeBSD's answer
			return nil, fmt.Errorf("lockfile: %s is a symbolic link: %w", path, ErrNotRegular)
		}
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("lockfile: %s: %w", path, ErrNotRegular)
	}
	if err == nil && st.Mode().Perm()&^perm&0o077 != 0 {
		err = f.Chmod(perm)
	}
	if err != nil {
		_ = f.Close() // The error above is the one to report.
		return nil, err
	}
	return f, nil
}

// Lock takes an exclusive lock on f, shared with every process that locks the same
// file, waiting at most wait for another process to release it (ErrBusy). Locks are
// per open file: two Opens of one path in one process exclude each other too.
func Lock(f *os.File, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	pause := 100 * time.Microsecond
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case !errors.Is(err, unix.EWOULDBLOCK):
			return fmt.Errorf("lockfile: lock %s: %w", f.Name(), err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("lockfile: lock %s: %w", f.Name(), ErrBusy)
		}
		// flock has no timeout: poll, backing off, for a lock that is normally held
		// for well under a millisecond.
		time.Sleep(min(pause, left))
		pause = min(2*pause, 20*time.Millisecond)
	}
}

// Unlock releases the lock Lock took. Closing f releases it too.
func Unlock(f *os.File) error {
	if err := unix.Flock(int(f.Fd()), unix.LOCK_UN); err != nil {
		return fmt.Errorf("lockfile: unlock %s: %w", f.Name(), err)
	}
	return nil
}

// Same reports whether path still names the file f is open on: false once it has been
// renamed away, removed or replaced (by another process rotating it, say).
func Same(f *os.File, path string) bool {
	fst, err := f.Stat()
	if err != nil {
		return false
	}
	pst, err := os.Lstat(path)
	return err == nil && os.SameFile(fst, pst)
}
