package fs

import (
	"errors"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// walker reaches upload destinations without ever following a symbolic link: every
// component below the starting directory is opened with O_NOFOLLOW|O_DIRECTORY, relative
// to its parent's descriptor (openDirectory: O_PATH on Linux), so a link planted in the
// path (by this session or anyone else) cannot redirect a write. Only the home directory
// itself is canonicalised, once, so that a home reached through a symlinked prefix still
// works.
//
// A walker is immutable after creation and safe for concurrent use.
type walker struct {
	home  string // Config.Home, cleaned
	canon string // home with its symbolic links resolved
}

func newWalker(home string) walker {
	home = filepath.Clean(home)
	canon, err := filepath.EvalSymlinks(home)
	if err != nil {
		canon = home // a missing home fails later, at the first open
	}
	return walker{home: home, canon: canon}
}

// homeView returns the clean absolute path p with a leading real home directory
// written as the configured one (a home reached through a symlinked prefix).
func (w walker) homeView(p string) string {
	if w.canon == w.home {
		return p
	}
	if p == w.canon {
		return w.home
	}
	if rest, ok := strings.CutPrefix(p, w.canon+"/"); ok && w.canon != "/" {
		return filepath.Join(w.home, rest)
	}
	return p
}

// split returns the directory the walk starts from (opened following links) and the
// components below it (opened without following). abs must be absolute.
func (w walker) split(abs string) (string, []string) {
	abs = filepath.Clean(abs)
	for _, h := range [...]string{w.canon, w.home} {
		if abs == h {
			return w.canon, nil
		}
		if h == "/" {
			break
		}
		if rest, ok := strings.CutPrefix(abs, h+"/"); ok {
			return w.canon, strings.Split(rest, "/")
		}
	}
	rest := strings.TrimPrefix(abs, "/")
	if rest == "" {
		return "/", nil
	}
	return "/", strings.Split(rest, "/")
}

// openDir opens the directory abs. With create, missing directories are made on the way
// (mode 0777 less the umask, like mkdir -p). A symbolic link on the way fails with
// errSymlinkInPath. The caller closes the returned descriptor.
func (w walker) openDir(abs string, create bool) (int, error) {
	start, comps := w.split(abs)
	fd, err := openDirectory(unix.AT_FDCWD, start, true)
	if err != nil {
		return -1, &opError{Op: opMkdir, Path: start, Err: err}
	}
	if below, ok := openBelow(fd, comps); ok {
		_ = unix.Close(fd) // Best effort: read-only descriptor.
		return below, nil
	}
	for i, c := range comps {
		next, err := openDirAt(fd, c, create)
		if err == unix.ENOTDIR && create && i == len(comps)-1 {
			err = unix.EEXIST // mkdir's answer for a non-directory in the way
		}
		if err != nil {
			_ = unix.Close(fd) // Best effort: read-only descriptor.
			if errors.Is(err, errSymlinkInPath) {
				return -1, err
			}
			return -1, &opError{Op: opMkdir, Path: filepath.Join(start, filepath.Join(comps[:i+1]...)), Err: err}
		}
		_ = unix.Close(fd) // Best effort: read-only descriptor.
		fd = next
	}
	return fd, nil
}

// openParent opens the directory that holds abs and returns it with the last component.
// abs itself must not be the home directory or "/".
func (w walker) openParent(abs string, create bool) (int, string, error) {
	abs = filepath.Clean(abs)
	base := filepath.Base(abs)
	if _, comps := w.split(abs); len(comps) == 0 {
		return -1, "", errIsDirectory
	}
	fd, err := w.openDir(filepath.Dir(abs), create)
	return fd, base, err
}

// openDirAt opens the directory name inside dir without following a link, making it
// first when create is set and it is missing.
func openDirAt(dir int, name string, create bool) (int, error) {
	for try := 0; ; try++ {
		fd, err := openDirectory(dir, name, false)
		if err == nil {
			return fd, nil
		}
		if err == unix.EINTR {
			continue
		}
		if err == unix.ENOENT && create && try < 3 {
			if err := unix.Mkdirat(dir, name, 0o777); err != nil && err != unix.EEXIST {
				return -1, err
			}
			continue
		}
		// By the lstat, not the errno: O_NOFOLLOW fails with ELOOP on a link, but with
		// EMLINK on FreeBSD.
		if st, err := lstatAt(dir, name); err == nil && modeOf(&st)&unix.S_IFMT == unix.S_IFLNK {
			return -1, errSymlinkInPath
		}
		return -1, err
	}
}

// lstatAt returns the status of name in dir without following a link.
func lstatAt(dir int, name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	return st, err
}

// existing describes what is at a destination before the upload touches it.
type existing struct {
	exists bool
	mode   uint32 // st_mode (type and permission bits)
	size   int64
}

func (x existing) isDir() bool     { return x.exists && x.mode&unix.S_IFMT == unix.S_IFDIR }
func (x existing) isRegular() bool { return x.exists && x.mode&unix.S_IFMT == unix.S_IFREG }

// probe looks at abs without creating or following anything. A missing parent is not an
// error (the destination simply does not exist yet); a link in the path is.
func (w walker) probe(abs string) (existing, error) {
	start, comps := w.split(abs)
	if len(comps) == 0 {
		var st unix.Stat_t
		if err := unix.Stat(start, &st); err != nil {
			return existing{}, err
		}
		return existing{exists: true, mode: modeOf(&st), size: st.Size}, nil
	}
	dir, base, err := w.openParent(abs, false)
	if err != nil {
		var op *opError
		if errors.As(err, &op) && (errors.Is(err, unix.ENOENT)) {
			return existing{}, nil
		}
		return existing{}, err
	}
	defer unix.Close(dir)
	st, err := lstatAt(dir, base)
	if err == unix.ENOENT {
		return existing{}, nil
	}
	if err != nil {
		return existing{}, err
	}
	return existing{exists: true, mode: modeOf(&st), size: st.Size}, nil
}
