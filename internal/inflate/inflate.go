// Package inflate decompresses a zlib stream that arrives in pieces pushed by the
// caller: the data packets of one file, cut at arbitrary points (terminal-side.md §9).
// Both ends of a transfer need it: the engine (fs) for what a remote sends, the client
// for what the terminal sends. It is the one implementation of both.
package inflate

import (
	"bufio"
	"errors"
	"io"
	"iter"

	"github.com/klauspost/compress/zlib"
)

// Faults of a stream. Write and Close return them (or wrap them, for ErrCorrupt).
var (
	ErrCorrupt   = errors.New("inflate: corrupt zlib stream")
	ErrTruncated = errors.New("inflate: truncated zlib stream")
	ErrTrailing  = errors.New("inflate: data after the end of the zlib stream")
)

// Writer decompresses one zlib stream, which spans any number of Writes cut at
// arbitrary points, into its output. The decompressor pulls its input, so
// it runs as a coroutine (iter.Pull) that the caller resumes with each packet: Write
// lends it the packet and returns once it has used all of it and asks for more (or has
// stopped), so the caller's buffer is free again and the output written so far is on
// disk. Nothing runs between two calls. A resume switches directly to the coroutine and
// back on the caller's thread, which costs far less than handing each ~4 KiB packet to
// a goroutine through channels and waiting for it (two scheduler wake-ups per packet),
// and the caller may read the output's state (the size written) as soon as Write
// returns, with no synchronisation of its own.
//
// The input reaches the decompressor through a bufio.Reader, for which it has a fast
// Huffman decoder (its generic one calls ReadByte through an interface per byte). The
// buffer only ever holds bytes of packets already lent, so what it holds after the end
// of the stream is trailing data, like the rest of z.cur.
//
// Memory per open file is bounded and independent of the input: the decompressor's
// state (its 32 KiB window and tables), the inflateIn input buffer, the inflateBuf
// output buffer and the coroutine's stack. Packets are never queued; each is borrowed
// only for the duration of its Write.
//
// Unlike kitty, a stream that ends early (Close before the zlib trailer) or that is
// followed by more bytes is an error.
//
// Write and Close are called by one goroutine at a time (the engine's, with its lock
// held; the client's session loop), and never by a goroutine locked to its OS thread
// (runtime.LockOSThread): a switch to a coroutine with other thread locking than at its
// creation is a fatal runtime error. No caller in this module locks its thread. The
// coroutine starts with the first Write or Close and never outlives Close, which must
// be called once the stream is done with, also when it is thrown away.
type Writer struct {
	resume func() (struct{}, bool) // runs the decompressor until it wants input (true) or returns (false)
	stop   func()                  // ends the coroutine; see Close
	done   bool                    // the decompressor has returned
	closed bool

	// Used by the coroutine while it runs, and by the caller between two resumes.
	yield func(struct{}) bool // suspends the decompressor; only the coroutine calls it
	out   io.Writer
	br    *bufio.Reader // over z: the decompressor's input
	cur   []byte        // rest of the packet being decompressed
	eof   bool          // Close was called: there is no more input
	ended bool          // the stream ended cleanly
	err   error
}

// Buffer sizes of a Writer.
const (
	inflateBuf = 32 << 10 // output: decompressed bytes per write to the output
	inflateIn  = 4 << 10  // input: a client's data packet
)

// New returns a Writer that writes the decompressed stream to out.
func New(out io.Writer) *Writer {
	z := &Writer{out: out}
	z.br = bufio.NewReaderSize(z, inflateIn)
	z.resume, z.stop = iter.Pull(z.coroutine)
	return z
}

// coroutine is the body of the decompressor's coroutine.
func (z *Writer) coroutine(yield func(struct{}) bool) {
	z.yield = yield
	z.run()
}

// step lends the decompressor the input in z.cur (none after Close) and runs it until it
// has used all of it and wants more, or returns.
func (z *Writer) step() {
	if _, more := z.resume(); !more {
		z.done = true
	}
}

// Write decompresses p into the output. After the stream has ended, any further
// non-empty input is an error.
func (z *Writer) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if z.done || z.closed {
		return 0, z.result(true)
	}
	z.cur = p
	z.step()
	if z.done {
		// The stream ended inside p (trailing bytes are then in z.br or z.cur) or
		// failed.
		if err := z.result(false); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Close ends the input and lets the decompressor finish. It reports a truncated or
// corrupt stream, or an output error. It may be called more than once.
func (z *Writer) Close() error {
	if !z.closed {
		z.closed = true
		z.eof = true
		if !z.done {
			// With eof set the decompressor never asks for input again: it runs to its
			// end. stop is then only a safeguard that the coroutine is gone.
			z.step()
		}
		z.stop()
		z.done = true
	}
	return z.result(false)
}

// result is the outcome once the decompressor has returned. more says whether input
// arrived after it finished.
func (z *Writer) result(more bool) error {
	switch {
	case z.err != nil:
		return z.err
	case z.ended && (more || z.leftover()):
		return ErrTrailing
	case !z.ended:
		return ErrTruncated
	}
	return nil
}

// run decompresses the input into the output until the stream ends or fails, and
// records the outcome.
func (z *Writer) run() {
	zr, err := zlib.NewReader(z.br)
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
			if z.leftover() {
				z.err = ErrTrailing
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
func (z *Writer) inputError(err error) error {
	if z.eof && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)) {
		return ErrTruncated
	}
	return errors.Join(ErrCorrupt, err)
}

// fill makes z.cur non-empty, suspending the decompressor until the next Write when the
// packet is used up. It reports false at the end of the input.
func (z *Writer) fill() bool {
	for len(z.cur) == 0 {
		if z.eof {
			return false
		}
		z.cur = nil // Do not keep the caller's buffer.
		if !z.yield(struct{}{}) {
			// Stopped while waiting: Close has ended the input.
			z.eof = true
		}
	}
	return true
}

// Read is the input of z.br; only the coroutine calls it. It suspends the decompressor
// only once z.cur is used up, and z.br calls it only once its buffer is empty, so each
// packet is decompressed in full before the next is asked for.
func (z *Writer) Read(p []byte) (int, error) {
	if !z.fill() {
		return 0, io.EOF
	}
	n := copy(p, z.cur)
	z.cur = z.cur[n:]
	return n, nil
}

// leftover says whether input remains that the decompressor has not used: after the
// end of the stream, trailing data.
func (z *Writer) leftover() bool {
	return len(z.cur) > 0 || z.br.Buffered() > 0
}
