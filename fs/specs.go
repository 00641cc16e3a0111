package fs

import (
	"errors"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// maxDescribeEntries caps the entries the pre-walk of describeSpecs visits over all the
// specs of one question, so that a huge tree cannot stall it; beyond it the counts are
// lower bounds (transfer.Item.Partial).
const maxDescribeEntries = 100_000

// describeSpecs resolves the specs of a receive session for its question: their
// absolute paths, types, sizes, and for directories how many entries and bytes lie
// below (terminal-side.md §3.1 allows showing more than kitty). It runs in a background
// job, without e.mu, so it must only touch its arguments. Spec errors are the texts the
// listing would send; their size is unknown (-1). budget is the most entries the
// directory counts visit in all (maxDescribeEntries).
//
// Each spec is described as lstat(2) reaches it, which is how the listing will reach
// it, and also by where that really is (Item.Target): a symbolic link among its parents
// is followed, and its own when a trailing slash makes lstat follow it; a spec that is
// itself a link is described by what it points to. The approval side judges both, so
// that a link the remote planted (~/photos → .ssh) cannot launder a read. The keys
// returned (device and inode of what lstat found; zero for a spec that cannot be read)
// bind the listing to what was described: see lister.walkSpec.
func describeSpecs(home string, specs []spec, budget int) ([]transfer.Item, []fileKey) {
	infos := make([]transfer.Item, len(specs))
	keys := make([]fileKey, len(specs))
	w := newWalker(home)
	for i, s := range specs {
		info := &infos[i]
		info.Name = s.name
		info.Path = resolvePath(home, s.name)
		info.Size, info.Files = -1, -1
		if s.err != "" {
			info.Err = s.err // failed when it arrived (addSpec)
			continue
		}
		var st unix.Stat_t
		if err := unix.Lstat(info.Path, &st); err != nil {
			info.Err = scanner.StatusErrno(errnoName(err), scanner.TextReadSpec)
			continue
		}
		keys[i] = keyOf(&st)
		locate(w, info, modeOf(&st))
		switch {
		case !readable(info.Path, modeOf(&st)):
			info.Err = scanner.StatusNoReadPermission
			continue
		case !listable(modeOf(&st)):
			info.Err = scanner.StatusBadFileType
			continue
		}
		info.Type = fileTypeOf(modeOf(&st))
		info.Size = st.Size
		if info.Type == scanner.FileDirectory {
			info.Size, info.Files = 0, 0
			countTree(info, &budget)
		}
	}
	return infos, keys
}

// locate sets info.Target to where the spec at info.Path (lstat'ed with mode) really
// is, or for a symbolic link where it leads, when that is not info.Path itself. Paths
// in the real home directory are given in the configured one's terms, as the approval
// side's patterns are.
func locate(w walker, info *transfer.Item, mode uint32) {
	resolve := realOf
	if mode&unix.S_IFMT == unix.S_IFLNK {
		resolve = realPath // where the link itself leads
	}
	real, dir, err := resolve(info.Path)
	if err != nil {
		return // a loop of links: lstat, and the listing, see the link itself
	}
	if real = w.homeView(real); real != filepath.Clean(info.Path) {
		info.Target, info.TargetDir = real, dir
	}
}

// countTree counts the entries below the directory info.Path and the bytes of its
// regular files, without following symlinks, spending at most *budget entries.
func countTree(info *transfer.Item, budget *int) {
	dirs := []string{info.Path}
	for len(dirs) > 0 {
		dir := dirs[len(dirs)-1]
		dirs = dirs[:len(dirs)-1]
		for _, name := range readNames(dir) {
			if *budget <= 0 {
				info.Partial = true
				return
			}
			*budget--
			path := joinPath(dir, name)
			var st unix.Stat_t
			if unix.Lstat(path, &st) != nil || !listable(modeOf(&st)) {
				continue
			}
			info.Files++
			switch modeOf(&st) & unix.S_IFMT {
			case unix.S_IFREG:
				info.Size += st.Size
			case unix.S_IFDIR:
				dirs = append(dirs, path)
			}
		}
	}
}

// readable reports whether the spec at path, lstat'ed with mode, may be read: a
// symbolic link always (as Linux's faccessat with AT_SYMLINK_NOFOLLOW says: what it
// leads to is judged where it is read), anything else by access(2). That flag is not
// asked for: FreeBSD's faccessat refuses it (EINVAL), and older macOS releases do not
// document it. access follows a final link, so it is asked only about what is not one.
func readable(path string, mode uint32) bool {
	return mode&unix.S_IFMT == unix.S_IFLNK || unix.Faccessat(unix.AT_FDCWD, path, unix.R_OK, 0) == nil
}

// errnoName returns the symbolic name of the errno err wraps ("ENOENT"), or "" when it
// wraps none (scanner.StatusErrno then says EFAIL).
func errnoName(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return unix.ErrnoName(errno)
	}
	return ""
}
