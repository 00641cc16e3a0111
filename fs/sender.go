package fs

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/zlib"
	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// Buffers of the sender.
const (
	sendBufSize    = 64 << 10 // file bytes (or compressed, or delta bytes) read ahead
	deflateInSize  = 32 << 10 // file bytes fed to the compressor at once
	checkEvery     = 8 << 20  // a sent file's size and mtime are re-checked this often
	maxEmptyReads  = 100      // reads returning nothing before a source counts as stuck
	maxSymlinkText = 64 << 10 // a link text longer than this is refused (Linux: 4095)
)

// errChanged reports a file that changed while it was being sent: shorter or longer than
// when it was opened, or with another mtime. The client must not get a mix of old and
// new content passed off as the file.
var errChanged = errors.New("fs: file changed while it was being sent")

// errNotYet is returned by sender.packet when its source read the file without producing
// output yet (the rsync differ bounds the work of one Read over matching blocks): no
// packet now, call again later, with the engine's lock released in between.
var errNotYet = errors.New("fs: no packet yet")

// sendStatus turns a failure to send a requested file into the status the client sees
// (terminal-side.md §7.3, §12); text is scanner.TextAddSendFile when the file could not
// be opened, scanner.TextReadData when reading it failed. It is the only place the
// receive direction does so for a file.
func sendStatus(err error, text string) string {
	if errors.Is(err, errChanged) {
		return scanner.StatusFileChanged
	}
	return scanner.StatusErrno(errnoName(err), text)
}

// request is one data request (`ac=file` after the listing, §7.3).
type request struct {
	fid   string
	path  string
	zlib  bool
	rsync bool

	// dec collects the client's signature (rsync, until end_data); nil before sig is
	// set when the signature did not fit the budget and is dropped: the file then goes
	// as a delta of literal data.
	dec    signatureDecoder
	sig    *delta // the delta against the complete signature (rsync)
	sigLen int64  // signature bytes received

	cost int64 // what it holds of the budget: itself, its signature, its differ
}

// ready reports whether the request can start: it does not wait for a signature.
func (r *request) ready() bool { return !r.rsync || r.sig != nil }

// requestCost is what a request holds of the budget before any signature.
func requestCost(fid, path string) int64 { return costRequest + int64(len(fid)+len(path)) }

// release gives back what r holds of the budget: once it is sent, or fails.
func (d *download) release(r *request) {
	d.acct.give(r.cost)
	r.cost = 0
}

// addRequest queues a data request (§7.3). Requests are checked against the listing as
// they arrive once it is complete, and again (and on disk) when they start.
func (d *download) addRequest(cmd *scanner.Command) {
	queued := len(d.reqs)
	if d.cur != nil {
		queued++
	}
	cost := requestCost(cmd.FileID, cmd.Name)
	if queued >= maxQueued || !d.acct.take(cost) {
		d.fail(scanner.StatusTooManyQueued, "")
		return
	}
	if d.byFID[cmd.FileID] != nil || (d.cur != nil && d.cur.req.fid == cmd.FileID) {
		d.fail(scanner.StatusDuplicateFileID(cmd.FileID), cmd.FileID)
		return
	}
	r := &request{
		fid:   cmd.FileID,
		path:  cmd.Name,
		zlib:  cmd.Compression == scanner.CompressionZlib,
		rsync: cmd.Transmit == scanner.TransmitRsync,
		cost:  cost,
	}
	if d.state == dlServing {
		if st := d.check(r); st != "" {
			d.requestFailed(r, st)
			return
		}
	}
	if r.rsync {
		r.dec = d.deltas().decoder()
	}
	d.reqs = append(d.reqs, r)
	d.byFID[r.fid] = r
	if r.ready() {
		d.ready++
		d.e.signal()
	}
}

// check returns the status refusing r, or "" if the listing allows it: only listed
// paths may be read, and never a directory (§7.3).
func (d *download) check(r *request) string {
	e, ok := d.list.lookup(r.path)
	switch {
	case !ok:
		return scanner.StatusNotListed
	case e.ft == scanner.FileDirectory:
		return scanner.StatusSendDirectory
	}
	return ""
}

// requestFailed ends the session for a request that cannot be served.
func (d *download) requestFailed(r *request, status string) {
	d.release(r)
	d.e.event(transfer.Event{Kind: transfer.EventFile, Direction: transfer.Receive, SessionID: d.id, Path: r.path, Result: status})
	d.fail(status, r.fid)
}

