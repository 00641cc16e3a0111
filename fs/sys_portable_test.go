//go:build !linux || xferterm_portable

package fs

// What the tests expect of the portable primitives (sys_portable.go), where they differ
// from Linux's (sys_linux_test.go).
const (
	// heldInode: an entry is a name in a held directory, checked at each use, so what is
	// done to it after its name was given to another file fails (errChanged,
	// errNotTheSame) instead.
	heldInode = false
	// WalkNeedsRead: a walk opens a directory for reading (there is no O_PATH), so it
	// needs read permission where O_PATH needs only search permission.
	WalkNeedsRead = true
)
