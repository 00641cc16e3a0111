package client

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/zlib"
	"github.com/xferterm/xferterm/internal/termtext"
	"github.com/xferterm/xferterm/rsync"
	"github.com/xferterm/xferterm/scanner"
)

// sendState is where one entry of a send session stands.
type sendState uint8

const (
	sendPending sendState = iota // file command sent, no answer yet
	sendStarted                  // STARTED: its data may go (after the signature, with rsync)
	sendSent                     // all its data is written; waiting for OK
	sendOK                       // final: acknowledged
	sendFailed                   // final: an error status, or a local failure
)

// sendFile is one entry of a send session.
type sendFile struct {
	*localFile
	fid        string
	zip        bool
	askRsync   bool // tt=rsync in the file command
	useRsync   bool // the terminal answered STARTED with tt=rsync
	sigDec     *rsync.SignatureDecoder
	sig        *rsync.Signature // complete signature, when useRsync
	idx        int              // index in sender.files
	state      sendState
	remotePath string // n from the terminal (unsanitized)
	exists     bool   // STARTED came with sz: the terminal has a file there already
	read       int64  // bytes of content read for the data (regular files)
	acked      int64  // of them, what the terminal reported written (PROGRESS, OK)
	owed       int    // statuses the terminal owes for its commands (reply budget)
}

func (f *sendFile) final() bool { return f.state == sendOK || f.state == sendFailed }

// sender is the state of a send session (reference-client.md §4.1): the terminal
// receives. Its methods run on the session loop goroutine.
type sender struct {
	s       *session
	files   []*sendFile
	byFID   map[string]*sendFile
	granted bool
	meta    int         // files[:meta] have had their file command queued
	cur     int         // files[cur] is the next whose data goes out
	stream  *dataStream // the data of files[cur] being written
	final   int         // number of files in a final state
	done    bool        // finish is queued
	failed  []FailedFile

	confirm   bool // --confirm-paths: ask the user before any data goes
	asked     bool // the question is on the tty
	confirmed bool // the user answered y, or there was nothing to ask

	// Flow control (pacing.go).
	window     int64     // Options.SendWindow
	budget     int       // Options.ReplyBudget
	inflight   int64     // bytes read for data written, not yet acknowledged
	owed       int       // estimated bytes of the statuses the terminal owes
	lastAck    time.Time // the last acknowledgement (or the start)
	probeSent  time.Time // the probe waiting for its answer; zero: none
	probeStale bool      // an acknowledgement came after it
}

func newSender(s *session, pw string) (*sender, error) {
	o := s.opts
	args := o.Args
	var sources []string
	var remoteOf func(i int, local string) string
	switch o.Mode {
	case Mirror:
		if len(args) < 1 {
			return nil, fmt.Errorf("%w: nothing to send", ErrUsage)
		}
		if o.Home == "" {
			return nil, fmt.Errorf("%w: mirror mode needs HOME", ErrUsage)
		}
		sources = args
		remoteOf = func(_ int, local string) string { return mirrorName(local, o.Home) }
	default:
		if len(args) < 2 {
			return nil, fmt.Errorf("%w: need a source and a destination", ErrUsage)
		}
		sources = args[:len(args)-1]
		dest := args[len(args)-1]
		if dest == "" {
			return nil, fmt.Errorf("%w: empty destination", ErrUsage)
		}
		asDir := len(sources) > 1 || remoteIsDir(dest)
		remoteOf = func(_ int, local string) string {
			if asDir {
				return joinRemote(dest, filepath.Base(local))
			}
			return dest
		}
	}
	abs := make([]string, len(sources))
	for i, src := range sources {
		abs[i] = absLocal(src, o.Cwd, o.Home)
		if _, err := os.Lstat(abs[i]); err != nil {
			return nil, fmt.Errorf("client: %w", err)
		}
	}
	local, err := scanSources(abs, remoteOf)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	sd := &sender{s: s, byFID: make(map[string]*sendFile, len(local)), confirm: o.ConfirmPaths,
		window: o.SendWindow, budget: o.ReplyBudget, lastAck: o.Now()}
	var total int64
	count := 0
	for i, lf := range local {
		f := &sendFile{localFile: lf, fid: uploadFileID(i), idx: i}
		if lf.ft == scanner.FileRegular {
			f.zip = compressSend(o.Compress, lf.local, lf.size)
			f.askRsync = o.TransmitDeltas && lf.size > rsyncThreshold
			total += lf.size
		}
		if lf.ft != scanner.FileDirectory {
			count++
		}
		sd.files = append(sd.files, f)
		sd.byFID[f.fid] = f
	}
	s.disp.begin(count, total)
	s.queue(scanner.Command{Action: scanner.ActionSend, Bypass: pw})
	return sd, nil
}

