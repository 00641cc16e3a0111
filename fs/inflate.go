package fs

import (
	"errors"
	"io"

	"github.com/klauspost/compress/zlib"
)

// inflater decompresses one file's zlib stream (terminal-side.md §9), which spans any
// number of data packets cut at arbitrary points. The decompressor pulls its input, so
// it runs in a goroutine of its own; Write hands it one packet and returns only once the
// goroutine has consumed all of it (or stopped), so the caller's buffer is free again
// and the output written so far is on disk. At most one goroutine runs per inflater, and
// it never outlives close.
//
// Unlike kitty, a stream that ends early (close before the zlib trailer) or that is
// followed by more bytes is an error.
//
// Write and close are called by one goroutine (the engine's, with its lock held).
type inflater struct {
	in     chan []byte   // packets for the goroutine; closed by close
	need   chan struct{} // the goroutine has consumed its packet and wants the next
	done   chan struct{} // closed when the goroutine returns
	closed bool

	// Owned by the goroutine until done is closed.
	out   io.Writer
	cur   []byte // rest of the packet being decompressed
	owed  bool   // a packet was taken and not yet acknowledged on need
	eof   bool   // in was closed
	ended bool   // the stream ended cleanly
	err   error
}

// inflateBuf is the size of the goroutine's output buffer.
const inflateBuf = 32 << 10

func newInflater(out io.Writer) *inflater {
	z := &inflater{
		in:   make(chan []byte),
		need: make(chan struct{}),
		done: make(chan struct{}),
		out:  out,
	}
	go z.run()
	return z
}

// Write decompresses p into the output. After the stream has ended, any further
// non-empty input is an error.
func (z *inflater) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	select {
	case <-z.done:
		return 0, z.result(true)
	default:
	}
	select {
	case z.in <- p:
	case <-z.done:
		return 0, z.result(true)
	}
	select {
	case <-z.need:
		return len(p), nil
	case <-z.done:
		// The stream ended inside p (trailing bytes are then in z.cur) or failed.
		if err := z.result(false); err != nil {
			return 0, err
		}
		return len(p), nil
	}
}

// close ends the input and waits for the goroutine. It reports a truncated or corrupt
// stream, or an output error. It may be called more than once.
func (z *inflater) close() error {
	if !z.closed {
		z.closed = true
		close(z.in)
	}
	<-z.done
	return z.result(false)
}

// result is the outcome once done is closed. more says whether input arrived after the
// goroutine finished.
func (z *inflater) result(more bool) error {
	switch {
	case z.err != nil:
		return z.err
	case z.ended && (more || len(z.cur) > 0):
		return errZlibTrailing
	case !z.ended:
		return errZlibTruncated
	}
	return nil
}

func (z *inflater) run() {
	defer close(z.done)
	zr, err := zlib.NewReader(z)
	if err != nil {
		z.err = z.inputError(err)
		return
	}
	buf := make([]byte, inflateBuf)
	for {
		n, err := zr.Read(buf)
		if n > 0 {
			if _, werr := z.out.Write(buf[:n]); werr != nil {
				z.err = werr
				return
			}
		}
		if err == io.EOF {
			z.ended = true
			if len(z.cur) > 0 {
				z.err = errZlibTrailing
			}
			return
		}
		if err != nil {
			z.err = z.inputError(err)
			return
		}
	}
}

// inputError classifies a decompression error.
func (z *inflater) inputError(err error) error {
	if z.eof && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)) {
		return errZlibTruncated
	}
	return errors.Join(errZlibCorrupt, err)
}

// fill makes z.cur non-empty, acknowledging the previous packet first. It reports false
// at the end of the input.
func (z *inflater) fill() bool {
	for len(z.cur) == 0 {
		if z.eof {
			return false
		}
		if z.owed {
			z.owed = false
			z.need <- struct{}{}
		}
		p, ok := <-z.in
		if !ok {
			z.eof = true
			continue
		}
		z.cur, z.owed = p, true
	}
	return true
}

// Read and ReadByte are the decompressor's input; only the goroutine calls them.
// Implementing io.ByteReader stops the decompressor from reading ahead, so the bytes
// after the stream's end stay in z.cur to be reported.
func (z *inflater) Read(p []byte) (int, error) {
	if !z.fill() {
		return 0, io.EOF
	}
	n := copy(p, z.cur)
	z.cur = z.cur[n:]
	return n, nil
}

func (z *inflater) ReadByte() (byte, error) {
	if !z.fill() {
		return 0, io.EOF
	}
	b := z.cur[0]
	z.cur = z.cur[1:]
	return b, nil
}
