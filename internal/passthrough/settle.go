package passthrough

import (
	"bytes"
	"io"
	"time"
)

// DeadlineReadWriter is a terminal whose reads can be given a deadline (an *os.File).
type DeadlineReadWriter interface {
	io.ReadWriter
	SetReadDeadline(t time.Time) error
}

// Settle waits until the multiplexer has read everything written to tty before it: it
// asks for the primary device attributes (CSI c), which tmux and screen answer
// themselves once they reach the question, and reads tty until the answer
// (ESC [ ? … c) arrives or wait has passed. Whatever else it reads is dropped: replies
// that came too late for the transfer. Call it before Restore, so that turning
// allow-passthrough off cannot drop the transfer's last sequences still in the pane.
// It reports whether the answer came. It leaves tty without a read deadline.
func Settle(tty DeadlineReadWriter, wait time.Duration) bool {
	if _, err := tty.Write([]byte("\x1b[c")); err != nil {
		return false
	}
	if tty.SetReadDeadline(time.Now().Add(wait)) != nil {
		return false
	}
	defer func() { _ = tty.SetReadDeadline(time.Time{}) }() // Best effort: leave it usable.
	var seen []byte
	buf := make([]byte, 4096)
	for {
		n, err := tty.Read(buf)
		seen = append(seen, buf[:n]...)
		if hasDA1Answer(seen) {
			return true
		}
		if len(seen) > 64 {
			seen = seen[len(seen)-64:] // An answer is shorter; keep what may begin one.
		}
		if err != nil {
			return false
		}
	}
}

// hasDA1Answer reports whether b holds ESC [ ? followed by digits and semicolons and c.
func hasDA1Answer(b []byte) bool {
	for {
		i := bytes.Index(b, []byte("\x1b[?"))
		if i < 0 {
			return false
		}
		b = b[i+3:]
		j := 0
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == ';') {
			j++
		}
		if j < len(b) && b[j] == 'c' {
			return true
		}
	}
}
