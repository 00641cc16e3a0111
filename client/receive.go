package client

import (
	"fmt"
	"path"
	"sort"
	"strconv"

	"github.com/xferterm/xferterm/internal/termtext"
	"github.com/xferterm/xferterm/scanner"
)

// maxEntries bounds the listing a terminal may send.
const maxEntries = 1 << 20

// maxLinkText bounds the target text of a symlink.
const maxLinkText = 64 << 10

type recvPhase uint8

const (
	recvPermission recvPhase = iota // waiting for OK
	recvListing                     // reading the listing until the final OK
	recvTransfer                    // requesting and receiving files
)

type entryState uint8

const (
	entryListed    entryState = iota // nothing asked
	entryRequested                   // file command queued
	entryDone                        // final: in place
	entryFailed                      // final
)

// recvEntry is one entry of the terminal's listing (terminal-side.md §7.2).
type recvEntry struct {
	spec   int
	st     string // the terminal's id of the entry
	pr     string // the parent's st, "" at the top
	d      string // link target's st
	remote string
	ft     scanner.FileType
	size   int64
	mtime  scanner.OptInt
	perm   scanner.OptInt

	parent *recvEntry
	local  string
	linkTo *recvEntry // ft=link with a listed target: linked locally, not requested

	fid      string // request file id (decimal), "" when not requested
	zip      bool
	useRsync bool
	state    entryState
	sink     *fileSink
	text     []byte // symlink target being received
}

func (e *recvEntry) final() bool { return e.state == entryDone || e.state == entryFailed }

// receiver is the state of a receive session (reference-client.md §4.2): the terminal
// sends. Its methods run on the session loop goroutine.
type receiver struct {
	s        *session
	specs    []string
	phase    recvPhase
	entries  []*recvEntry
	byST     map[string]*recvEntry
	specErrs map[int]string
	home     string // the terminal's home, from the final OK

	reqs    []*recvEntry          // requested entries, in request order
	byFID   map[string]*recvEntry // by request fid
	links   []*recvEntry          // hard links made locally
	next    int                   // reqs[:next] have had their file command queued
	sig     *sigStream            // the signature of reqs[next-1] being written
	pending int                   // requested entries not final yet
	done    bool
	failed  []FailedFile
}

func newReceiver(s *session, pw string) (*receiver, error) {
	o := s.opts
	var specs []string
	switch o.Mode {
	case Mirror:
		if len(o.Args) < 1 {
			return nil, fmt.Errorf("%w: nothing to receive", ErrUsage)
		}
		if o.Home == "" {
			return nil, fmt.Errorf("%w: mirror mode needs HOME", ErrUsage)
		}
		for _, a := range o.Args {
			specs = append(specs, mirrorName(absLocal(a, o.Cwd, o.Home), o.Home))
		}
	default:
		if len(o.Args) < 2 {
			return nil, fmt.Errorf("%w: need a source and a destination", ErrUsage)
		}
		specs = o.Args[:len(o.Args)-1]
		if o.Args[len(o.Args)-1] == "" {
			return nil, fmt.Errorf("%w: empty destination", ErrUsage)
		}
	}
	for _, sp := range specs {
		if sp == "" {
			return nil, fmt.Errorf("%w: empty source", ErrUsage)
		}
	}
	r := &receiver{s: s, specs: specs, byST: make(map[string]*recvEntry), specErrs: make(map[int]string),
		byFID: make(map[string]*recvEntry)}
	// The specs go at once, without waiting for permission (§4.2).
	s.queue(scanner.Command{Action: scanner.ActionReceive, Bypass: pw, Size: scanner.Some(int64(len(specs)))})
	for i, sp := range specs {
		s.queue(scanner.Command{Action: scanner.ActionFile, FileID: strconv.Itoa(i), Name: sp})
	}
	return r, nil
}

func (r *receiver) started() bool { return true }
func (r *receiver) failures() int { return len(r.failed) }

// quiet: a data packet (not end_data) of the transfer phase only writes into the file it
// belongs to, or fails it.
func (r *receiver) quiet(cmd *scanner.Command) bool {
	return r.phase == recvTransfer && cmd.Action == scanner.ActionData
}
func (r *receiver) finished() bool { return r.done }

