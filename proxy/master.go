package proxy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// master is the proxy's end of the child's pty (the ptmx). Its descriptor is
// non-blocking, and it is served by poll(2) in the goroutine that reads or writes, not by
// Go's network poller. That is deliberate: a descriptor registered with the poller gets
// an epoll wake-up for every chunk the child writes, and the thread sleeping in
// epoll_wait is woken that often even while the pump has data to read; on a child that
// floods its terminal that costs as much as the relaying itself. Reading and writing here
// cost what a minimal relay's blocking read and write cost, and they can still be
// interrupted: Close wakes every call in progress, and SetReadDeadline bounds a Read.
//
// One goroutine may Read and another Write at the same time; Read is not safe for
// concurrent use with itself, nor Write with itself.
type master struct {
	fd int
	// stop is an eventfd that becomes readable, for good, when Close begins; kick is an
	// eventfd that SetReadDeadline makes readable to wake a Read in progress.
	stop, kick int

	deadline atomic.Int64 // Read's deadline in Unix nanoseconds; 0: none

	// beforePoll, if set, is called each time a Read or Write is about to wait in
	// poll(2), with the events it waits for; tests use it to know that a call waits.
	beforePoll func(events int16)

	// mu is held for reading by every call that uses the descriptors and for writing
	// by Close, so that a descriptor is never closed (and its number reused) under a
	// call in progress.
	mu        sync.RWMutex
	closed    bool // guarded by mu
	closeOnce sync.Once
	closeErr  error
}

// newMaster takes over fd, a pty master, and makes it non-blocking.
func newMaster(fd int) (*master, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("set ptmx non-blocking: %w", err)
	}
	stop, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("ptmx stop eventfd: %w", err)
	}
	kick, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		_ = unix.Close(stop) // Best effort: already failing.
		return nil, fmt.Errorf("ptmx kick eventfd: %w", err)
	}
	return &master{fd: fd, stop: stop, kick: kick}, nil
}

// Read reads what the child has written, waiting until there is something. It returns
// os.ErrDeadlineExceeded when the read deadline passes with nothing to read,
// os.ErrClosed after Close, and EIO once every process has closed the child's side.
//
// It returns after one read(2), however little that brought (the kernel hands out a
// few KiB at a time): reading on until the pty is empty, to pass bigger pieces on, was
// measured slower, as it ends every piece with a read that finds nothing.
func (m *master) Read(p []byte) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return 0, os.ErrClosed
	}
	for {
		n, err := unix.Read(m.fd, p)
		switch {
		case n > 0:
			return n, nil
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := m.wait(unix.POLLIN, true); err != nil {
				return 0, err
			}
		case err != nil:
			return 0, err
		default: // Not seen on a pty master, but it would be the end.
			return 0, unix.EIO
		}
	}
}

// Write writes all of p into the child's input, waiting while the pty is full. It
// returns os.ErrClosed when Close interrupts it.
func (m *master) Write(p []byte) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return 0, os.ErrClosed
	}
	n := 0
	for n < len(p) {
		k, err := unix.Write(m.fd, p[n:])
		if k > 0 {
			n += k
		}
		switch {
		case err == nil || err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := m.wait(unix.POLLOUT, false); err != nil {
				return n, err
			}
		default:
			return n, err
		}
	}
	return n, nil
}

// wait polls the master for events until it is ready, Close begins (os.ErrClosed), or,
// when useDeadline, the read deadline passes (os.ErrDeadlineExceeded). The caller holds
// mu for reading.
func (m *master) wait(events int16, useDeadline bool) error {
	fds := []unix.PollFd{
		{Fd: int32(m.fd), Events: events},
		{Fd: int32(m.stop), Events: unix.POLLIN},
		{Fd: int32(m.kick), Events: unix.POLLIN},
	}
	if !useDeadline {
		fds = fds[:2]
	}
	for {
		timeout := -1
		if useDeadline {
			if d := m.deadline.Load(); d != 0 {
				left := time.Until(time.Unix(0, d))
				if left <= 0 {
					return os.ErrDeadlineExceeded
				}
				timeout = int((left + time.Millisecond - 1) / time.Millisecond)
			}
		}
		for i := range fds {
			fds[i].Revents = 0
		}
		if m.beforePoll != nil {
			m.beforePoll(events)
		}
		if _, err := unix.Poll(fds, timeout); err != nil && err != unix.EINTR {
			return fmt.Errorf("poll ptmx: %w", err)
		}
		if fds[1].Revents != 0 {
			return os.ErrClosed
		}
		if useDeadline && fds[2].Revents != 0 {
			var b [8]byte
			_, _ = unix.Read(m.kick, b[:]) // Clears it; EAGAIN if another wake took it.
		}
		if fds[0].Revents != 0 {
			return nil // Ready, or an error or hangup that the next read or write reports.
		}
	}
}

// SetReadDeadline bounds Read, as os.File.SetReadDeadline does: a Read in progress, or a
// later one, returns os.ErrDeadlineExceeded once t has passed with nothing read. The
// zero t means no deadline.
func (m *master) SetReadDeadline(t time.Time) {
	var d int64
	if !t.IsZero() {
		d = t.UnixNano()
	}
	old := m.deadline.Swap(d)
	if d == 0 || (old != 0 && old <= d) {
		return // A Read in progress wakes at old, earlier, and computes again.
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if !m.closed {
		wakeEventfd(m.kick)
	}
}

// wakeEventfd adds one to the eventfd fd, which makes it readable. It cannot fail short of a
// counter overflow, and an eventfd that full is readable anyway.
func wakeEventfd(fd int) {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(fd, one[:])
}

// control runs fn on the master's descriptor, for an ioctl.
func (m *master) control(fn func(fd int) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return os.ErrClosed
	}
	return fn(m.fd)
}

// Close wakes every Read and Write in progress (they return os.ErrClosed), waits for them
// to leave, and closes the master, which hangs up the child's side: its session gets
// SIGHUP. Later calls return os.ErrClosed; Close is idempotent.
func (m *master) Close() error {
	m.closeOnce.Do(func() {
		wakeEventfd(m.stop)
		m.mu.Lock()
		defer m.mu.Unlock()
		m.closed = true
		m.closeErr = errors.Join(unix.Close(m.fd), unix.Close(m.stop), unix.Close(m.kick))
	})
	return m.closeErr
}
