package fs

import (
	"strings"

	"golang.org/x/sys/unix"
)

// freeBytes returns the bytes of the file system of fd that an unprivileged user may
// still fill: statfs(2) counts f_bavail in blocks of f_bsize bytes (the fundamental
// block size; f_iosize is the preferred I/O size).
func freeBytes(fd int) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// openBelow opens the directory start/comps in one call, following no symbolic link
// anywhere below start (O_NOFOLLOW_ANY: the kernel refuses a link in any component, as
// one atomic lookup). The flag exists since macOS 11; Go 1.26 runs on macOS 12 and later,
// so no kernel that would ignore it is ever met. Unlike the walk component by component,
// it needs only search permission on the directories on the way (read permission on
// the last one). ok is false when it fails, for whatever reason (a link on the way, a
// missing directory): the caller then walks the components one by one, the portable
// way, which makes the missing ones and names the link in the way.
func openBelow(start int, comps []string) (fd int, ok bool) {
	if len(comps) == 0 {
		return -1, false
	}
	fd, err := unix.Openat(start, strings.Join(comps, "/"), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW_ANY|unix.O_CLOEXEC, 0)
	return fd, err == nil
}
