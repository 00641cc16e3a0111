package client

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zlib"
	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/rsync"
	"github.com/xferterm/xferterm/scanner"
)

// fileSink receives the data of one regular file: through zlib when asked, through the
// rsync patcher when we sent a signature, into a temporary file beside the destination
// that replaces it only when complete and verified. A partial download never replaces a
// good file.
type fileSink struct {
	tmp     *os.File
	old     *os.File // rsync: our copy, the patch's basis
	patcher *rsync.Patcher
	inf     *inflater
	bw      *bufio.Writer // over tmp: a write syscall per 4 KiB packet would cost more than the copy
	w       io.Writer     // where packet data goes

	// written counts the bytes written towards tmp. The inflater's goroutine writes there,
	// so the count is atomic, and the session goroutine passes it on to the display.
	written  atomic.Int64
	reported int64
	disp     *display
}

func newFileSink(e *recvEntry, disp *display) (*fileSink, error) {
	tmp, err := os.CreateTemp(filepath.Dir(e.local), "."+filepath.Base(e.local)+".xferterm-*")
	if err != nil {
		return nil, err
	}
	s := &fileSink{tmp: tmp, disp: disp, bw: bufio.NewWriterSize(tmp, sinkBuf)}
	var out io.Writer = &countingWriter{w: s.bw, n: &s.written}
	if e.useRsync {
		old, err := os.Open(e.local)
		if err != nil {
			s.abort()
			return nil, err
		}
		fi, err := old.Stat()
		if err != nil {
			_ = old.Close() // Read-only.
			s.abort()
			return nil, err
		}
		s.old = old
		s.patcher = rsync.NewPatcher(old, fi.Size(), rsync.BlockSize(e.size), out)
		out = s.patcher
	}
	if e.zip {
		s.inf = newInflater(out)
		out = s.inf
	}
	s.w = out
	return s, nil
}

func (s *fileSink) write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	_, err := s.w.Write(p)
	s.report()
	return err
}

// report passes the bytes written since the last report to the display. It runs on the
// session goroutine, which owns the display.
func (s *fileSink) report() {
	n := s.written.Load()
	s.disp.add(n - s.reported)
	s.reported = n
}

// commit ends the data, verifies it, applies e's metadata and renames the temporary
// file over the destination. On error the temporary file is removed.
func (s *fileSink) commit(e *recvEntry) error {
	err := s.end()
	if err == nil {
		err = applyMeta(s.tmp.Name(), e.perm, e.mtime, false)
	}
	if err == nil {
		err = s.tmp.Close()
	}
	if err == nil {
		err = os.Rename(s.tmp.Name(), e.local)
	}
	if err != nil {
		s.abort()
		return err
	}
	s.closeOld()
	return nil
}

// sinkBuf is the size of the buffer in front of the temporary file.
const sinkBuf = 64 << 10

// end flushes the stages in order: zlib, then the patcher's verification, then the
// buffer in front of the temporary file.
func (s *fileSink) end() error {
	if s.inf != nil {
		inf := s.inf
		s.inf = nil
		if err := inf.Close(); err != nil {
			return err
		}
	}
	if s.patcher != nil {
		if err := s.patcher.Close(); err != nil {
			return err
		}
	}
	if err := s.bw.Flush(); err != nil {
		return err
	}
	s.report()
	return nil
}

// abort removes the temporary file. It may be called more than once.
func (s *fileSink) abort() {
	if s.inf != nil {
		s.inf.abort()
		s.inf = nil
	}
	if s.tmp != nil {
		_ = s.tmp.Close()           // Being thrown away.
		_ = os.Remove(s.tmp.Name()) // Best effort.
		s.tmp = nil
	}
	s.closeOld()
}

func (s *fileSink) closeOld() {
	if s.old != nil {
		_ = s.old.Close() // Read-only.
		s.old = nil
	}
}

// Sizes of the inflater's batches of compressed input.
const (
	inflateBatch   = 64 << 10 // compressed bytes handed to the goroutine at once
	inflateBatches = 3        // batches in existence: being filled, queued, being inflated
	inflateIn      = 32 << 10 // the decompressor's read buffer
)

// inflater decompresses one zlib stream pushed in pieces. Go's zlib reader pulls, so a
// goroutine runs it. Write copies the packets into a batch and hands whole batches to
// the goroutine through a channel: the session loop neither waits for each packet to be
// decompressed nor wakes the goroutine once per 4 KiB packet (two context switches per
// packet, which cost more than the decompression itself). At most inflateBatches
// batches exist, so memory stays bounded and a slow disk blocks Write.
type inflater struct {
	cur    []byte        // the batch being filled; owned by the writer
	made   int           // batches allocated so far
	full   chan []byte   // batches for the goroutine; closed by Close
	free   chan []byte   // emptied batches, back to the writer
	quit   chan struct{} // closed by abort
	exited chan struct{} // closed when the goroutine returns
	err    error         // the goroutine's result; read after exited is closed
	closed bool          // full is closed
	held   []byte        // the goroutine's current batch (owned by the goroutine)
	rest   []byte        // its unread part (owned by the goroutine)
}

var errAborted = errors.New("client: aborted")

