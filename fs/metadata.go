package fs

import (
	"errors"

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

// ReadUmask returns the process's file mode creation mask, which the engine takes from
// the modes of the files it creates (Config.Umask). The program calls it once, at
// start-up, before any goroutine of its own creates a file, and the engine keeps the
// value: it never asks again per request.
//
// The one call that reads the mask on every system, umask(2), also sets it, for every
// thread of the process at once (Linux alone reports it without changing it, in
// /proc/self/status). ReadUmask sets 077 and puts the old mask back on the next line:
// whatever another thread creates in between gets at most the owner's permissions, so
// the worst a bad moment can do is make a file stricter, never more open.
func ReadUmask() uint32 {
	m := unix.Umask(0o077)
	unix.Umask(m)
	return uint32(m) & 0o777
}

// errNotTheSame reports an entry that is no longer the file it was when it was judged.
var errNotTheSame = errors.New("fs: the entry was replaced")

// chmodNoFollow changes the mode of name in dir unless it is a symbolic link (whose mode
// means nothing on Linux; kitty skips symlinks too), or, when key is not nil, unless it
// is another file than key. It changes only a regular file or a directory, and only the
// very inode it finds at name (entry.chmod): never one that a link swapped in meanwhile
// leads to.
func chmodNoFollow(dir int, name string, mode uint32, key *fileKey) error {
	e, err := lookup(dir, name)
	if err != nil {
		return err
	}
	defer e.close()
	switch t := modeOf(&e.st) & unix.S_IFMT; {
	case t == unix.S_IFLNK:
		return nil // a symbolic link: permissions do not apply
	case t != unix.S_IFREG && t != unix.S_IFDIR, key != nil && keyOf(&e.st) != *key:
		return errNotTheSame
	}
	return e.chmod(mode)
}
