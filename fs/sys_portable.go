//go:build !linux || xferterm_portable

package fs

import (
	"strings"

	"golang.org/x/sys/unix"
)

// The engine's file-system primitives on macOS, FreeBSD and the other systems without
// Linux's O_PATH (sys_linux.go), and on Linux with the build tag xferterm_portable, so
// that the tests run them there. They keep the same guarantees with plain descriptors:
//
//   - A walk to an upload's destination holds each directory open (O_RDONLY|O_DIRECTORY)
//     and opens the next one relative to it with O_NOFOLLOW: no link is followed.
//     Opening a directory this way needs read permission on it, where O_PATH needs only
//     search permission: a directory on the way that may be searched but not read fails
//     the walk with EACCES. That is the safe failure: there is no retry by path, which
//     would follow a link planted in the path.
//   - An entry is the directory holding a file and its name there, with the file's
//     lstat. Whatever is done to it afterwards checks first that the name still holds
//     that very file (device and inode): a file is opened with O_NOFOLLOW|O_NONBLOCK
//     (a FIFO put there does not block the open) and fstat'ed before anything is read or
//     changed through the descriptor, so nothing but the entry's inode is ever read or
//     given a mode. What O_PATH spares and this cannot: a device node put at the name
//     in between is opened (O_NOCTTY: never as the controlling terminal), then refused.

// openDirectory opens the directory name in dir (or the path name, with unix.AT_FDCWD)
// for the walks, as the directory of *at calls. A final symbolic link is followed only
// with follow. Read permission on the directory is needed (see above).
func openDirectory(dir int, name string, follow bool) (int, error) {
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	return unix.Openat(dir, name, flags, 0)
}

// entry is a file reached without following a final symbolic link, held so that what is
// done to it afterwards is done to that very file, as it was when reached (st): it is
// the file's name in a directory held open, checked again at each use.
type entry struct {
	dir  int    // the directory that holds it (unix.AT_FDCWD: name is a path)
	own  bool   // dir was opened by lookup, and close closes it
	name string // its name in dir
	st   unix.Stat_t
}

// lookup reaches name in dir (or the path name, with unix.AT_FDCWD; its directories
// are followed) without following a final link, and lstats it. The directory of a path
// is opened and held; one that cannot be read (only searched) is not, and the path is
// then resolved again at each use, which the checks of each use make safe too. A name
// ending in "/", "." or ".." can only be a directory, and the kernel follows a final
// link to reach it: so does lookup. The caller closes the entry.
func lookup(dir int, name string) (*entry, error) {
	e := &entry{dir: dir, name: name}
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		parent, base := name[:i], name[i+1:]
		if parent == "" {
			parent = "/"
		}
		if base == "" || base == "." || base == ".." {
			parent, base = name, "."
		}
		switch fd, err := openDirectory(dir, parent, true); {
		case err == nil:
			e.dir, e.own, e.name = fd, true, base
		case err != unix.EACCES:
			return nil, err
		}
	}
	if err := unix.Fstatat(e.dir, e.name, &e.st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// holds reports whether the entry's name still names the file it was reached as.
func (e *entry) holds() bool {
	var st unix.Stat_t
	return unix.Fstatat(e.dir, e.name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil &&
		keyOf(&st) == keyOf(&e.st) && modeOf(&st)&unix.S_IFMT == modeOf(&e.st)&unix.S_IFMT
}

// readlink returns the text of the entry, a symbolic link: at most size bytes, or
// errChanged. A link's text cannot change, so the text read is the entry's when the name
// still holds the entry afterwards. (Not if it was renamed away and back in between:
// only someone who may rename it can do that, and they could read it anyway.)
func (e *entry) readlink(size int) (string, error) {
	buf := make([]byte, size+1)
	n, err := unix.Readlinkat(e.dir, e.name, buf)
	switch {
	case !e.holds():
		return "", errChanged
	case err != nil:
		return "", err
	case n > size:
		return "", errChanged // it grew since the lstat
	}
	return string(buf[:n]), nil
}

// openRead opens the entry, a regular file, for reading (never blocking, never as a
// controlling terminal, never through a link). The name may hold another file by now:
// the caller checks what was opened before reading it (openFile).
func (e *entry) openRead() (int, error) {
	fd, err := unix.Openat(e.dir, e.name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil && !e.holds() {
		return -1, errChanged
	}
	return fd, err
}

// chmod gives the entry, a regular file or a directory, the permission bits mode. It
// changes the entry's own inode, or fails with errNotTheSame. The file is opened for
// reading to change it through its descriptor, so it must be readable: one that is not
// fails with EACCES.
func (e *entry) chmod(mode uint32) error {
	flags := unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC | unix.O_NOCTTY
	if modeOf(&e.st)&unix.S_IFMT == unix.S_IFDIR {
		flags |= unix.O_DIRECTORY
	}
	fd, err := unix.Openat(e.dir, e.name, flags, 0)
	if err != nil {
		if !e.holds() {
			return errNotTheSame
		}
		return err
	}
	defer closeFD(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if keyOf(&st) != keyOf(&e.st) {
		return errNotTheSame
	}
	return unix.Fchmod(fd, mode)
}

func (e *entry) close() {
	if e.own {
		closeFD(e.dir)
		e.own = false
	}
}
