//go:build linux && !xferterm_portable

package pollfd

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/internal/ptytest"
)

// blockedWriter starts a Write of 4 MiB into m, whose child never reads, and returns
// once the writing thread waits in a blocking write(2) in the kernel, with the channel its
// result comes on.
func blockedWriter(t *testing.T, m *File) <-chan result {
	t.Helper()
	writing, _, _ := startBlockedWriter(t, m)
	return writing
}

// startBlockedWriter is blockedWriter, and also returns the writing thread's id and the
// channel that gets it again before each later blocking write(2).
func startBlockedWriter(t *testing.T, m *File) (writing <-chan result, tids <-chan int, tid int) {
	t.Helper()
	ch := make(chan int, 16)
	m.blocking.beforeWrite = func(tid int) {
		select {
		case ch <- tid:
		default:
		}
	}
	writing = goFill(m)
	select {
	case tid = <-ch:
	case <-time.After(ptytest.WaitTimeout):
		t.Fatal("the Write did not make the descriptor blocking")
	}
	inWrite(t, tid)
	return writing, ch, tid
}

// inWrite returns once thread tid waits in write(2), as /proc/self/task/TID/syscall
// shows: the pty is full, so it sleeps there.
func inWrite(t *testing.T, tid int) {
	t.Helper()
	path := fmt.Sprintf("/proc/self/task/%d/syscall", tid)
	want := strconv.Itoa(unix.SYS_WRITE) + " "
	deadline := time.Now().Add(ptytest.WaitTimeout)
	for {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(string(data), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the writing thread is not in write(2): %s", data)
		}
		time.Sleep(time.Millisecond) // Polling interval under the deadline above.
	}
}

// TestBlockingWriteInterrupted: a large Write waits in a blocking write(2), which Close
// and a write deadline still interrupt.
func TestBlockingWriteInterrupted(t *testing.T) {
	t.Run("Close", func(t *testing.T) {
		m, _, _ := openMaster(t)
		writing := blockedWriter(t, m)
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if r := await(t, writing); !errors.Is(r.err, os.ErrClosed) || r.n >= 4<<20 {
			t.Fatalf("Write = %d, %v; want os.ErrClosed and a short count", r.n, r.err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		m, _, _ := openMaster(t)
		writing := blockedWriter(t, m)
		if err := m.SetWriteDeadline(time.Now()); err != nil {
			t.Fatal(err)
		}
		r := await(t, writing)
		if !errors.Is(r.err, os.ErrDeadlineExceeded) || r.n >= 4<<20 {
			t.Fatalf("Write = %d, %v; want the deadline error and a short count", r.n, r.err)
		}
		// The descriptor is non-blocking again: a Read of nothing waits in poll(2)
		// and its deadline ends it.
		if err := m.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if r := await(t, goRead(m, make([]byte, 10))); !errors.Is(r.err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read = %d, %v; want the deadline error", r.n, r.err)
		}
	})
}

// TestBlockingWriteSurvivesStraySignal: a signal that is not an interrupt (the runtime
// preempts with SIGURG at any time) ends write(2) early with what it wrote; the Write
// goes on blocking in write(2) instead of falling back to poll(2).
func TestBlockingWriteSurvivesStraySignal(t *testing.T) {
	m, _, _ := openMaster(t)
	writing, tids, tid := startBlockedWriter(t, m)
	if err := unix.Tgkill(unix.Getpid(), tid, unix.SIGURG); err != nil {
		t.Fatal(err)
	}
	select {
	case again := <-tids:
		if again != tid {
			t.Fatalf("the Write went on on thread %d, not %d", again, tid)
		}
	case r := <-writing:
		t.Fatalf("Write = %d, %v; want it still blocked", r.n, r.err)
	case <-time.After(ptytest.WaitTimeout):
		t.Fatal("the Write did not go back into a blocking write(2) after the signal")
	}
	inWrite(t, tid)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if r := await(t, writing); !errors.Is(r.err, os.ErrClosed) {
		t.Fatalf("Write = %d, %v; want os.ErrClosed", r.n, r.err)
	}
}

// TestReadDuringBlockingWrite: while a Write waits in a blocking write(2), Reads wait in
// poll(2) and get what the child writes; their deadline still works, and Close ends both.
func TestReadDuringBlockingWrite(t *testing.T) {
	m, tty, waits := openMaster(t)
	writing := blockedWriter(t, m)
	buf := make([]byte, 10)
	got := goRead(m, buf)
	waitFor(t, waits, unix.POLLIN)
	if _, err := tty.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	if r := await(t, got); r.err != nil || string(buf[:r.n]) != "hi" {
		t.Fatalf("Read = %q, %v; want hi", buf[:r.n], r.err)
	}
	if err := m.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if r := await(t, goRead(m, buf)); !errors.Is(r.err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read = %d, %v; want the deadline error", r.n, r.err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if r := await(t, writing); !errors.Is(r.err, os.ErrClosed) {
		t.Fatalf("Write = %d, %v; want os.ErrClosed", r.n, r.err)
	}
}
