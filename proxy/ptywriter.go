package proxy

import (
	"fmt"

	"github.com/xferterm/xferterm/internal/pollfd"
)

// Sizes of the keystroke units in flight between the router and the pty writer.
const (
	keyBufSize = 32 << 10 // one read from stdin
	keyBufs    = 4        // the router can read this many units ahead of the writer
	// pullMax is what the writer asks Engine.Pull for at a time; the engine may return
	// a little more (one whole sequence).
	pullMax = 64 << 10
)

// ptyWriter is the only writer into the child's input. Each unit (a keystroke read, an
// Engine.Pull result) is written whole before the next one starts, so escape sequences
// are never interleaved. It may block for as long as the child does not read; nothing
// else waits for it but the router.
type ptyWriter struct {
	f   *pollfd.File
	eng Engine // may be nil

	keys chan []byte     // units from the router, unbuffered
	free chan []byte     // empty unit buffers, back to the router; capacity keyBufs
	stop <-chan struct{} // closed by Run to end run
	done chan struct{}   // closed when run returns
	err  error           // why run returned, if not stop; read after done
}

func newPtyWriter(ptmx *pollfd.File, eng Engine, stop <-chan struct{}) *ptyWriter {
	w := &ptyWriter{
		f: ptmx, eng: eng,
		keys: make(chan []byte),
		free: make(chan []byte, keyBufs),
		stop: stop,
		done: make(chan struct{}),
	}
	for range keyBufs {
		w.free <- make([]byte, 0, keyBufSize)
	}
	return w
}

// run writes units until stop is closed or a write fails (the child has gone, or Run closed
// the master to interrupt it).
func (w *ptyWriter) run() {
	defer close(w.done)
	var ready <-chan struct{}
	if w.eng != nil {
		ready = w.eng.Ready()
	}
	var pulled []byte
	for {
		select {
		case <-w.stop:
			return
		case u := <-w.keys:
			_, err := w.f.Write(u)
			w.free <- u[:0] // Never blocks: there are keyBufs buffers in all.
			if err != nil {
				w.err = fmt.Errorf("proxy: write to child: %w", err)
				return
			}
		case <-ready:
			// One Pull per token: the engine leaves another token when more is pending,
			// so keystrokes get their turn between chunks of outgoing data.
			pulled = w.eng.Pull(pulled[:0], pullMax)
			if len(pulled) == 0 {
				continue
			}
			if _, err := w.f.Write(pulled); err != nil {
				w.err = fmt.Errorf("proxy: write to child: %w", err)
				return
			}
		}
	}
}
