package client

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/xferterm/xferterm/rsync"
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

func (r *receiver) started() bool  { return true }
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
		return 0, protocolError("listing for invalid spec id %q", sanitize(fid))
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
			return fmt.Errorf("%w: %s", ErrPermissionDenied, sanitize(cmd.Status))
		}
		r.phase = recvListing
		return nil
	case recvListing:
		return r.listing(cmd)
	}
	return r.transfer(cmd)
}

// listing reads one message of the listing (terminal-side.md §7.2).
func (r *receiver) listing(cmd *scanner.Command) error {
	switch {
	case cmd.Action == scanner.ActionFile:
		k, err := r.specIndex(cmd.FileID)
		if err != nil {
			return err
		}
		if cmd.Status == "" || r.byST[cmd.Status] != nil {
			return protocolError("listing entry with a missing or duplicate id %q", sanitize(cmd.Status))
		}
		if cmd.Name == "" {
			return protocolError("listing entry without a name")
		}
		if len(r.entries) >= maxEntries {
			return protocolError("listing has more than %d entries", maxEntries)
		}
		e := &recvEntry{spec: k, st: cmd.Status, pr: cmd.Parent, d: string(cmd.Data), remote: cmd.Name,
			ft: cmd.FileType, size: max(cmd.Size.Value, 0), mtime: cmd.Mtime, perm: cmd.Permissions}
		r.entries = append(r.entries, e)
		r.byST[e.st] = e
		return nil
	case cmd.Action == scanner.ActionStatus && cmd.FileID != "":
		k, err := r.specIndex(cmd.FileID)
		if err != nil {
			return err
		}
		r.specErrs[k] = cmd.Status
		return nil
	case cmd.Action == scanner.ActionStatus:
		if cmd.Status != scanner.StatusOK {
			return fmt.Errorf("client: the terminal reports an error: %s", sanitize(cmd.Status))
		}
		r.home = cmd.Name
		return r.endListing()
	}
	return protocolError("unexpected %s in the listing", cmd.Action)
}

// endListing checks the listing, maps it onto local paths, creates the directories and
// plans the requests.
func (r *receiver) endListing() error {
	if len(r.specErrs) > 0 {
		ks := make([]int, 0, len(r.specErrs))
		for k := range r.specErrs {
			ks = append(ks, k)
		}
		sort.Ints(ks)
		var msgs []string
		for _, k := range ks {
			st := r.specErrs[k]
			if strings.HasPrefix(st, "ENOENT:") {
				msgs = append(msgs, fmt.Sprintf("file not found: %s", sanitize(r.specs[k])))
			} else {
				msgs = append(msgs, fmt.Sprintf("%s: %s", sanitize(r.specs[k]), sanitize(st)))
			}
		}
		return fmt.Errorf("client: %s", strings.Join(msgs, "; "))
	}
	tops := make([][]*recvEntry, len(r.specs))
	for _, e := range r.entries {
		if e.pr == "" {
			tops[e.spec] = append(tops[e.spec], e)
			continue
		}
		p := r.byST[e.pr]
		if p == nil || p.ft != scanner.FileDirectory {
			return protocolError("listing entry %q has an unknown parent", sanitize(e.remote))
		}
		e.parent = p
	}
	for k, t := range tops {
		if len(t) == 0 {
			return fmt.Errorf("client: no matches found for %s", sanitize(r.specs[k]))
		}
	}
	if err := r.mapLocal(tops); err != nil {
		return err
	}
	o := r.s.opts
	var total int64
	for _, e := range r.entries {
		switch e.ft {
		case scanner.FileDirectory:
			if err := os.MkdirAll(e.local, 0o700); err != nil {
				return fmt.Errorf("client: %w", err)
			}
			continue
		case scanner.FileLink:
			if t := r.byST[e.d]; e.d != "" && t != nil && t.ft == scanner.FileRegular {
				e.linkTo = t
				r.links = append(r.links, e)
				continue
			}
		}
		if err := os.MkdirAll(filepath.Dir(e.local), 0o755); err != nil {
			return fmt.Errorf("client: %w", err)
		}
		e.fid = strconv.Itoa(len(r.reqs) + 1)
		if e.ft != scanner.FileSymlink {
			e.zip = shouldCompress(o.Compress, e.remote, e.size)
			if o.TransmitDeltas {
				if fi, err := os.Lstat(e.local); err == nil && fi.Mode().IsRegular() && fi.Size() > rsyncThreshold {
					e.useRsync = true
				}
			}
			total += e.size
		}
		e.state = entryRequested
		r.reqs = append(r.reqs, e)
		r.byFID[e.fid] = e
	}
	r.pending = len(r.reqs)
	r.s.disp.begin(len(r.reqs)+len(r.links), total)
	r.phase = recvTransfer
	return nil
}