// addSignature takes signature data (`data`/`end_data` from the client) for a queued
// rsync request (§7.3, rsync.md §8.2). Any misuse ends the session. A signature is
// charged to the budget as it arrives (sigFactor); when the budget cannot hold it, it is
// dropped and the file goes as a delta of literal data (deltaFormat.literal): the delta
// direction cannot be declined (rsync.md §8.4), but it can find nothing to reuse.
func (d *download) addSignature(cmd *scanner.Command) {
	r := d.byFID[cmd.FileID]
	switch {
	case r == nil:
		d.fail(scanner.StatusSignatureUnknownFile(cmd.FileID), "")
		return
	case !r.rsync:
		d.fail(scanner.StatusSignatureNotRsync(cmd.FileID), "")
		return
	case r.sig != nil:
		d.fail(scanner.StatusBadSignature, r.fid) // data after its end_data
		return
	}
	r.sigLen += int64(len(cmd.Data))
	d.sigBytes += int64(len(cmd.Data))
	if d.sigBytes > maxSignatureBytes {
		d.fail(scanner.StatusSignatureTooLarge, "")
		return
	}
	if r.dec != nil {
		if n := sigFactor * int64(len(cmd.Data)); d.acct.take(n) {
			r.cost += n
			if _, err := r.dec.Write(cmd.Data); err != nil {
				d.fail(scanner.StatusBadSignature, r.fid)
				return
			}
		} else {
			base := requestCost(r.fid, r.path)
			d.acct.give(r.cost - base)
			r.cost = base
			r.dec = nil // dropped: a literal delta
		}
	}
	if cmd.Action != scanner.ActionEndData {
		return
	}
	var sig delta
	var err error
	if r.dec == nil {
		sig, err = d.deltas().literal()
	} else {
		sig, err = r.dec.finish()
	}
	if err != nil {
		d.fail(scanner.StatusBadSignature, r.fid)
		return
	}
	r.sig, r.dec = &sig, nil
	d.ready++
	d.e.signal()
}

// nextReady takes the first request that can start out of the queue: one still
// waiting for its signature is passed over (§7.3).
func (d *download) nextReady() *request {
	if d.ready == 0 {
		return nil
	}
	for i, r := range d.reqs {
		if !r.ready() {
			continue
		}
		if i == 0 {
			d.reqs[0] = nil
			d.reqs = d.reqs[1:]
		} else {
			d.reqs = append(d.reqs[:i], d.reqs[i+1:]...)
		}
		delete(d.byFID, r.fid)
		d.ready--
		return r
	}
	return nil
}

// sendStep appends the next data packet to dst, starting the next ready request if
// none is being sent. It reports whether calling again may produce more now.
func (d *download) sendStep(dst []byte, start, max int) ([]byte, bool) {
	if d.cur == nil {
		r := d.nextReady()
		if r == nil {
			return dst, false
		}
		s, status := d.open(r)
		if status != "" {
			d.requestFailed(r, status)
			return dst, true
		}
		d.cur = s
	}
	s := d.cur
	// Stop before reading if the packet might not fit: no copy into d.out then.
	if len(dst) > start && len(dst)-start+d.packetBound(s.req.fid) > max {
		return dst, false
	}
	p, last, err := s.packet()
	if err == errNotYet {
		return dst, false // d.cur stays: hasData keeps the pty writer coming back
	}
	if err != nil {
		status := sendStatus(err, scanner.TextReadData)
		d.fileEvent(s, status)
		s.close()
		d.release(s.req)
		d.cur = nil
		d.fail(status, s.req.fid)
		return dst, true
	}
	d.pkt = scanner.Command{Action: scanner.ActionData, ID: d.id, FileID: s.req.fid, Data: p}
	d.encode(&d.pkt)
	if last {
		d.pkt.Action = scanner.ActionEndData
	}
	d.scratch = d.pkt.AppendOSC(d.scratch[:0])
	d.pkt.Data = nil
	if len(dst) > start && len(dst)-start+len(d.scratch) > max {
		d.out = append(d.out, bytes.Clone(d.scratch))
	} else {
		dst = append(dst, d.scratch...)
	}
	if last {
		d.fileEvent(s, scanner.StatusOK)
		s.close()
		d.release(s.req)
		d.cur = nil
	}
	return dst, len(d.out) == 0
}

// packetBound is the most bytes a data packet for fid takes on the wire.
func (d *download) packetBound(fid string) int {
	const keys = len("\x1b]5113;ac=end_data;id=;fid=;d=\x1b\\")
	return keys + len(d.id) + len(fid) + base64.RawStdEncoding.EncodedLen(MaxDataPacket)
}

// fileEvent records the fate of a file that was being sent.
func (d *download) fileEvent(s *sender, result string) {
	d.e.event(transfer.Event{Kind: transfer.EventFile, Direction: transfer.Receive, SessionID: d.id,
		Path: s.req.path, Bytes: s.content(), Result: result})
}

