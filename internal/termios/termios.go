// Package termios holds the few terminal ioctls that Linux and the BSDs (macOS, FreeBSD)
// spell differently, so that the packages using them build and behave the same on both.
package termios

import "golang.org/x/sys/unix"

// Get returns the settings of the terminal fd (tcgetattr). On a pty master it returns
// the settings of the pty's terminal side, on Linux and on the BSDs.
func Get(fd int) (*unix.Termios, error) { return unix.IoctlGetTermios(fd, getRequest) }

// Pending returns how many bytes the terminal fd holds for reading (FIONREAD).
func Pending(fd int) (int, error) { return unix.IoctlGetInt(fd, pendingRequest) }

// FlushInput discards what the terminal fd holds for reading (tcflush TCIFLUSH).
func FlushInput(fd int) error { return flushInput(fd) }