func (sd *sender) started() bool { return true } // ac=send is the first thing written
func (sd *sender) failures() int { return len(sd.failed) }

// quiet: the replies of a send session are few (statuses, rsync signatures) and each
// may change what fill sends; the loop handles them all.
func (sd *sender) quiet(*scanner.Command) bool { return false }
func (sd *sender) finished() bool              { return sd.done }

func (sd *sender) waiting() string {
	if !sd.granted {
		return "waiting for permission"
	}
	if sd.asking() {
		return "waiting for you to type y or n"
	}
	if sd.windowFull() {
		return "waiting for the terminal to take the data written so far"
	}
	return "waiting for the terminal to acknowledge the files"
}

func (sd *sender) result() error {
	if len(sd.failed) == 0 {
		return nil
	}
	return &FailedError{Failed: len(sd.failed), Total: len(sd.files), Files: sd.failed}
}

func (sd *sender) cleanup() {
	if sd.stream != nil {
		sd.stream.close()
		sd.stream = nil
	}
}

// handle implements the terminal's side of §4.1 as the real client expects it, and
// refuses anything else as a protocol error.
func (sd *sender) handle(cmd *scanner.Command) error {
	if !sd.granted {
		// terminal-side.md §3.2: the first status without fid decides.
		if cmd.Action != scanner.ActionStatus || cmd.FileID != "" {
			return protocolError("unexpected %s from the terminal while waiting for permission", cmd.Action)
		}
		if cmd.Status != scanner.StatusOK {
			return fmt.Errorf("%w: %s", ErrPermissionDenied, termtext.Sanitize(cmd.Status))
		}
		sd.granted = true
		return nil
	}
	if cmd.FileID == "" {
		if cmd.Action == scanner.ActionStatus && cmd.Status != scanner.StatusOK {
			return fmt.Errorf("client: the terminal reports an error: %s", termtext.Sanitize(cmd.Status))
		}
		return protocolError("unexpected %s without a file id", cmd.Action)
	}
	f := sd.byFID[cmd.FileID]
	if f == nil || f.idx >= sd.meta {
		return protocolError("%s for unknown file id %q", cmd.Action, termtext.Sanitize(cmd.FileID))
	}
	switch cmd.Action {
	case scanner.ActionStatus:
		return sd.status(f, cmd)
	case scanner.ActionData, scanner.ActionEndData:
		return sd.signature(f, cmd)
	}
	return protocolError("unexpected %s for file id %s", cmd.Action, f.fid)
}