// open prepares r for sending: it re-checks the listing, then looks at the disk. It
// returns the status to fail with when the file cannot be sent. A regular file is opened
// here, when its turn comes (not when it is requested), so queued requests hold no fd.
//
// What is sent must be the very file that was listed: the entry is reached without
// following a final link (lookup) and its (dev, inode) compared with the listing's. A
// directory of the path swapped for a symlink after the listing (which the path-based
// lookup follows) therefore fails with StatusFileChanged instead of reading an unlisted
// file.
func (d *download) open(r *request) (*sender, string) {
	if st := d.check(r); st != "" {
		return nil, st
	}
	listedAs, _ := d.list.lookup(r.path)
	e, err := lookup(unix.AT_FDCWD, r.path)
	if err != nil {
		return nil, sendStatus(err, scanner.TextAddSendFile)
	}
	defer e.close()
	switch {
	case modeOf(&e.st)&unix.S_IFMT == unix.S_IFDIR:
		// Never sent, whether it is the listed inode or a new one (§7.3); said first, so the
		// answer does not depend on whether the file system reused the inode.
		return nil, scanner.StatusSendDirectory
	case keyOf(&e.st) != listedAs.key:
		return nil, scanner.StatusFileChanged // not the listed file
	}
	s := &sender{req: r}
	switch modeOf(&e.st) & unix.S_IFMT {
	case unix.S_IFLNK:
		// §7.3: the link text, as one end_data, never compressed, even with rsync.
		if listedAs.ft != scanner.FileSymlink || e.st.Size > maxSymlinkText {
			return nil, scanner.StatusFileChanged
		}
		text, err := e.readlink(int(e.st.Size))
		if err != nil {
			return nil, sendStatus(err, scanner.TextAddSendFile)
		}
		s.text = len(text)
		s.src = strings.NewReader(text)
	case unix.S_IFREG:
		if listedAs.ft == scanner.FileSymlink {
			return nil, scanner.StatusFileChanged
		}
		f, fst, err := openFile(e, r.path)
		if err != nil {
			return nil, sendStatus(err, scanner.TextAddSendFile)
		}
		s.file = &fileSource{f: f, left: fst.Size, size: fst.Size, mtime: fst.Mtim}
		s.src = s.file
		if st := d.buffers(r); st != "" {
			_ = f.Close() // Read-only.
			return nil, st
		}
		if r.rsync {
			s.src = r.sig.diff(s.src)
		}
		if r.zlib {
			d.zip.reset(s.src)
			s.src = d.zip
		}
	default:
		return nil, scanner.StatusFileChanged // listed, but now a fifo, socket or device
	}
	if d.sendBuf == nil {
		d.sendBuf = make([]byte, sendBufSize)
	}
	s.buf = d.sendBuf
	d.sigBytes -= r.sigLen
	return s, ""
}

// openFile opens the entry e, a regular file, for reading, and checks by fstat that what
// it opened is e's inode and still a regular file: anything else fails with errChanged
// before a byte of it is read.
func openFile(e *entry, path string) (*os.File, unix.Stat_t, error) {
	var st unix.Stat_t
	fd, err := e.openRead()
	if err != nil {
		return nil, st, err
	}
	f := os.NewFile(uintptr(fd), path)
	if err := unix.Fstat(fd, &st); err != nil {
		_ = f.Close() // Read-only.
		return nil, st, err
	}
	if modeOf(&st)&unix.S_IFMT != unix.S_IFREG || keyOf(&st) != keyOf(&e.st) {
		_ = f.Close() // Read-only.
		return nil, st, errChanged
	}
	return f, st, nil
}

// buffers charges to the budget the memory r needs when its turn comes: its differ's
// window (a signature with large blocks needs megabytes: without room for it, the
// file goes as a literal delta, whose window is small), and the session's compressor,
// made once. It returns the status to fail with when even that does not fit.
func (d *download) buffers(r *request) string {
	if r.rsync {
		if !d.acct.take(r.sig.window) {
			lit, err := d.deltas().literal()
			if err != nil {
				return scanner.StatusBadSignature
			}
			r.sig = &lit
			if !d.acct.take(lit.window) {
				return scanner.StatusTooManyQueued
			}
		}
		r.cost += r.sig.window
	}
	if r.zlib && d.zip == nil {
		if !d.acct.take(costDeflate) {
			return scanner.StatusTooManyQueued
		}
		d.zip = newDeflater()
	}
	return ""
}

// sender produces the data packets of one file: the bytes of src (the file, through
// the rsync differ and the compressor when asked), in packets of at most
// MaxDataPacket bytes, the last one being end_data (§7.3). It reads ahead one buffer so
// that the last packet is known to be last, and src only reports EOF once the file has
// been checked unchanged, so an end_data always closes a faithful copy.
type sender struct {
	req  *request
	src  io.Reader
	file *fileSource // nil for a symlink
	text int         // a symlink's text length

	buf   []byte
	r, w  int // buf[r:w] is read but not yet sent
	eof   bool
	empty int // reads in a row that returned nothing
}