func newInflater(dst io.Writer) *inflater {
	inf := &inflater{
		full:   make(chan []byte, 1),
		free:   make(chan []byte, inflateBatches),
		quit:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	inf.cur = make([]byte, 0, inflateBatch)
	inf.made = 1
	go func() {
		defer close(inf.exited)
		inf.err = inflate(dst, inf)
	}()
	return inf
}

// inflate copies the decompression of the zlib stream in src to dst and requires that
// nothing follows the stream. The decompressor reads through a bufio.Reader: for that
// type it has a fast Huffman decoder (its generic one calls ReadByte through an
// interface per byte), and, as with any io.ByteReader, it reads no further than the end
// of its stream, so what follows is still in br to be detected.
func inflate(dst io.Writer, src io.Reader) error {
	br := bufio.NewReaderSize(src, inflateIn)
	zr, err := zlib.NewReader(br)
	if err != nil {
		return fmt.Errorf("bad zlib stream: %w", err)
	}
	if _, err := io.Copy(dst, zr); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return errors.New("truncated zlib stream")
		}
		return err
	}
	if n, _ := io.Copy(io.Discard, br); n > 0 {
		return fmt.Errorf("%d bytes after the end of the zlib stream", n)
	}
	return nil
}

// Write queues p for decompression. It fails once the decompression has failed.
func (f *inflater) Write(p []byte) (int, error) {
	if f.closed {
		return 0, errAborted
	}
	done := 0
	for done < len(p) {
		n := copy(f.cur[len(f.cur):cap(f.cur)], p[done:])
		f.cur = f.cur[:len(f.cur)+n]
		done += n
		if len(f.cur) == cap(f.cur) {
			if err := f.flush(); err != nil {
				return 0, err
			}
		}
	}
	return len(p), nil
}

// flush hands the current batch to the goroutine and takes an empty one.
func (f *inflater) flush() error {
	select {
	case f.full <- f.cur:
	case <-f.exited:
		return f.failure()
	}
	f.cur = nil
	select {
	case b := <-f.free:
		f.cur = b[:0]
		return nil
	default:
	}
	if f.made < inflateBatches {
		f.made++
		f.cur = make([]byte, 0, inflateBatch)
		return nil
	}
	select {
	case b := <-f.free:
		f.cur = b[:0]
		return nil
	case <-f.exited:
		return f.failure()
	}
}

// failure is the error of a goroutine that returned before the end of the input.
func (f *inflater) failure() error {
	if f.err != nil {
		return f.err
	}
	return errors.New("data after the end of the zlib stream")
}

// Read is the decompressor's input; only the goroutine calls it.
func (f *inflater) Read(p []byte) (int, error) {
	if !f.fill() {
		return 0, f.endErr()
	}
	n := copy(p, f.rest)
	f.rest = f.rest[n:]
	return n, nil
}

// fill makes f.rest non-empty, giving the previous batch back. It reports false at the
// end of the input or on abort.
func (f *inflater) fill() bool {
	for len(f.rest) == 0 {
		if f.held != nil {
			f.free <- f.held[:0] // Never blocks: free holds every batch there is.
			f.held = nil
		}
		select {
		case b, ok := <-f.full:
			if !ok {
				return false
			}
			f.held, f.rest = b, b
		case <-f.quit:
			return false
		}
	}
	return true
}

// endErr is what Read returns when fill fails.
func (f *inflater) endErr() error {
	select {
	case <-f.quit:
		return errAborted
	default:
		return io.EOF
	}
}

// Close ends the input and returns the result of the decompression.
func (f *inflater) Close() error {
	if !f.closed {
		if len(f.cur) > 0 {
			select {
			case f.full <- f.cur:
			case <-f.exited:
			}
			f.cur = nil
		}
		f.closed = true
		close(f.full)
	}
	<-f.exited
	return f.err
}

// abort stops the goroutine and waits for it.
func (f *inflater) abort() {
	select {
	case <-f.quit:
	default:
		close(f.quit)
	}
	<-f.exited
}

// countingWriter counts the bytes written to w; it may be used from another goroutine.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// applyMeta sets the permission bits and mtime of p when given. With symlink, p is a
// symlink: only its own times are set (there are no link permissions on Linux).
func applyMeta(p string, perm, mtime scanner.OptInt, symlink bool) error {
	if perm.Set && !symlink {
		if err := os.Chmod(p, os.FileMode(perm.Value)&os.ModePerm); err != nil {
			return err
		}
	}
	if mtime.Set {
		ts := []unix.Timespec{unix.NsecToTimespec(time.Now().UnixNano()), unix.NsecToTimespec(mtime.Value)}
		flags := 0
		if symlink {
			flags = unix.AT_SYMLINK_NOFOLLOW
		}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, flags); err != nil {
			return &os.PathError{Op: "utimes", Path: p, Err: err}
		}
	}
	return nil
}

// tempName returns a fresh hidden name beside p.
func tempName(p string) string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on Linux.
	return filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".xferterm-"+hex.EncodeToString(b[:]))
}

// replaceWithSymlink creates a symlink to target and renames it over p.
func replaceWithSymlink(target, p string, mtime scanner.OptInt) error {
	tmp := tempName(p)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	err := applyMeta(tmp, scanner.OptInt{}, mtime, true)
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		_ = os.Remove(tmp) // Best effort.
	}
	return err
}

// replaceWithLink makes p a hard link to target, replacing what is there.
func replaceWithLink(target, p string) error {
	tmp := tempName(p)
	if err := os.Link(target, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		_ = os.Remove(tmp) // Best effort.
		return err
	}
	return nil
}
