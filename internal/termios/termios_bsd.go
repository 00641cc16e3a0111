//go:build darwin || freebsd

package termios

import "golang.org/x/sys/unix"

const (
	getRequest = unix.TIOCGETA
	// pendingRequest is FIONREAD, _IOR('f', 127, int) in <sys/filio.h>: the same number
	// on macOS and FreeBSD, and not among golang.org/x/sys/unix's constants there.
	pendingRequest = 0x4004667f
	// flushRead is FREAD of <sys/fcntl.h>, which TIOCFLUSH takes to flush input.
	flushRead = 0x1
)

func flushInput(fd int) error { return unix.IoctlSetPointerInt(fd, unix.TIOCFLUSH, flushRead) }