// status handles a status for one file.
func (sd *sender) status(f *sendFile, cmd *scanner.Command) error {
	if f.final() {
		return protocolError("status %q for file id %s, which already has its final status",
			termtext.Sanitize(cmd.Status), f.fid)
	}
	switch cmd.Status {
	case scanner.StatusStarted:
		if f.state != sendPending || f.ft == scanner.FileDirectory {
			return protocolError("unexpected STARTED for file id %s", f.fid)
		}
		sd.answered(f)
		f.state = sendStarted
		f.remotePath = cmd.Name
		f.exists = cmd.Size.Set
		if cmd.Transmit == scanner.TransmitRsync {
			if !f.askRsync {
				return protocolError("the terminal wants rsync for file id %s, which did not ask for it", f.fid)
			}
			f.useRsync = true
			f.sigDec = new(rsync.SignatureDecoder)
		}
	case scanner.StatusProgress:
		if f.state != sendStarted && f.state != sendSent {
			return protocolError("unexpected PROGRESS for file id %s", f.fid)
		}
		if cmd.Size.Set {
			sd.acked(f, cmd.Size.Value)
		}
	case scanner.StatusOK:
		switch {
		case f.ft == scanner.FileDirectory && f.state == sendPending:
		case f.state == sendSent:
		default:
			return protocolError("unexpected OK for file id %s before all its data was sent", f.fid)
		}
		sd.answered(f)
		if f.ft == scanner.FileRegular && cmd.Size.Set && cmd.Size.Value != f.read {
			// Whole packets lost on the way (a multiplexer drops what it passes through
			// while it redraws): the terminal cannot tell, the sizes can.
			sd.fail(f, fmt.Sprintf("the terminal wrote %d bytes, %d were sent: data was lost on the way", cmd.Size.Value, f.read))
			return nil
		}
		f.state = sendOK
		sd.final++
		sd.settled(f)
		if cmd.Name != "" {
			f.remotePath = cmd.Name
		}
		if f.ft != scanner.FileDirectory {
			sd.s.disp.fileEnd(f.local, f.size, true, "")
		}
	default:
		sd.answered(f)
		sd.fail(f, termtext.Sanitize(cmd.Status))
	}
	return nil
}

// fail gives f its final failed state and stops its data.
func (sd *sender) fail(f *sendFile, reason string) {
	f.state = sendFailed
	sd.final++
	sd.settled(f)
	sd.forgive(f) // No answer to its commands is needed any more.
	sd.failed = append(sd.failed, FailedFile{Name: termtext.Sanitize(f.local), Reason: reason})
	sd.s.disp.fileEnd(f.local, f.size, false, reason)
	if sd.stream != nil && sd.stream.f == f {
		sd.stream.close()
		sd.stream = nil
		sd.cur++
	}
}

// signature takes the terminal's signature of its copy (rsync.md §8.1 step 3).
func (sd *sender) signature(f *sendFile, cmd *scanner.Command) error {
	if !f.useRsync || f.sig != nil || f.state != sendStarted {
		return protocolError("unexpected %s for file id %s", cmd.Action, f.fid)
	}
	if _, err := f.sigDec.Write(cmd.Data); err != nil {
		sd.fail(f, "bad signature from the terminal: "+err.Error())
		return nil
	}
	if cmd.Action == scanner.ActionEndData {
		sig, err := f.sigDec.Finish()
		if err != nil {
			sd.fail(f, "bad signature from the terminal: "+err.Error())
			return nil
		}
		f.sig, f.sigDec = sig, nil
	}
	return nil
}