func (r *receiver) waiting() string {
	switch r.phase {
	case recvPermission:
		return "waiting for permission"
	case recvListing:
		return "waiting for the list of files"
	}
	return "waiting for file data"
}

func (r *receiver) result() error {
	if len(r.failed) == 0 {
		return nil
	}
	return &FailedError{Failed: len(r.failed), Total: len(r.reqs) + len(r.links), Files: r.failed}
}

func (r *receiver) cleanup() {
	if r.sig != nil {
		r.sig.close()
		r.sig = nil
	}
	for _, e := range r.reqs {
		if e.sink != nil {
			e.sink.abort()
			e.sink = nil
		}
	}
}

// specIndex parses a listing fid: a decimal spec index in [0, N) (terminal-side.md §7.2).
func (r *receiver) specIndex(fid string) (int, error) {
	k, err := strconv.Atoi(fid)
	if err != nil || k < 0 || k >= len(r.specs) || strconv.Itoa(k) != fid {
		return 0, protocolError("listing for invalid spec id %q", termtext.Sanitize(fid))
	}
	return k, nil
}

func (r *receiver) handle(cmd *scanner.Command) error {
	switch r.phase {
	case recvPermission:
		// terminal-side.md §3.2: the first message must be a status.
		if cmd.Action != scanner.ActionStatus || cmd.FileID != "" {
			return protocolError("unexpected response %s from the terminal while waiting for permission", cmd.Action)
		}
		if cmd.Status != scanner.StatusOK {
			return fmt.Errorf("%w: %s", ErrPermissionDenied, termtext.Sanitize(cmd.Status))
		}
		r.phase = recvListing
		return nil
	case recvListing:
		return r.listing(cmd)
	}
	return r.transfer(cmd)
}

// transfer handles the data phase (terminal-side.md §7.3).
func (r *receiver) transfer(cmd *scanner.Command) error {
	switch cmd.Action {
	case scanner.ActionData, scanner.ActionEndData:
		e := r.byFID[cmd.FileID]
		if e == nil || reqIndex(e) >= r.next || r.sig != nil && r.sig.e == e {
			return protocolError("got data for unknown file id %q", termtext.Sanitize(cmd.FileID))
		}
		if e.state == entryDone {
			return protocolError("got data for file id %s after its end", e.fid)
		}
		if e.state == entryFailed {
			return nil // Already reported; the rest of its data is dropped.
		}
		if err := r.data(e, cmd); err != nil {
			r.fail(e, err.Error())
		}
		return nil
	case scanner.ActionStatus:
		if cmd.FileID == "" {
			if cmd.Status == scanner.StatusOK {
				return protocolError("unexpected OK")
			}
			return fmt.Errorf("client: the terminal reports an error: %s", termtext.Sanitize(cmd.Status))
		}
		e := r.byFID[cmd.FileID]
		if e == nil {
			return protocolError("status for unknown file id %q", termtext.Sanitize(cmd.FileID))
		}
		if cmd.Status == scanner.StatusOK || cmd.Status == scanner.StatusProgress || cmd.Status == scanner.StatusStarted {
			return nil // Not part of this direction; harmless.
		}
		if !e.final() {
			r.fail(e, termtext.Sanitize(cmd.Status))
		}
		return nil
	}
	return protocolError("unexpected %s during the transfer", cmd.Action)
}

// data takes one data packet for e.
func (r *receiver) data(e *recvEntry, cmd *scanner.Command) error {
	end := cmd.Action == scanner.ActionEndData
	if e.ft == scanner.FileSymlink {
		if len(e.text)+len(cmd.Data) > maxLinkText {
			return fmt.Errorf("symlink target longer than %d bytes", maxLinkText)
		}
		e.text = append(e.text, cmd.Data...)
		if !end {
			return nil
		}
		if err := r.makeSymlink(e); err != nil {
			return err
		}
		r.succeed(e)
		return nil
	}
	if e.sink == nil {
		sink, err := newFileSink(e, r.s.disp)
		if err != nil {
			return err
		}
		e.sink = sink
		r.s.disp.fileStart(e.local, e.size)
	}
	if err := e.sink.write(cmd.Data); err != nil {
		return err
	}
	if !end {
		return nil
	}
	sink := e.sink
	e.sink = nil
	if err := sink.commit(e); err != nil {
		return err
	}
	r.succeed(e)
	return nil
}

