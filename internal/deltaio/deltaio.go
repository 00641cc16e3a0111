// Package deltaio holds the streaming parts that the two delta formats share: package
// rsync (kitty's format) and package rsync/librsync (librsync's). Each keeps its own
// algorithm and encoding; this package only moves bytes: the window of the new file a
// differ slides over, the differ's undelivered output, the signature reader that encodes a
// file block by block, the decoder's split of a signature into its header and entries, and
// the patcher's copy of a range of the old file.
//
// It knows nothing of either format. Every value belongs to one goroutine at a time.
package deltaio

import (
	"errors"
	"fmt"
	"io"
)

// maxEmptyReads is how many (0, nil) reads in a row Window.Fill tolerates before it fails
// with io.ErrNoProgress.
const maxEmptyReads = 100

// Window is a differ's view of the new file: a buffer holding a contiguous slice of it,
// where the rolling window starts in it, and where the pending literal run (the bytes the
// window has slid over since the last match) starts.
type Window struct {
	Buf   []byte // len: bytes read; cap: the buffer's size
	Pos   int    // the window starts at Buf[Pos]
	Data  int    // the pending literal run is Buf[Data:Pos]
	Shift bool   // Buf[Pos:] must move to the front before the next read
	EOF   bool   // the new file has ended
}

// MoveToFront moves Buf[Pos:] to the front of Buf, where the literal run (already
// flushed) starts too.
func (w *Window) MoveToFront() {
	k := copy(w.Buf, w.Buf[w.Pos:])
	w.Buf = w.Buf[:k]
	w.Data -= w.Pos
	w.Pos = 0
	w.Shift = false
}

// Fill reads r into the free space of Buf until it holds n bytes or r ends (EOF is then
// set), and returns the bytes it added, contiguous, for a running checksum. It fails on an
// error from r other than io.EOF, and with io.ErrNoProgress after too many empty reads.
func (w *Window) Fill(r io.Reader, n int) ([]byte, error) {
	start := len(w.Buf)
	for empty := 0; len(w.Buf) < n && !w.EOF; {
		m, err := r.Read(w.Buf[len(w.Buf):cap(w.Buf)])
		w.Buf = w.Buf[:len(w.Buf)+m]
		switch {
		case err == io.EOF:
			w.EOF = true
		case err != nil:
			return w.Buf[start:], err
		case m > 0:
			empty = 0
		default:
			if empty++; empty >= maxEmptyReads {
				return w.Buf[start:], io.ErrNoProgress
			}
		}
	}
	return w.Buf[start:], nil
}

// Out is a differ's output not yet delivered: up to 6 pieces, each a slice of its own
// scratch space (the headers of operations) or of the differ's Window (literal data), so
// that nothing is copied before the reader takes it. The Window must not change until
// the pieces that point into it have been delivered.
type Out struct {
	scratch  [64]byte
	nscratch int
	segs     [6][]byte
	nsegs    int
	pos      int // segs[:pos] are delivered
}

// Alloc returns n bytes of scratch space for a header, valid until Reset.
func (o *Out) Alloc(n int) []byte {
	b := o.scratch[o.nscratch : o.nscratch+n]
	o.nscratch += n
	return b
}

// Put appends b to the output.
func (o *Out) Put(b []byte) {
	o.segs[o.nsegs] = b
	o.nsegs++
}

// Empty reports whether nothing was Put since Reset.
func (o *Out) Empty() bool { return o.nsegs == 0 }

// Delivered reports whether every piece has been read out.
func (o *Out) Delivered() bool { return o.pos == o.nsegs }

// Reset forgets the output, all of which must have been delivered.
func (o *Out) Reset() { o.nsegs, o.pos, o.nscratch = 0, 0, 0 }

// Drain copies undelivered output into p and returns how much it copied.
func (o *Out) Drain(p []byte) int {
	n := 0
	for n < len(p) && o.pos < o.nsegs {
		c := copy(p[n:], o.segs[o.pos])
		n += c
		if o.segs[o.pos] = o.segs[o.pos][c:]; len(o.segs[o.pos]) == 0 {
			o.pos++
		}
	}
	return n
}

// BlockReader is the io.Reader of a signature: a header, then one entry per block of the
// old file (the last block may be short), encoded by the format. It reads the old file a
// whole number of blocks at a time, so memory stays bounded whatever its size. Errors are
// sticky.
type BlockReader struct {
	r      io.Reader
	bs     int
	in     []byte                         // a chunk of the old file
	out    []byte                         // encoded bytes; out[pos:] are undelivered
	pos    int                            //
	encode func(dst, block []byte) []byte // appends the entry of block to dst
	wrap   func(err error) error          // gives a read error the format's context
	eof    bool                           //
	err    error                          //
}

