//go:build linux && !xferterm_portable

package pollfd

import (
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// blockingMin is the least Write that makes the descriptor blocking (writeBlocking):
// a few times what a pty takes at once. Keystrokes go the non-blocking way.
const blockingMin = 8 << 10

// blockingWrite is the state of a Write that has made the descriptor blocking. Reads
// and a Write agree through two atomics, so that a Read costs no lock: a Read counts
// itself in readers, then looks at active; a Write sets active, then looks at readers.
// One of them sees the other and stays off (see startRead and writeBlocking). Switches
// of the mode are made under mu, which orders them against interrupt and stop.
type blockingWrite struct {
	active  atomic.Bool  // the descriptor is blocking, or about to be, for a write(2)
	readers atomic.Int32 // Reads that may be in read(2): the descriptor must stay non-blocking

	mu      sync.Mutex
	tid     int  // the thread of the blocking write; guarded by mu
	stopped bool // Close has begun; guarded by mu
	flags   int  // the descriptor's status flags, with O_NONBLOCK (set by init)

	// beforeWrite, if set, is called with the thread's id just before each blocking
	// write(2); tests use it to see the thread wait in the kernel.
	beforeWrite func(tid int)
}

// init reads the descriptor's status flags, so that a switch of mode is one fcntl(2).
func (b *blockingWrite) init(fd int) error {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	b.flags = fl | unix.O_NONBLOCK
	return err
}

// setBlocking switches the descriptor's mode.
func (b *blockingWrite) setBlocking(fd int, on bool) error {
	fl := b.flags
	if on {
		fl &^= unix.O_NONBLOCK
	}
	_, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl)
	return err
}

// writeBlocking writes p with blocking write(2)s until it is written, an error occurs or
// interrupt ends the blocking mode, and returns how much was written; 0 when the
// descriptor cannot be made blocking now (a Read is in read(2), a write deadline is set,
// Close has begun). Errors are left to the non-blocking writes that follow, which meet
// them again.
func (f *File) writeBlocking(p []byte) int {
	b := &f.blocking
	// The thread must stay the one interrupt signals until the write is over.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.mu.Lock()
	b.active.Store(true)
	if b.stopped || b.readers.Load() > 0 || f.deadline[writing].Load() != 0 || b.setBlocking(f.fd, true) != nil {
		b.active.Store(false)
		b.mu.Unlock()
		return 0
	}
	b.tid = unix.Gettid()
	b.mu.Unlock()
	// A signal that is not interrupt's (the runtime preempts with SIGURG too, and any
	// signal may land on the thread) makes write(2) return what it has written so far;
	// the write goes on, blocking, while the mode is still ours. Once interrupt has
	// cleared active, the descriptor is non-blocking, so a write(2) that begins after
	// the check below cannot wait.
	n := 0
	for n < len(p) && b.active.Load() {
		if b.beforeWrite != nil {
			b.beforeWrite(b.tid)
		}
		k, err := unix.Write(f.fd, p[n:])
		n += max(k, 0)
		if err != nil && err != unix.EINTR {
			break
		}
	}
	b.mu.Lock()
	if b.active.Load() {
		_ = b.setBlocking(f.fd, false) // Cannot fail on a descriptor that is open.
		b.active.Store(false)
	}
	b.mu.Unlock()
	return n
}

// startRead reports whether a Read may call read(2) without waiting in poll(2) first:
// no Write has made the descriptor blocking. If so, no Write will until endRead.
func (b *blockingWrite) startRead() bool {
	b.readers.Add(1)
	if b.active.Load() {
		b.readers.Add(-1)
		return false
	}
	return true
}

func (b *blockingWrite) endRead() { b.readers.Add(-1) }

// interrupt ends a blocking write in progress: the descriptor becomes non-blocking
// again, and a signal to the writing thread makes write(2) return (what it has written,
// or, restarted, EAGAIN). SIGURG is the Go runtime's own preemption signal, which any
// goroutine may receive at any time; it is harmless where it lands too late.
func (b *blockingWrite) interrupt(fd int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.active.Load() {
		return
	}
	_ = b.setBlocking(fd, false)                       // Cannot fail on a descriptor that is open.
	b.active.Store(false)                              // Reads may read(2) again: it cannot wait.
	_ = unix.Tgkill(unix.Getpid(), b.tid, unix.SIGURG) // The thread is locked to the writer.
}

// stop interrupts a blocking write and makes sure no other begins: Close has begun.
func (b *blockingWrite) stop(fd int) {
	b.mu.Lock()
	b.stopped = true
	b.mu.Unlock()
	b.interrupt(fd)
}