// fill queues the file commands once permission is granted, then the data of each
// file in order, each after its STARTED; then finish once every file has its final
// status.
func (sd *sender) fill(dst []byte) ([]byte, error) {
	if !sd.granted || sd.done {
		return dst, nil
	}
	for ; sd.meta < len(sd.files) && len(dst) < writeChunk && sd.mayAsk(sd.files[sd.meta]); sd.meta++ {
		dst = appendCommand(dst, sd.s.id, sd.files[sd.meta].fileCommand())
		sd.owe(sd.files[sd.meta])
	}
	if sd.meta < len(sd.files) {
		return dst, nil
	}
	if sd.confirm && !sd.confirmed {
		if sd.asked || !sd.allAnswered() {
			return dst, nil // Wait for every answer, then for the user.
		}
		if sd.final == len(sd.files) {
			sd.confirmed = true // Nothing left to send (directories, failures): nothing to ask.
		} else {
			sd.asked = true
			return sd.question(dst), nil
		}
	}
	for len(dst) < writeChunk && sd.cur < len(sd.files) {
		if sd.windowFull() {
			dst = sd.maybeProbe(dst)
			break
		}
		if !sd.mayAsk(sd.files[sd.cur]) {
			break // Its end_data would provoke more than the reply budget allows.
		}
		if sd.stream == nil {
			f := sd.files[sd.cur]
			if f.ft == scanner.FileDirectory || f.state == sendFailed {
				sd.cur++
				continue
			}
			if f.state != sendStarted || f.useRsync && f.sig == nil {
				break // Wait for STARTED, or for the signature.
			}
			st, err := newDataStream(f, func(n int64) { sd.readData(f, n); sd.s.disp.add(n) })
			if err != nil {
				sd.fail(f, err.Error())
				continue
			}
			sd.stream = st
			sd.s.disp.fileStart(f.local, f.size)
		}
		var eof bool
		var err error
		dst, eof, err = sd.stream.next(dst, sd.s.id)
		if err != nil {
			sd.fail(sd.stream.f, err.Error()) // Its end_data is never sent: the terminal drops it.
			continue
		}
		if eof {
			sd.owe(sd.stream.f)
			sd.stream.f.state = sendSent
			sd.stream.close()
			sd.stream = nil
			sd.cur++
		}
	}
	if sd.cur == len(sd.files) && sd.final == len(sd.files) {
		if sd.probing() {
			return dst, nil // Its answer must not reach the shell after we exit.
		}
		dst = appendCommand(dst, sd.s.id, scanner.Command{Action: scanner.ActionFinish})
		sd.done = true
	} else if sd.cur == len(sd.files) {
		dst = sd.maybeProbe(dst) // All written: waiting for the last statuses.
	}
	return dst, nil
}

// allAnswered reports whether the terminal has answered every file command.
func (sd *sender) allAnswered() bool {
	for _, f := range sd.files {
		if f.state == sendPending {
			return false
		}
	}
	return true
}

// asking reports whether the --confirm-paths question waits for the user.
func (sd *sender) asking() bool { return sd.asked && !sd.confirmed }

// question appends the --confirm-paths question to dst: where each entry goes, as the
// terminal answered it, then the prompt (reference-client.md §1). Every name is
// sanitized; lines end with CR LF, for a tty in raw mode.
func (sd *sender) question(dst []byte) []byte {
	dst = sd.s.disp.pause(dst)
	dst = append(dst, "The terminal will write (this host → the terminal's machine):\r\n"...)
	count := 0
	var total int64
	for _, f := range sd.files {
		if f.state == sendFailed {
			continue
		}
		remote := f.remotePath
		if remote == "" {
			remote = f.remote
		}
		line := "  " + termtext.Sanitize(f.local) + "  →  " + termtext.Sanitize(remote)
		switch {
		case f.ft == scanner.FileDirectory:
			line += "  (directory)"
		case f.exists:
			line += "  (replaces an existing file)"
		}
		dst = append(dst, line...)
		dst = append(dst, "\r\n"...)
		if f.ft != scanner.FileDirectory {
			count++
			total += f.size
		}
	}
	for _, f := range sd.failed {
		dst = append(dst, "  "+f.Name+"  refused: "+f.Reason+"\r\n"...) // Both already sanitized.
	}
	dst = fmt.Appendf(dst, "%d file(s), %s in all. Type y to go on, or n to cancel.\r\n", count, formatBytes(total))
	return dst
}

// typed takes the answer to the --confirm-paths question: y or Y sends the data, n or
// N cancels the session. Other characters, and anything typed when no question is
// shown, are ignored.
func (sd *sender) typed(c byte) error {
	if !sd.asking() {
		return nil
	}
	switch c {
	case 'y', 'Y':
		sd.confirmed = true
		sd.s.disp.resume()
	case 'n', 'N':
		return fmt.Errorf("%w: you answered n at the --confirm-paths question; no file data was sent", ErrCanceled)
	}
	return nil
}

