package main

import (
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/xferterm/xferterm/internal/ptytest"
)

// TestTTYConn: writes go through the blocking descriptor whole, reads through the
// poll(2)-served one with working deadlines, a write deadline is accepted (and ignored)
// when the blocking descriptor is in use, and Close closes both descriptors.
func TestTTYConn(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ptmx.Close(); _ = tty.Close() }()
	if _, err := term.MakeRaw(int(tty.Fd())); err != nil {
		t.Fatal(err)
	}
	before := ptytest.OpenFDs(t, tty.Name())
	c, err := openTTY(tty.Name())
	if err != nil {
		t.Fatal(err)
	}
	if c.w == nil {
		t.Fatal("no blocking descriptor for writes")
	}
	if fl, err := unix.FcntlInt(c.w.Fd(), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK != 0 {
		t.Fatalf("write descriptor flags = %#x, %v; want blocking", fl, err)
	}

	// More than a pty takes at once: one Write call puts it all in.
	msg := make([]byte, 200<<10)
	for i := range msg {
		msg[i] = 'a' + byte(i%26)
	}
	got := make(chan []byte, 1)
	go func() {
		b := make([]byte, len(msg))
		_, _ = io.ReadFull(ptmx, b)
		got <- b
	}()
	if n, err := c.Write(msg); n != len(msg) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	select {
	case b := <-got:
		if string(b) != string(msg) {
			t.Fatal("the other side read other bytes")
		}
	case <-time.After(ptytest.WaitTimeout):
		t.Fatal("the other side did not get the bytes")
	}

	// Reads.
	if _, err := ptmx.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "hi" {
		t.Fatalf("Read = %q, %v; want hi", buf[:n], err)
	}
	if err := c.SetWriteDeadline(time.Now()); err != nil {
		t.Errorf("SetWriteDeadline = %v", err)
	}
	if err := c.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatalf("SetReadDeadline = %v", err)
	}
	if _, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Read after a past deadline = %v, want a timeout", err)
	}

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if after := ptytest.OpenFDs(t, tty.Name()); after != before {
		t.Errorf("%d descriptors of %s open before openTTY, %d after Close", before, tty.Name(), after)
	}
}
