// Package pollfd reads and writes a non-blocking descriptor (a pty master, a tty) with
// poll(2) in the calling goroutine, instead of Go's network poller.
//
// That is for speed. A descriptor registered with the runtime poller gets an epoll
// wake-up for every chunk of data that arrives, and the thread sleeping in epoll_wait is
// woken that often even while the reader is busy with data already there; on a pty that
// a program floods, that costs as much as relaying the data. A File costs what a blocking
// read(2) or write(2) costs, and can still be interrupted: by a deadline, or by Close.
//
// A large Write goes further, where the system allows it (Linux): it makes the
// descriptor blocking for one write(2) of the whole buffer, which the kernel completes
// piece by piece as the other side reads. A pty takes a few KiB at a time; the
// non-blocking way costs a write(2), an EAGAIN and a poll(2) per piece, and each return
// from poll(2) costs the Go runtime a thread hand-off (sysmon, futex wake-ups): measured
// through ssh, the proxy's CPU for the data it sends fell by 40 %. Such a write is still
// interrupted by Close and by a write deadline: they make the descriptor non-blocking
// again and signal the thread in write(2), which then returns. While it is blocking, a
// Read waits in poll(2) before it reads, so that it never blocks in read(2).
package pollfd

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// File is a non-blocking descriptor served by poll(2). One goroutine may Read while
// another Writes; Read is not safe for concurrent use with itself, nor Write with itself.
type File struct {
	fd int
	// stop becomes readable, for good, when Close begins. kick[0] and kick[1] are made
	// readable by SetReadDeadline and SetWriteDeadline to wake a Read or a Write in
	// progress.
	stop waker
	kick [2]waker
	// deadline[0] and [1] are the read and write deadlines in Unix nanoseconds; 0: none.
	deadline [2]atomic.Int64

	// beforePoll, if set, is called each time a Read or Write is about to wait in
	// poll(2), with the events it waits for; tests use it to know that a call waits.
	beforePoll func(events int16)

	// calls counts the Reads and the Writes, for yield; each is owned by its direction
	// (one Read and one Write at a time).
	calls [2]uint32

	// blocking is the state of a blocking Write (see writeBlocking).
	blocking blockingWrite

	// mu is held for reading by every call that uses the descriptors and for writing
	// by Close, so that a descriptor is never closed (and its number reused) under a
	// call in progress.
	mu        sync.RWMutex
	closed    bool // guarded by mu
	closeOnce sync.Once
	closeErr  error
}

// Directions, as indexes of File.kick and File.deadline.
const (
	reading = 0
	writing = 1
)

// yieldEvery is how many Reads (or Writes) a File makes between two passes of the
// calling goroutine through the Go scheduler (yield).
const yieldEvery = 64

// yield passes the calling goroutine through the scheduler (runtime.Gosched) once every
// yieldEvery calls in the direction dir. A goroutine served by the network poller parks
// there whenever it waits; one served by a File goes from one system call to the next and
// never does, and the runtime's monitor thread takes it for one that runs too long: every
// 10 ms it preempts it with a signal or takes its P in the middle of a call, and after
// each time polls every 20 µs again. Under a flood that was about 5 % of the proxy's CPU
// (strace: thousands of wake-ups of the monitor a second; perf).
func (f *File) yield(dir int) {
	f.calls[dir]++
	if f.calls[dir]%yieldEvery == 0 {
		runtime.Gosched()
	}
}

// New takes over fd, makes it non-blocking and returns its File. The File closes fd.
// fd's file description must not be shared with code that expects it blocking.
func New(fd int) (*File, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, fmt.Errorf("pollfd: set non-blocking: %w", err)
	}
	f := &File{fd: fd, stop: noWaker, kick: [2]waker{noWaker, noWaker}}
	if err := f.blocking.init(fd); err != nil {
		return nil, fmt.Errorf("pollfd: status flags: %w", err)
	}
	for _, p := range []*waker{&f.stop, &f.kick[reading], &f.kick[writing]} {
		w, err := newWaker()
		if err != nil {
			f.closeWakers()
			return nil, fmt.Errorf("pollfd: %w", err)
		}
		*p = w
	}
	return f, nil
}

// Read reads what is there, waiting until there is something. It returns
// os.ErrDeadlineExceeded when the read deadline passes with nothing to read, and
// os.ErrClosed after Close. Errors of read(2) are returned as they are (a pty master
// reads EIO once every process has closed the other side).
//
// It returns after one read(2), however little that brought: reading on until the
// descriptor is empty, to return more at once, ends every Read with a read(2) that
// finds nothing, and was measured slower on a pty.
func (f *File) Read(p []byte) (int, error) {
	f.yield(reading)
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.closed {
		return 0, os.ErrClosed
	}
	ready := false // poll(2) saw the descriptor readable
	for {
		n, err := 0, error(unix.EAGAIN)
		switch {
		case f.blocking.startRead():
			n, err = unix.Read(f.fd, p)
			f.blocking.endRead()
		case ready:
			// A Write has made the descriptor blocking, but there is something to read
			// (or a hangup to report), so read(2) does not wait.
			n, err = unix.Read(f.fd, p)
		}
		ready = false
		switch {
		case n > 0:
			return n, nil
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := f.wait(reading, unix.POLLIN); err != nil {
				return 0, err
			}
			ready = true
		case err != nil:
			return 0, err
		case len(p) == 0:
			return 0, nil
		default:
			return 0, unix.EIO // End of file: not seen on a tty, but the reader must stop.
		}
	}
}

