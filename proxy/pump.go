package proxy

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/xferterm/xferterm/internal/pollfd"
	"github.com/xferterm/xferterm/scanner"
)

// pumpBufSize is the size of one read from the ptmx. The kernel hands out at most a few
// KiB per read anyway; 32 KiB keeps the syscall count low when the child floods.
const pumpBufSize = 32 << 10

// drainIdle ends the drain after the child has exited: the pump reads until EIO, or
// until no output has come for this long (a background process may keep the pty open).
const drainIdle = 200 * time.Millisecond

// pump is the output direction: ptmx → scanner → terminal, payloads → engine.
// Everything but exited is owned by the pump goroutine until done is closed.
type pump struct {
	f     *pollfd.File
	sc    *scanner.Scanner
	sniff scanner.Sniffer // follows the pass-through bytes, for the dialect of each payload
	eng   Engine          // may be nil

	exited atomic.Bool // set by Run once the child has exited: drain, then stop

	// watch asks for a token in seen (capacity 1) at the next output of the child; it is
	// cleared when the token is sent. Set by Run's session (nudge).
	watch atomic.Bool
	seen  chan struct{}

	outErr error         // first error writing to the terminal; read after failed or done
	failed chan struct{} // closed at the first error writing to the terminal
	done   chan struct{} // closed when run returns
	err    error         // run's error; read after done
}

func newPump(ptmx *pollfd.File, out io.Writer, eng Engine, maxPayload int) *pump {
	p := &pump{f: ptmx, eng: eng, failed: make(chan struct{}), done: make(chan struct{}), seen: make(chan struct{}, 1)}
	p.sc = scanner.New(sniffWriter{out: out, sniff: &p.sniff}, p.handle, maxPayload)
	return p
}

// sniffWriter passes the scanner's pass-through bytes to the terminal, and what the
// terminal took to the Sniffer.
type sniffWriter struct {
	out   io.Writer
	sniff *scanner.Sniffer
}

func (w sniffWriter) Write(b []byte) (int, error) {
	n, err := w.out.Write(b)
	_, _ = w.sniff.Write(b[:n]) // Never fails.
	return n, err
}

// handle hands one payload to the engine with its dialect, synchronously: while the
// engine works (or its approver waits for the user), the pump does not read the child.
// Errors are dropped: a payload that does not parse gets no reply (terminal-side.md
// §1.3), and a sequence the scanner dropped (too long, cut off) never reaches the engine.
func (p *pump) handle(payload []byte, err error) {
	d := p.sniff.Take() // Each sequence consumes the mark, even one that is dropped.
	if err != nil || p.eng == nil {
		return
	}
	_ = p.eng.HandlePayloadFrom(payload, d) // Dropped; see above.
}

// run reads the child's output until the pty hangs up (EIO once the child and every
// process holding the pty have gone), the ptmx is closed, or the drain after the child's
// exit runs dry. After a failed write to the terminal it keeps reading and discards, so
// that the child never blocks on a terminal that is gone.
func (p *pump) run() {
	defer close(p.done)
	buf := make([]byte, pumpBufSize)
	for {
		if p.exited.Load() {
			// Measured from here, so that time spent in the engine does not count.
			_ = p.f.SetReadDeadline(time.Now().Add(drainIdle)) // Fails only once closed; the read says so.
		}
		n, err := p.f.Read(buf)
		if n > 0 && p.watch.Load() && p.watch.CompareAndSwap(true, false) {
			select {
			case p.seen <- struct{}{}:
			default:
			}
		}
		if n > 0 && p.outErr == nil {
			if _, werr := p.sc.Write(buf[:n]); werr != nil {
				p.fail(werr)
			}
		}
		if err == nil {
			continue
		}
		if p.outErr == nil {
			if ferr := p.sc.Flush(); ferr != nil {
				p.fail(ferr)
			}
		}
		switch {
		case errors.Is(err, syscall.EIO), errors.Is(err, io.EOF),
			errors.Is(err, os.ErrClosed), errors.Is(err, os.ErrDeadlineExceeded):
		default:
			p.err = fmt.Errorf("proxy: read from child: %w", err)
		}
		return
	}
}

func (p *pump) fail(err error) {
	p.outErr = fmt.Errorf("proxy: write to terminal: %w", err)
	close(p.failed)
}
