package fs

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// maxLinkHops is how many symbolic links realPath follows before it gives up, as the
// kernel does (ELOOP after 40).
const maxLinkHops = 40

// realPath returns where the absolute path p really leads, for the approval side to
// judge: every symbolic link on the way followed, and "." and ".." taken as the
// kernel takes them (".." after a link is the parent of its target, not of the link).
// A component that does not exist (or cannot be looked at) is taken as the directory
// mkdir -p would make there, so a path through it still meets the links after a "..".
// It reports whether the result is a directory. A chain of more than maxLinkHops links
// is an error (ELOOP), as for the kernel.
//
// The answer is what the disk says now: whoever acts on it later checks that the file
// it reaches is still the one it judged (by device and inode).
func realPath(p string) (string, bool, error) {
	todo := components(p)
	cur, hops := "/", 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case ".":
			continue
		case "..":
			cur = filepath.Dir(cur) // cur has no link in it: its parent is real
			continue
		}
		next := filepath.Join(cur, c)
		st, err := os.Lstat(next)
		if err != nil || st.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		if hops++; hops > maxLinkHops {
			return "", false, &os.PathError{Op: "resolve", Path: p, Err: syscall.ELOOP}
		}
		text, err := os.Readlink(next)
		if err != nil {
			cur = next // gone since the lstat: as if missing
			continue
		}
		if strings.HasPrefix(text, "/") {
			cur = "/"
		}
		todo = append(components(text), todo...)
	}
	st, err := os.Stat(cur)
	return cur, err == nil && st.IsDir(), nil
}

// components splits a path into its names, without the empty ones.
func components(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// realOf returns where the object a spec path names really is, as lstat(2) reaches
// it: the links among its parents are followed, and its own last component too when
// a trailing slash (or a final "." or "..") makes lstat follow it.
func realOf(p string) (string, bool, error) {
	base := filepath.Base(p)
	if strings.HasSuffix(p, "/") || base == "." || base == ".." {
		return realPath(p)
	}
	dir, _, err := realPath(filepath.Dir(p))
	if err != nil {
		return "", false, err
	}
	real := filepath.Join(dir, base)
	st, err := os.Lstat(real)
	return real, err == nil && st.IsDir(), nil
}
