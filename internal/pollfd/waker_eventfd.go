//go:build linux && !xferterm_portable

package pollfd

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// A waker is a descriptor that poll(2) sees readable once wake has been called, until
// clear. On Linux it is one eventfd; waker_pipe.go has the portable twin.
type waker struct{ r, w int }

// noWaker is a waker that is not open.
var noWaker = waker{-1, -1}

// eventfdCounterSize is the size of an eventfd's counter, which read(2) and write(2) move.
const eventfdCounterSize = 8

func newWaker() (waker, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return noWaker, fmt.Errorf("eventfd: %w", err)
	}
	return waker{fd, fd}, nil
}

// wake adds one to the counter, which makes the eventfd readable. It cannot fail short of
// a counter overflow, and an eventfd that full is readable anyway.
func (k waker) wake() {
	var one [eventfdCounterSize]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(k.w, one[:])
}

// clear resets the counter to zero: the eventfd is no longer readable.
func (k waker) clear() {
	var b [eventfdCounterSize]byte
	_, _ = unix.Read(k.r, b[:]) // Non-blocking; nothing to read is fine.
}

func (k waker) close() {
	if k.r >= 0 {
		_ = unix.Close(k.r) // An eventfd closes.
	}
}