// mapLocal gives every entry its local path. Names come from the terminal, so each
// component is checked: nothing can land outside the destination (or, in Mirror mode,
// outside the mirrored path).
func (r *receiver) mapLocal(tops [][]*recvEntry) error {
	o := r.s.opts
	var dest string
	asDir := false
	if o.Mode == Normal {
		arg := o.Args[len(o.Args)-1]
		dest = absLocal(arg, o.Cwd, o.Home)
		fi, err := os.Stat(dest)
		asDir = len(r.specs) > 1 || strings.HasSuffix(arg, "/") || err == nil && fi.IsDir()
		for _, t := range tops {
			asDir = asDir || len(t) > 1
		}
		if asDir {
			if err := os.MkdirAll(dest, 0o755); err != nil {
				return fmt.Errorf("client: %w", err)
			}
		}
	}
	seen := make(map[string]bool, len(r.entries))
	var walk func(e *recvEntry, depth int) error
	walk = func(e *recvEntry, depth int) error {
		if e.local != "" {
			return nil
		}
		if depth > 4096 {
			return protocolError("listing has a parent cycle")
		}
		base := path.Base(e.remote)
		if base == "/" || base == "." || base == ".." || strings.ContainsRune(base, 0) {
			return protocolError("unsafe name %q in the listing", sanitize(e.remote))
		}
		switch {
		case e.parent != nil:
			if err := walk(e.parent, depth+1); err != nil {
				return err
			}
			e.local = filepath.Join(e.parent.local, base)
		case o.Mode == Mirror:
			e.local = r.mirrorLocal(e.remote)
		case asDir:
			e.local = filepath.Join(dest, base)
		default:
			e.local = dest
		}
		if seen[e.local] {
			return protocolError("two listing entries map to %s", sanitize(e.local))
		}
		seen[e.local] = true
		return nil
	}
	for _, e := range r.entries {
		if err := walk(e, 0); err != nil {
			return err
		}
	}
	return nil
}

// mirrorLocal maps a remote absolute path to this host: under the terminal's home it
// goes under ours, elsewhere to the same path.
func (r *receiver) mirrorLocal(remote string) string {
	home := strings.TrimSuffix(r.home, "/")
	if home != "" && strings.HasPrefix(remote, home+"/") {
		return filepath.Join(r.s.opts.Home, filepath.FromSlash(remote[len(home)+1:]))
	}
	return filepath.Clean(filepath.FromSlash(remote))
}

// transfer handles the data phase (terminal-side.md §7.3).
func (r *receiver) transfer(cmd *scanner.Command) error {
	switch cmd.Action {
	case scanner.ActionData, scanner.ActionEndData:
		e := r.byFID[cmd.FileID]
		if e == nil || reqIndex(e) >= r.next || r.sig != nil && r.sig.e == e {
			return protocolError("got data for unknown file id %q", sanitize(cmd.FileID))
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
			return fmt.Errorf("client: the terminal reports an error: %s", sanitize(cmd.Status))
		}
		e := r.byFID[cmd.FileID]
		if e == nil {
			return protocolError("status for unknown file id %q", sanitize(cmd.FileID))
		}
		if cmd.Status == scanner.StatusOK || cmd.Status == scanner.StatusProgress || cmd.Status == scanner.StatusStarted {
			return nil // Not part of this direction; harmless.
		}
		if !e.final() {
			r.fail(e, sanitize(cmd.Status))
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
	r.failed = append(r.failed, FailedFile{Name: sanitize(e.local), Reason: reason})
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
			r.failed = append(r.failed, FailedFile{Name: sanitize(e.local), Reason: "its link target failed"})
			continue
		}
		if err := replaceWithLink(e.linkTo.local, e.local); err != nil {
			r.failed = append(r.failed, FailedFile{Name: sanitize(e.local), Reason: err.Error()})
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
		if err := applyMeta(e.local, e.perm, e.mtime, false); err != nil {
			r.failed = append(r.failed, FailedFile{Name: sanitize(e.local), Reason: err.Error()})
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

// sigStream writes the signature of our copy of a file after its request (rsync.md
// §8.2): data packets of at most 4096 bytes, then an end_data without payload.
type sigStream struct {
	e    *recvEntry
	file *os.File
	r    interface{ Read([]byte) (int, error) }
	buf  []byte
}

func newSigStream(e *recvEntry) (*sigStream, error) {
	f, err := os.Open(e.local)
	if err != nil {
		return nil, err
	}
	return &sigStream{e: e, file: f, r: rsync.NewSignatureReader(f, rsync.BlockSize(e.size)), buf: make([]byte, maxPacket)}, nil
}

// next appends signature packets to dst and reports whether the end_data went out.
func (g *sigStream) next(dst []byte, id string) ([]byte, bool) {
	for len(dst) < writeChunk {
		n, err := fullRead(g.r, g.buf)
		if n > 0 {
			dst = appendCommand(dst, id, scanner.Command{Action: scanner.ActionData, FileID: g.e.fid, Data: g.buf[:n]})
		}
		if err != nil {
			// At EOF, or on a read error: end the signature here. On an error the
			// terminal's delta will not verify and the file fails; the old file is kept.
			return appendCommand(dst, id, scanner.Command{Action: scanner.ActionEndData, FileID: g.e.fid}), true
		}
	}
	return dst, false
}

func (g *sigStream) close() {
	if g.file != nil {
		_ = g.file.Close() // Read-only.
		g.file = nil
	}
}

// fullRead reads until p is full or an error (io.EOF included).
func fullRead(r interface{ Read([]byte) (int, error) }, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