// fileCommand is the ac=file command of f (reference-client.md §4.1).
func (f *sendFile) fileCommand() scanner.Command {
	c := scanner.Command{Action: scanner.ActionFile, FileID: f.fid, Name: f.remote, FileType: f.ft}
	if f.mtime != 0 {
		c.Mtime = scanner.Some(f.mtime)
	}
	if f.perm != 0 {
		c.Permissions = scanner.Some(f.perm)
	}
	if f.zip {
		c.Compression = scanner.CompressionZlib
	}
	if f.askRsync {
		c.Transmit = scanner.TransmitRsync
	}
	if f.ft == scanner.FileRegular {
		// The size the terminal must end up with (after zlib, after an rsync patch), so
		// that it can refuse a copy that lost packets on the way (a multiplexer drops
		// what it passes through while it redraws). kitty's terminal ignores sz here.
		c.Size = scanner.Some(f.size)
	}
	return c
}

// dataStream produces the data packets of one file: its content, or its delta against
// the terminal's signature, through one zlib stream when asked; or the single end_data
// of a link.
type dataStream struct {
	f    *sendFile
	file *os.File
	src  io.Reader    // content or delta; nil for links
	z    *zlib.Writer // nil without compression
	pend bytes.Buffer // bytes ready to packetize
	buf  []byte
	eof  bool
}

func newDataStream(f *sendFile, onRead func(n int64)) (*dataStream, error) {
	d := &dataStream{f: f}
	if f.ft != scanner.FileRegular {
		d.pend.WriteString(f.linkData)
		d.eof = true
		return d, nil
	}
	file, err := os.Open(f.local)
	if err != nil {
		return nil, err
	}
	d.file = file
	// Exactly the size announced in the file command: a file that grew meanwhile is sent
	// as it was when scanned, one that shrank fails (sizedReader).
	d.src = &countingReader{r: &sizedReader{r: file, left: f.size}, add: onRead}
	if f.useRsync {
		d.src = rsync.NewDiffer(f.sig, d.src)
	}
	if f.zip {
		d.z = zlib.NewWriter(&d.pend)
	}
	d.buf = make([]byte, 64<<10)
	return d, nil
}

// next appends packets to dst, about writeChunk bytes, and reports whether the
// end_data has been appended.
func (d *dataStream) next(dst []byte, id string) ([]byte, bool, error) {
	for len(dst) < writeChunk {
		for d.pend.Len() <= maxPacket && !d.eof {
			n, err := d.src.Read(d.buf)
			if n > 0 {
				if d.z != nil {
					_, _ = d.z.Write(d.buf[:n]) // Writes into a bytes.Buffer cannot fail.
				} else {
					d.pend.Write(d.buf[:n])
				}
			}
			if err == io.EOF {
				d.eof = true
				if d.z != nil {
					_ = d.z.Close() // Flushes into a bytes.Buffer: cannot fail.
				}
			} else if err != nil {
				return dst, false, err
			}
		}
		if d.eof && d.pend.Len() <= maxPacket {
			c := scanner.Command{Action: scanner.ActionEndData, FileID: d.f.fid, Data: d.pend.Next(maxPacket)}
			return appendCommand(dst, id, c), true, nil
		}
		c := scanner.Command{Action: scanner.ActionData, FileID: d.f.fid, Data: d.pend.Next(maxPacket)}
		dst = appendCommand(dst, id, c)
	}
	return dst, false, nil
}

func (d *dataStream) close() {
	if d.file != nil {
		_ = d.file.Close() // Read-only: nothing to lose.
		d.file = nil
	}
}

// countingReader reports the bytes read from r.
type countingReader struct {
	r   io.Reader
	add func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.add(int64(n))
	return n, err
}

// sizedReader reads exactly left bytes of r: it stops there, and it fails with
// errShrank when r ends before.
type sizedReader struct {
	r    io.Reader
	left int64
}

// errShrank is returned for a file that ended before the size announced for it.
var errShrank = errors.New("the file shrank while it was being sent")

func (s *sizedReader) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= int64(n)
	if err == io.EOF && s.left > 0 {
		err = errShrank
	}
	return n, err
}
