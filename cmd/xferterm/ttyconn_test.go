package main

import (
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"
)

// ttyConnRaw puts f in raw mode without making it blocking (f.Fd would).
func ttyConnRaw(f *os.File) error {
	conn, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var rerr error
	if err := conn.Control(func(fd uintptr) { _, rerr = term.MakeRaw(int(fd)) }); err != nil {
		return err
	}
	return rerr
}

// TestTTYConnWritesThroughBlockingFD: writes go through the blocking descriptor whole,
// reads through the non-blocking one, and a write deadline is accepted (and ignored)
// when the blocking descriptor is in use.
func TestTTYConnWritesThroughBlockingFD(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer func() { _ = ptmx.Close(); _ = tty.Close() }()
	fd, err := syscall.Open(tty.Name(), syscall.O_WRONLY|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := os.NewFile(uintptr(fd), tty.Name())
	defer func() { _ = w.Close() }()
	c := &ttyConn{File: tty, w: w}

	// More than a pty takes at once: one Write call puts it all in.
	msg := make([]byte, 200<<10)
	for i := range msg {
		msg[i] = 'a' + byte(i%26)
	}
	if err := ttyConnRaw(tty); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		b := make([]byte, len(msg))
		_, _ = io.ReadFull(ptmx, b)
		got <- b
	}()
	n, err := c.Write(msg)
	if n != len(msg) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	select {
	case b := <-got:
		if string(b) != string(msg) {
			t.Fatal("the other side read other bytes")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the other side did not get the bytes")
	}
	if err := c.SetWriteDeadline(time.Now()); err != nil {
		t.Errorf("SetWriteDeadline = %v", err)
	}
	if err := c.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatalf("SetReadDeadline = %v", err)
	}
	if _, err := c.Read(make([]byte, 1)); !os.IsTimeout(err) {
		t.Errorf("Read after a past deadline = %v, want a timeout", err)
	}

	// Without the blocking descriptor everything goes through the file.
	plain := &ttyConn{File: tty}
	if err := plain.SetWriteDeadline(time.Time{}); err != nil {
		t.Errorf("SetWriteDeadline without w = %v", err)
	}
}
