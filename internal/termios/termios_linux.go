package termios

import "golang.org/x/sys/unix"

const (
	getRequest     = unix.TCGETS
	pendingRequest = unix.TIOCINQ // FIONREAD
)

func flushInput(fd int) error { return unix.IoctlSetInt(fd, unix.TCFLSH, unix.TCIFLUSH) }
