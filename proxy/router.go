package proxy

import (
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/internal/kittykey"
	"github.com/xferterm/xferterm/internal/pollfd"
)

// router is the input direction: stdin → (borrower | Ctrl+C check) → pty writer.
// Every field is owned by the router goroutine.
type router struct {
	c    *Console
	eng  Engine // may be nil
	w    *ptyWriter
	ptmx *pollfd.File // to read the child's VEOF and ICANON at EOF
	wake int          // read end of a pipe that Run closes to stop run

	last byte // the last byte sent to the child
	sent bool // whether any byte was
}

// run reads stdin until EOF, an error, or Run's stop. Each read is one unit: it is
// handed on whole, never split or merged. When stdin is not a terminal, its EOF is
// passed on the way a terminal would pass on a ^D.
//
// stdin is read with poll(2) and read(2) on its descriptor, not through os.File: a
// Read on a blocking os.File cannot be interrupted, and making stdin non-blocking would
// change the file description the user's shell shares with us.
func (r *router) run() {
	for {
		var buf []byte
		select {
		case buf = <-r.w.free:
		case <-r.w.done:
			return
		}
		n, toChild, err := r.read(buf[:cap(buf)])
		if n > 0 {
			r.deliver(buf[:n], toChild)
		} else {
			r.w.free <- buf // Never blocks: it came from there.
		}
		if err == nil {
			continue
		}
		if err == io.EOF && !r.c.inTerm {
			r.sendEOF()
		}
		// A terminal that hangs up (EIO) also sends SIGHUP, which Run handles.
		return
	}
}

// read waits for stdin to be readable, or for the wake pipe to be closed (errStopped),
// and reads. toChild is how many of the n bytes read go to the child whether or not the
// console is borrowed: those typed before a borrow began (see Console.readIn).
func (r *router) read(buf []byte) (n, toChild int, err error) {
	fds := []unix.PollFd{
		{Fd: int32(r.c.inFd), Events: unix.POLLIN},
		{Fd: int32(r.wake), Events: unix.POLLIN},
	}
	for {
		fds[0].Revents, fds[1].Revents = 0, 0
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return 0, 0, fmt.Errorf("proxy: poll stdin: %w", err)
		}
		if fds[1].Revents != 0 {
			return 0, 0, errStopped
		}
		if fds[0].Revents == 0 {
			continue
		}
		n, toChild, err := r.c.readIn(buf)
		switch {
		case err == unix.EINTR || err == unix.EAGAIN:
			continue
		case err != nil:
			return 0, 0, fmt.Errorf("proxy: read stdin: %w", err)
		case n == 0:
			return 0, 0, io.EOF
		}
		return n, toChild, nil
	}
}

// deliver routes one unit: to the borrower while the console is borrowed (what the
// borrower leaves when it releases goes on to the child), else to the child, except that
// Ctrl+C while an approved transfer is running cancels the transfer instead. Ctrl+C is
// taken only while the user can see why: a prompt is up (then it is the prompt's key), or
// a transfer they allowed is running; a session that is still collecting its specs or
// waiting for its question leaves it to the child. The first toChild bytes go to
// the child in any case: they were typed before the borrow began.
// u is a buffer from r.w.free; it goes back there, here or through the writer.
func (r *router) deliver(u []byte, toChild int) {
	buf := u[:0]
	if toChild < len(u) {
		if rest, fed := r.c.feed(u[toChild:]); fed {
			// Keep the buffer's start, so its capacity.
			u = buf[:toChild+copy(buf[toChild:toChild+len(rest)], rest)]
		}
	}
	if r.eng != nil && kittykey.MayHoldCtrlC(u) && r.eng.Running() {
		var found bool
		if u, found = kittykey.StripCtrlC(u); found {
			r.eng.CancelAll()
		}
	}
	if len(u) == 0 {
		r.w.free <- buf // Never blocks: it came from there.
		return
	}
	r.last, r.sent = u[len(u)-1], true
	select {
	case r.w.keys <- u:
	case <-r.w.done:
	}
}

// sendEOF passes on the end of a non-terminal stdin as a terminal would: the child's EOF
// character (VEOF, normally ^D). In canonical mode after a partial line, it takes two:
// the first ends the line, the second reads as EOF.
func (r *router) sendEOF() {
	veof, canon := byte(0x04), true
	if t, err := childTermios(r.ptmx); err == nil {
		veof, canon = t.Cc[unix.VEOF], t.Lflag&unix.ICANON != 0
	}
	if veof == 0 { // _POSIX_VDISABLE: the child has no EOF character.
		return
	}
	var buf []byte
	select {
	case buf = <-r.w.free:
	case <-r.w.done:
		return
	}
	buf = append(buf, veof)
	if canon && r.sent && r.last != '\n' && r.last != '\r' {
		buf = append(buf, veof)
	}
	r.deliver(buf, len(buf))
}