// reqIndex is the index of e in receiver.reqs: fids are 1, 2, 3, … in request order.
func reqIndex(e *recvEntry) int {
	n, _ := strconv.Atoi(e.fid) // Made by endListing: cannot fail.
	return n - 1
}

func (r *receiver) succeed(e *recvEntry) {
	e.state = entryDone
	r.pending--
	r.s.disp.fileEnd(e.local, e.size, true, "")
}

func (r *receiver) fail(e *recvEntry, reason string) {
	if e.sink != nil {
		e.sink.abort()
		e.sink = nil
	}
	if e.state == entryRequested {
		r.pending--
	}
	e.state = entryFailed
	r.failed = append(r.failed, FailedFile{Name: termtext.Sanitize(e.local), Reason: reason})
	r.s.disp.fileEnd(e.local, e.size, false, reason)
}

// fill queues the requests (each followed by our signature when it uses rsync), and
// finish once every requested file is final, the hard links made and the directory
// metadata applied.
func (r *receiver) fill(dst []byte) ([]byte, error) {
	if r.phase != recvTransfer || r.done {
		return dst, nil
	}
	for len(dst) < writeChunk {
		if r.sig != nil {
			var end bool
			dst, end = r.sig.next(dst, r.s.id)
			if end {
				r.sig.close()
				r.sig = nil
			}
			continue
		}
		if r.next == len(r.reqs) {
			break
		}
		e := r.reqs[r.next]
		r.next++
		if e.final() {
			continue
		}
		c := scanner.Command{Action: scanner.ActionFile, FileID: e.fid, Name: e.remote}
		if e.zip {
			c.Compression = scanner.CompressionZlib
		}
		var sig *sigStream
		if e.useRsync {
			var err error
			if sig, err = newSigStream(e); err != nil {
				// Fall back to a plain transfer of this file.
				e.useRsync = false
			} else {
				c.Transmit = scanner.TransmitRsync
			}
		}
		dst = appendCommand(dst, r.s.id, c)
		r.sig = sig
	}
	if r.next == len(r.reqs) && r.sig == nil && r.pending == 0 {
		r.finishLocal()
		dst = appendCommand(dst, r.s.id, scanner.Command{Action: scanner.ActionFinish})
		r.done = true
	}
	return dst, nil
}

// finishLocal makes the hard links and applies the directories' metadata, deepest
// first (terminal-side.md §13: directory metadata last).
func (r *receiver) finishLocal() {
	for _, e := range r.links {
		if e.linkTo.state != entryDone {
			r.failed = append(r.failed, FailedFile{Name: termtext.Sanitize(e.local), Reason: "its link target failed"})
			continue
		}
		if err := replaceWithLink(e.linkTo.local, e.local); err != nil {
			r.failed = append(r.failed, FailedFile{Name: termtext.Sanitize(e.local), Reason: err.Error()})
			r.s.disp.fileEnd(e.local, 0, false, err.Error())
			continue
		}
		r.s.disp.fileEnd(e.local, 0, true, "")
	}
	var dirs []*recvEntry
	for _, e := range r.entries {
		if e.ft == scanner.FileDirectory {
			dirs = append(dirs, e)
		}
	}
	sort.SliceStable(dirs, func(i, j int) bool { return len(dirs[i].local) > len(dirs[j].local) })
	for _, e := range dirs {
		if err := applyMeta(e.local, e.perm, e.mtime); err != nil {
			r.failed = append(r.failed, FailedFile{Name: termtext.Sanitize(e.local), Reason: err.Error()})
		}
	}
}

// makeSymlink puts the received symlink in place. A link to a listed entry given as an
// absolute path is pointed at that entry's local copy.
func (r *receiver) makeSymlink(e *recvEntry) error {
	target := string(e.text)
	if t := r.byST[e.d]; e.d != "" && t != nil && t.local != "" && path.IsAbs(target) {
		target = t.local
	}
	return replaceWithSymlink(target, e.local, e.mtime)
}
