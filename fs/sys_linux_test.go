//go:build linux && !xferterm_portable

package fs

// What the tests expect of the Linux primitives (sys_linux.go), where they differ from
// the portable twin's (sys_portable_test.go).
const (
	// heldInode: an entry holds its file's inode (an O_PATH descriptor), so what is done
	// to it after its name was given to another file is done to the entry's own file.
	heldInode = true
	// WalkNeedsRead: a walk opens a directory with search permission alone (O_PATH).
	WalkNeedsRead = false
)