// packet returns the payload of the next packet, and whether it is the file's last.
// The slice is valid until the next call.
func (s *sender) packet() ([]byte, bool, error) {
	if s.w-s.r <= MaxDataPacket && !s.eof {
		s.w = copy(s.buf, s.buf[s.r:s.w])
		s.r = 0
		left := s.left()
		for s.w <= MaxDataPacket && !s.eof {
			n, err := s.src.Read(s.buf[s.w:])
			s.w += n
			switch {
			case err == io.EOF:
				s.eof = true
			case err != nil:
				return nil, false, err
			case n == 0 && s.left() < left:
				// The file was read, nothing came out yet: not stuck, busy (the rsync
				// differ over matching blocks). The bytes read so far stay in buf.
				s.empty = 0
				return nil, false, errNotYet
			case n == 0:
				if s.empty++; s.empty >= maxEmptyReads {
					return nil, false, io.ErrNoProgress
				}
			default:
				s.empty = 0
			}
		}
	}
	if s.w-s.r > MaxDataPacket {
		p := s.buf[s.r : s.r+MaxDataPacket]
		s.r += MaxDataPacket
		return p, false, nil
	}
	p := s.buf[s.r:s.w]
	s.r = s.w
	return p, true, nil
}

// left returns the bytes of the file still to read (0 for a symlink).
func (s *sender) left() int64 {
	if s.file != nil {
		return s.file.left
	}
	return 0
}

// content returns the bytes of the file read so far.
func (s *sender) content() int64 {
	if s.file != nil {
		return s.file.size - s.file.left
	}
	return int64(s.text)
}

// close releases the file. It is safe to call more than once.
func (s *sender) close() {
	if s.file != nil && s.file.f != nil {
		_ = s.file.f.Close() // Read-only: nothing to lose.
		s.file.f = nil
	}
	s.buf = nil
}

// fileSource reads exactly the size a regular file had when it was opened, then checks
// that it has not changed: no byte beyond that size, and the same size and mtime by
// fstat (also every checkEvery bytes, to stop early). It returns io.EOF only when all
// is well, errChanged when the file changed, or the read error.
type fileSource struct {
	f      *os.File
	left   int64 // bytes still to read
	size   int64
	mtime  unix.Timespec
	since  int64 // bytes since the last check
	closed bool  // EOF verified
}

func (s *fileSource) Read(p []byte) (int, error) {
	if s.left == 0 {
		if !s.closed {
			if err := s.verify(true); err != nil {
				return 0, err
			}
			s.closed = true
		}
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.f.Read(p)
	s.left -= int64(n)
	s.since += int64(n)
	switch {
	case err == io.EOF:
		if s.left > 0 {
			return n, errChanged // shorter than it was
		}
	case err != nil:
		return n, err
	}
	if s.since >= checkEvery {
		s.since = 0
		if err := s.verify(false); err != nil {
			return n, err
		}
	}
	return n, nil
}

// verify checks the file against what it was when opened; at the end, also that it has
// no byte beyond its size.
func (s *fileSource) verify(atEnd bool) error {
	if atEnd {
		var one [1]byte
		n, err := s.f.Read(one[:])
		if n > 0 {
			return errChanged // longer than it was
		}
		if err != nil && err != io.EOF {
			return err
		}
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(s.f.Fd()), &st); err != nil {
		return err
	}
	if st.Size != s.size || st.Mtim != s.mtime {
		return errChanged
	}
	return nil
}

// deflater compresses src as one zlib stream (RFC 1950, default level, §9), holding
// no more than the compressor's output for one input buffer. A session keeps one and
// resets it for each file, since it sends one file at a time.
type deflater struct {
	src  io.Reader
	zw   *zlib.Writer
	out  bytes.Buffer
	in   []byte
	done bool
}

func newDeflater() *deflater {
	z := &deflater{in: make([]byte, deflateInSize)}
	z.zw = zlib.NewWriter(&z.out)
	return z
}

// reset starts a new stream reading src.
func (z *deflater) reset(src io.Reader) {
	z.src, z.done = src, false
	z.out.Reset()
	z.zw.Reset(&z.out)
}

func (z *deflater) Read(p []byte) (int, error) {
	for z.out.Len() == 0 {
		if z.done {
			return 0, io.EOF
		}
		n, err := z.src.Read(z.in)
		if n > 0 {
			_, _ = z.zw.Write(z.in[:n]) // Writes into a bytes.Buffer: never fails.
		}
		switch {
		case err == io.EOF:
			_ = z.zw.Close() // Flushes into a bytes.Buffer: never fails.
			z.done = true
		case err != nil:
			return 0, err
		case n == 0:
			return 0, nil // the sender counts empty reads
		}
	}
	return z.out.Read(p)
}
