package pollfd

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/xferterm/xferterm/internal/ptytest"
	"github.com/xferterm/xferterm/internal/termios"
)

// openMaster returns the File of the master of a new pty, and its slave in raw mode;
// the test cleans both up. Each time a Read or Write of the File waits in poll, the
// events it waits for are sent on waits, if there is room.
func openMaster(t *testing.T) (m *File, tty *os.File, waits <-chan int16) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := term.MakeRaw(int(tty.Fd())); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Dup(int(ptmx.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	_ = ptmx.Close() // The duplicate lives on.
	if m, err = New(fd); err != nil {
		t.Fatal(err)
	}
	ch := make(chan int16, 16)
	m.beforePoll = func(ev int16) {
		select {
		case ch <- ev:
		default:
		}
	}
	t.Cleanup(func() { _ = m.Close(); _ = tty.Close() })
	return m, tty, ch
}

// waitFor returns once a call of the master waits in poll for events.
func waitFor(t *testing.T, waits <-chan int16, events int16) {
	t.Helper()
	timeout := time.After(ptytest.WaitTimeout)
	for {
		select {
		case ev := <-waits:
			if ev == events {
				return
			}
		case <-timeout:
			t.Fatalf("no call waits for events %#x", events)
		}
	}
}

// result is what a Read or Write in a goroutine returned.
type result struct {
	n   int
	err error
}

func goRead(m *File, p []byte) <-chan result { return goCall(m.Read, p) }

// goFill writes 4 MiB into m, more than a pty holds, in a goroutine: with a child that
// never reads, the Write waits.
func goFill(m *File) <-chan result { return goCall(m.Write, make([]byte, 4<<20)) }

// goCall runs call(p) in a goroutine and returns the channel its result comes on.
func goCall(call func([]byte) (int, error), p []byte) <-chan result {
	ch := make(chan result, 1)
	go func() {
		n, err := call(p)
		ch <- result{n, err}
	}()
	return ch
}

func await(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(ptytest.WaitTimeout):
		t.Fatal("call still blocked")
		return result{}
	}
}

func TestFileReadWrite(t *testing.T) {
	m, tty, _ := openMaster(t)
	// Child to proxy.
	got := goRead(m, make([]byte, 100))
	if _, err := tty.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if r := await(t, got); r.err != nil || r.n != 5 {
		t.Fatalf("Read = %d, %v; want 5, nil", r.n, r.err)
	}
	// Proxy to child, more than the pty holds: Write waits for the reader.
	want := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	done := make(chan result, 1)
	go func() {
		n, err := m.Write(want)
		done <- result{n, err}
	}()
	buf := make([]byte, 0, len(want))
	for len(buf) < len(want) {
		n, err := tty.Read(buf[len(buf):cap(buf)])
		if err != nil {
			t.Fatal(err)
		}
		buf = buf[:len(buf)+n]
	}
	if r := await(t, done); r.err != nil || r.n != len(want) {
		t.Fatalf("Write = %d, %v", r.n, r.err)
	}
	if !bytes.Equal(buf, want) {
		t.Fatal("the child read other bytes than were written")
	}
}

func TestFileReadDeadline(t *testing.T) {
	m, tty, waits := openMaster(t)
	// A deadline set while Read waits wakes it.
	got := goRead(m, make([]byte, 10))
	waitFor(t, waits, unix.POLLIN)
	if err := m.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if r := await(t, got); !errors.Is(r.err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read = %d, %v; want the deadline error", r.n, r.err)
	}
	// A passed deadline does not hide data that is there.
	if _, err := tty.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if n, err := m.Read(buf); err != nil || string(buf[:n]) != "x" {
		t.Fatalf("Read = %q, %v; want x", buf[:n], err)
	}
	// Cleared, Read waits again, and data ends the wait.
	if err := m.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	got = goRead(m, buf)
	if _, err := tty.Write([]byte("y")); err != nil {
		t.Fatal(err)
	}
	if r := await(t, got); r.err != nil || string(buf[:r.n]) != "y" {
		t.Fatalf("Read = %q, %v; want y", buf[:r.n], r.err)
	}
	// A future deadline passes while Read waits.
	if err := m.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if r := await(t, goRead(m, buf)); !errors.Is(r.err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read = %d, %v; want the deadline error", r.n, r.err)
	}
}

