//go:build !linux || xferterm_portable

package pollfd

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// A waker is a descriptor that poll(2) sees readable once wake has been called, until
// clear. This is the portable twin of waker_eventfd.go: a non-blocking pipe whose read end
// is polled. The build tag xferterm_portable selects it on Linux too, so that it is
// tested there.
type waker struct{ r, w int }

// noWaker is a waker that is not open.
var noWaker = waker{-1, -1}

func newWaker() (waker, error) {
	var p [2]int
	// Hold ForkLock so that no child started meanwhile inherits the ends before they are
	// close-on-exec (pipe2 is not on every system).
	syscall.ForkLock.RLock()
	err := unix.Pipe(p[:])
	if err == nil {
		unix.CloseOnExec(p[0])
		unix.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return noWaker, fmt.Errorf("pipe: %w", err)
	}
	k := waker{p[0], p[1]}
	for _, fd := range p {
		if err := unix.SetNonblock(fd, true); err != nil {
			k.close()
			return noWaker, fmt.Errorf("pipe: set non-blocking: %w", err)
		}
	}
	return k, nil
}

// wake writes one byte, which makes the read end readable. A full pipe is readable
// already, so a write that finds it full (EAGAIN) loses nothing.
func (k waker) wake() {
	_, _ = unix.Write(k.w, []byte{1})
}

// clear empties the pipe: the read end is no longer readable.
func (k waker) clear() {
	var b [64]byte
	for {
		if n, err := unix.Read(k.r, b[:]); n <= 0 || err != nil {
			return
		}
	}
}

func (k waker) close() {
	for _, fd := range []int{k.r, k.w} {
		if fd >= 0 {
			_ = unix.Close(fd) // A pipe end closes.
		}
	}
}
