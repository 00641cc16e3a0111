package fs

import "golang.org/x/sys/unix"

// freeBytes returns the bytes of the file system of fd that an unprivileged user may
// still fill: statfs(2) counts f_bavail in fragments of f_bsize bytes (f_iosize is the
// preferred I/O size), and f_bavail is negative when the reserve is in use.
func freeBytes(fd int) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return 0, err
	}
	return max(st.Bavail, 0) * int64(st.Bsize), nil
}

// openBelow would open the directory start/comps in one call, following no link
// anywhere below start; FreeBSD's open(2) has no flag for that. ok is false: walk them.
func openBelow(int, []string) (fd int, ok bool) { return -1, false }
