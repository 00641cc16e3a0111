package termios_test

import (
	"testing"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/internal/termios"
)

// TestOnAPty reads a pty's settings from both sides, counts typed bytes and flushes them.
func TestOnAPty(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	slave, master := int(tty.Fd()), int(ptmx.Fd())

	want, err := termios.Get(slave)
	if err != nil {
		t.Fatal(err)
	}
	want.Lflag &^= unix.ICANON | unix.ECHO
	want.Cc[unix.VEOF] = 0x05
	if err := unix.IoctlSetTermios(slave, setRequest, want); err != nil {
		t.Fatal(err)
	}
	for name, fd := range map[string]int{"terminal side": slave, "master": master} {
		got, err := termios.Get(fd)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Lflag&(unix.ICANON|unix.ECHO) != 0 || got.Cc[unix.VEOF] != 0x05 {
			t.Errorf("%s: Lflag %#x, VEOF %#x; want what was set", name, got.Lflag, got.Cc[unix.VEOF])
		}
	}

	if n, err := termios.Pending(slave); n != 0 || err != nil {
		t.Fatalf("Pending before typing = %d, %v", n, err)
	}
	if _, err := ptmx.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	// The pty delivers typed bytes to the terminal side asynchronously: wait for them by
	// polling for input, not by sleeping.
	fds := []unix.PollFd{{Fd: int32(slave), Events: unix.POLLIN}}
	if n, err := unix.Poll(fds, 5000); n != 1 || err != nil {
		t.Fatalf("poll = %d, %v", n, err)
	}
	if n, err := termios.Pending(slave); n != 3 || err != nil {
		t.Fatalf("Pending after typing abc = %d, %v; want 3", n, err)
	}
	if err := termios.FlushInput(slave); err != nil {
		t.Fatal(err)
	}
	if n, err := termios.Pending(slave); n != 0 || err != nil {
		t.Fatalf("Pending after FlushInput = %d, %v; want 0", n, err)
	}
}