// Write writes all of p, waiting while the descriptor is full. It returns how much was
// written and os.ErrDeadlineExceeded when the write deadline passes first, or
// os.ErrClosed when Close interrupts it.
func (f *File) Write(p []byte) (int, error) {
	f.yield(writing)
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.closed {
		return 0, os.ErrClosed
	}
	n := 0
	if len(p) >= blockingMin && f.deadline[writing].Load() == 0 {
		n = f.writeBlocking(p)
	}
	for n < len(p) {
		k, err := unix.Write(f.fd, p[n:])
		if k > 0 {
			n += k
		}
		switch {
		case err == nil || err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := f.wait(writing, unix.POLLOUT); err != nil {
				return n, err
			}
		default:
			return n, err
		}
	}
	return n, nil
}

// wait polls the descriptor for events until it is ready (or has an error or a hangup,
// which the next read or write reports), Close begins, or the deadline of dir passes.
// The caller holds mu for reading.
func (f *File) wait(dir int, events int16) error {
	fds := []unix.PollFd{
		{Fd: int32(f.fd), Events: events},
		{Fd: int32(f.stop.r), Events: unix.POLLIN},
		{Fd: int32(f.kick[dir].r), Events: unix.POLLIN},
	}
	for {
		timeout := -1
		if d := f.deadline[dir].Load(); d != 0 {
			left := time.Until(time.Unix(0, d))
			if left <= 0 {
				return os.ErrDeadlineExceeded
			}
			timeout = int((left + time.Millisecond - 1) / time.Millisecond)
		}
		for i := range fds {
			fds[i].Revents = 0
		}
		if f.beforePoll != nil {
			f.beforePoll(events)
		}
		if _, err := unix.Poll(fds, timeout); err != nil && err != unix.EINTR {
			return fmt.Errorf("pollfd: poll: %w", err)
		}
		if fds[1].Revents != 0 {
			return os.ErrClosed
		}
		if fds[2].Revents != 0 {
			f.kick[dir].clear() // Nothing else reads it.
		}
		if fds[0].Revents != 0 {
			return nil
		}
	}
}

// SetReadDeadline bounds how long Read waits: a Read in progress, or a later one, that
// has to wait returns os.ErrDeadlineExceeded once t has passed. Unlike
// os.File.SetReadDeadline, a passed deadline does not stop a Read that finds data there
// (a reader that drains until the other side goes quiet wants exactly that). The zero t
// means no deadline. It returns os.ErrClosed after Close.
func (f *File) SetReadDeadline(t time.Time) error { return f.setDeadline(reading, t) }

// SetWriteDeadline bounds how long Write waits, likewise: a Write that has to wait for
// room returns what it has written and os.ErrDeadlineExceeded once t has passed.
func (f *File) SetWriteDeadline(t time.Time) error { return f.setDeadline(writing, t) }

func (f *File) setDeadline(dir int, t time.Time) error {
	var d int64
	if !t.IsZero() {
		d = t.UnixNano()
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.closed {
		return os.ErrClosed
	}
	old := f.deadline[dir].Swap(d)
	if d != 0 && (old == 0 || d < old) {
		// A call in progress waits for the old deadline, which is later: wake it to
		// compute again. (One that waits for an earlier one wakes then and does.)
		f.kick[dir].wake()
		if dir == writing {
			f.blocking.interrupt(f.fd) // A blocking write knows no deadline: it must wait in poll.
		}
	}
	return nil
}

// Control runs fn on the descriptor, for an ioctl. It returns os.ErrClosed after Close.
func (f *File) Control(fn func(fd int) error) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.closed {
		return os.ErrClosed
	}
	return fn(f.fd)
}

// Close wakes every Read and Write in progress (they return os.ErrClosed), waits for them
// to leave, and closes the descriptor. (Closing a pty master hangs up its other side.)
// It is idempotent.
func (f *File) Close() error {
	f.closeOnce.Do(func() {
		f.stop.wake()
		f.blocking.stop(f.fd)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.closed = true
		f.closeErr = unix.Close(f.fd)
		f.closeWakers()
		if f.closeErr != nil {
			f.closeErr = fmt.Errorf("pollfd: close: %w", f.closeErr)
		}
	})
	return f.closeErr
}

// closeWakers closes the wakers that are open.
func (f *File) closeWakers() {
	for _, p := range []*waker{&f.stop, &f.kick[reading], &f.kick[writing]} {
		p.close()
		*p = noWaker
	}
}