func TestFileWriteDeadline(t *testing.T) {
	m, tty, waits := openMaster(t)
	// With a deadline set, a large Write waits in poll(2), not in a blocking write(2).
	if err := m.SetWriteDeadline(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The child never reads: the Write fills the pty and waits, until the deadline.
	writing := goFill(m)
	waitFor(t, waits, unix.POLLOUT)
	if err := m.SetWriteDeadline(time.Now()); err != nil {
		t.Fatal(err)
	}
	r := await(t, writing)
	if !errors.Is(r.err, os.ErrDeadlineExceeded) || r.n >= 4<<20 {
		t.Fatalf("Write = %d, %v; want a short count and the deadline error", r.n, r.err)
	}
	// The write deadline does not touch reads.
	if _, err := tty.Write([]byte("z")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if n, err := m.Read(buf); err != nil || string(buf[:n]) != "z" {
		t.Fatalf("Read = %q, %v; want z", buf[:n], err)
	}
	// Cleared, writing works again once the child reads.
	if err := m.SetWriteDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := termios.FlushInput(int(tty.Fd())); err != nil {
		t.Fatal(err)
	}
	if n, err := m.Write([]byte("ok")); err != nil || n != 2 {
		t.Fatalf("Write = %d, %v; want 2, nil", n, err)
	}
}

func TestFileCloseInterrupts(t *testing.T) {
	before := openFDs(t)
	m, tty, waits := openMaster(t)
	reading := goRead(m, make([]byte, 10))
	waitFor(t, waits, unix.POLLIN)
	// A deadline makes the Write wait in poll(2) (TestBlockingWriteInterrupted has the
	// blocking write(2)); an hour is never reached.
	if err := m.SetWriteDeadline(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	writing := goFill(m) // The child never reads: this fills the pty and waits.
	waitFor(t, waits, unix.POLLOUT)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if r := await(t, reading); !errors.Is(r.err, os.ErrClosed) {
		t.Errorf("Read = %d, %v; want os.ErrClosed", r.n, r.err)
	}
	if r := await(t, writing); !errors.Is(r.err, os.ErrClosed) || r.n >= 4<<20 {
		t.Errorf("Write = %d, %v; want os.ErrClosed and a short count", r.n, r.err)
	}
	// Closed for good, and the child's side is hung up.
	if _, err := m.Read(make([]byte, 1)); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Read after Close = %v", err)
	}
	if _, err := m.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close = %v", err)
	}
	if err := m.SetReadDeadline(time.Now()); !errors.Is(err, os.ErrClosed) {
		t.Errorf("SetReadDeadline after Close = %v", err)
	}
	if err := m.Control(func(int) error { return nil }); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Control after Close = %v", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := tty.Write([]byte("x")); !errors.Is(err, unix.EIO) {
		t.Errorf("child's write after Close = %v; want EIO (hung up)", err)
	}
	_ = tty.Close()
	if after := openFDs(t); after != before {
		t.Errorf("%d descriptors open before, %d after", before, after)
	}
}

func TestFileHangup(t *testing.T) {
	m, tty, waits := openMaster(t)
	got := goRead(m, make([]byte, 10))
	waitFor(t, waits, unix.POLLIN)
	if err := tty.Close(); err != nil {
		t.Fatal(err)
	}
	if r := await(t, got); !errors.Is(r.err, unix.EIO) {
		t.Fatalf("Read = %d, %v; want EIO once the child's side is closed", r.n, r.err)
	}
}

// openFDs counts this process's descriptors of the kinds a File holds: pty masters, and
// eventfds or pipes (the portable build).
func openFDs(t *testing.T) int {
	t.Helper()
	return ptytest.OpenFDs(t, "/dev/ptmx", "/dev/pts/ptmx", "anon_inode:[eventfd]", "pipe:*")
}
