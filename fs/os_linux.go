package fs

import "golang.org/x/sys/unix"

// freeBytes returns the bytes of the file system of fd that an unprivileged user may
// still fill. statfs(2) counts them in fragments of f_frsize bytes (f_bsize is the
// preferred I/O size; a kernel that does not fill in f_frsize means f_bsize).
func freeBytes(fd int) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return 0, err
	}
	unit := st.Frsize
	if unit <= 0 {
		unit = st.Bsize
	}
	return int64(st.Bavail) * unit, nil
}

// openBelow would open the directory start/comps in one call, following no link
// anywhere below start; Linux has no open flag for that (only openat2, which the walk
// does not need: it opens component by component). ok is false: walk them.
func openBelow(int, []string) (fd int, ok bool) { return -1, false }