// NewBlockReader returns a BlockReader over old with blocks of blockSize bytes, chunkBlocks
// of them read at a time, entries of entrySize bytes (for the buffer's size) written by
// encode after header. wrap is applied to a read error of old.
func NewBlockReader(old io.Reader, blockSize, chunkBlocks, entrySize int, header []byte,
	encode func(dst, block []byte) []byte, wrap func(error) error) *BlockReader {
	out := make([]byte, 0, len(header)+chunkBlocks*entrySize)
	return &BlockReader{
		r: old, bs: blockSize, in: make([]byte, chunkBlocks*blockSize),
		out: append(out, header...), encode: encode, wrap: wrap,
	}
}

// ErrReader returns a reader whose Read fails with err: a signature whose parameters are
// invalid.
func ErrReader(err error) *BlockReader { return &BlockReader{err: err} }

// Read implements io.Reader.
func (s *BlockReader) Read(p []byte) (int, error) {
	for s.pos == len(s.out) {
		if s.err != nil {
			return 0, s.err
		}
		if s.eof {
			return 0, io.EOF
		}
		s.fill()
	}
	n := copy(p, s.out[s.pos:])
	s.pos += n
	return n, nil
}

// fill reads the next chunk of the old file and encodes its blocks.
func (s *BlockReader) fill() {
	n, err := io.ReadFull(s.r, s.in)
	switch err {
	case nil:
	case io.EOF, io.ErrUnexpectedEOF:
		s.eof = true
	default:
		// A partial chunk is not the end of the file: encode none of it.
		s.err = s.wrap(err)
		return
	}
	s.out, s.pos = s.out[:0], 0
	for b := s.in[:n]; len(b) > 0; {
		blk := b[:min(s.bs, len(b))]
		b = b[len(blk):]
		s.out = s.encode(s.out, blk)
	}
}

// CopyAt passes n bytes of old, from off, to emit, through buf (which must not be empty
// when n > 0). Old ending early is io.ErrUnexpectedEOF; a read error is returned with the
// offset it happened at; an error of emit is returned as it is.
func CopyAt(old io.ReaderAt, off, n int64, buf []byte, emit func([]byte) error) error {
	for end := off + n; off < end; {
		b := buf[:min(int64(len(buf)), end-off)]
		m, err := old.ReadAt(b, off)
		if m < len(b) {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return &ReadError{Off: off + int64(m), Err: err}
		}
		if err := emit(b); err != nil {
			return err
		}
		off += int64(m)
	}
	return nil
}

// ReadError is a failed read of the old file at Off.
type ReadError struct {
	Off int64
	Err error
}

func (e *ReadError) Error() string { return fmt.Sprintf("at %d: %v", e.Off, e.Err) }

// Unwrap returns Err.
func (e *ReadError) Unwrap() error { return e.Err }

// Records splits a stream written in pieces, split anywhere, into a header of a fixed size
// and records of the size the header decides: a signature. Headers and records are at most
// maxRecord bytes; a piece is held only while it is incomplete. The zero value is ready.
type Records struct {
	buf  [maxRecord]byte // an incomplete header or record
	n    int             // bytes in buf
	size int             // the record size; 0 until the header has been taken
}

// maxRecord is the largest header or record Records takes.
const maxRecord = 64

// Write passes each complete piece of b on: the header, of headerSize bytes, to header,
// which returns the size of the records; then each record to record. It stops at the first
// error of either and returns it.
func (r *Records) Write(b []byte, headerSize int, header func([]byte) (int, error), record func([]byte) error) error {
	if r.size == 0 {
		k := copy(r.buf[r.n:headerSize], b)
		r.n += k
		b = b[k:]
		if r.n < headerSize {
			return nil
		}
		r.n = 0
		size, err := header(r.buf[:headerSize])
		if err != nil {
			return err
		}
		if size < 1 || size > maxRecord {
			return fmt.Errorf("deltaio: record size %d out of range", size)
		}
		r.size = size
	}
	if r.n > 0 { // Leading fringe: complete the held record.
		k := copy(r.buf[r.n:r.size], b)
		r.n += k
		b = b[k:]
		if r.n < r.size {
			return nil
		}
		r.n = 0
		if err := record(r.buf[:r.size]); err != nil {
			return err
		}
	}
	for len(b) >= r.size {
		if err := record(b[:r.size]); err != nil {
			return err
		}
		b = b[r.size:]
	}
	r.n = copy(r.buf[:], b) // Trailing fringe.
	return nil
}

// HeaderDone reports whether the header has been taken.
func (r *Records) HeaderDone() bool { return r.size > 0 }

// Held returns the bytes of the incomplete header or record held.
func (r *Records) Held() int { return r.n }
