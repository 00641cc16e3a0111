package fs

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/scanner"
)

// Modes for entries whose `prm` is absent (terminal-side.md §13: kitty's 07777 would
// hand out setuid/setgid/sticky; xferterm uses what a fresh file would get).
const (
	defaultFileMode = 0o666
	defaultDirMode  = 0o777
)

// permOf returns the permission bits to give an entry: the remote's `prm` reduced to
// the nine rwx bits (setuid, setgid and sticky are never taken from the remote), or def
// less the umask when absent.
func permOf(prm scanner.OptInt, def, umask uint32) uint32 {
	if prm.Set {
		return uint32(prm.Value) & 0o777
	}
	return def &^ umask
}

// readUmask returns the process umask without changing it (umask(2) would, for every
// thread at once): Linux reports it in /proc/self/status. It falls back to 022.
func readUmask() uint32 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0o022
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("Umask:")); ok {
			m, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 8, 32)
			if err == nil {
				return uint32(m) & 0o777
			}
		}
	}
	return 0o022
}

// errNotTheSame reports an entry that is no longer the file it was when it was judged.
var errNotTheSame = errors.New("fs: the entry was replaced")

// chmodNoFollow changes the mode of name in dir unless it is a symbolic link (Linux has
// no lchmod; kitty skips symlinks too), or, when key is not nil, unless it is another
// file than key. The entry is opened O_PATH|O_NOFOLLOW, which neither follows a link
// swapped in meanwhile nor opens a device, and changed through its /proc/self/fd alias.
func chmodNoFollow(dir int, name string, mode uint32, key *fileKey) error {
	fd, err := unix.Openat(dir, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return nil // a symbolic link: permissions do not apply
	}
	if key != nil && (fileKey{uint64(st.Dev), st.Ino}) != *key {
		return errNotTheSame
	}
	return unix.Fchmodat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), mode, 0)
}
