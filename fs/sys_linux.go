//go:build linux && !xferterm_portable

package fs

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// The engine's file-system primitives on Linux: O_PATH descriptors. An O_PATH descriptor
// names a file without opening it: it needs search permission on the way and none on
// the file itself, never opens a device or waits on a FIFO, and serves as the directory
// of the *at calls, for fstat, for readlinkat with an empty name (a link opened
// O_NOFOLLOW), and to reopen or change that very inode through /proc/self/fd.
// sys_portable.go is the twin for the other systems, and for Linux with the build tag
// xferterm_portable, which tests it there.

// openDirectory opens the directory name in dir (or the path name, with unix.AT_FDCWD)
// for the walks: as the directory of *at calls and for fstat, never to read it. A final
// symbolic link is followed only with follow. Only search permission is needed.
func openDirectory(dir int, name string, follow bool) (int, error) {
	flags := unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	return unix.Openat(dir, name, flags, 0)
}

// entry is a file reached without following a final symbolic link, held so that what is
// done to it afterwards is done to that very file, as it was when reached (st). Here it
// is an O_PATH descriptor of the file itself.
type entry struct {
	fd int
	st unix.Stat_t
}

// lookup reaches name in dir (or the path name, with unix.AT_FDCWD; its directories
// are followed) without following a final link, and fstats it. The caller closes it.
func lookup(dir int, name string) (*entry, error) {
	fd, err := unix.Openat(dir, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	e := &entry{fd: fd}
	if err := unix.Fstat(fd, &e.st); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// alias names the entry's own inode through /proc, whatever has become of its name.
func (e *entry) alias() string { return "/proc/self/fd/" + strconv.Itoa(e.fd) }

// readlink returns the text of the entry, a symbolic link: at most size bytes, or
// errChanged.
func (e *entry) readlink(size int) (string, error) {
	buf := make([]byte, size+1)
	n, err := unix.Readlinkat(e.fd, "", buf)
	if err != nil {
		return "", err
	}
	if n > size {
		return "", errChanged // it grew since the fstat
	}
	return string(buf[:n]), nil
}

// openRead opens the entry, a regular file, for reading (never blocking, never as a
// controlling terminal). Here it is the entry's own inode; the caller checks it anyway
// (openFile), as it must on the other systems.
func (e *entry) openRead() (int, error) {
	return unix.Open(e.alias(), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
}

// chmod gives the entry, a regular file or a directory, the permission bits mode. It
// changes the entry's own inode, or fails with errNotTheSame.
func (e *entry) chmod(mode uint32) error {
	return unix.Fchmodat(unix.AT_FDCWD, e.alias(), mode, 0)
}

func (e *entry) close() { closeFD(e.fd) }
