package fs

import (
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// Limits of a send session that are not worth a knob.
const (
	// maxUploadFiles caps the entries of one send session (memory: ~200 B each).
	maxUploadFiles = 1 << 19
	// maxOpenFiles caps the entries of one session holding a temporary file, an old
	// file or a decompressor at once. The client sends one file at a time.
	maxOpenFiles = 16
	// progressStep is the growth between two PROGRESS replies of a file. kitty sends
	// one per packet (~4 KiB); the client only draws a progress bar with them, and at
	// full speed that would be ~50 000 replies a second.
	progressStep = 64 << 10
	// failGrace is how long a stuck session (every file failed, see stuck) waits for
	// another command before it answers CANCELED, so that the client does not hang
	// (reference-client.md §4.1: the kitten never sends finish then).
	failGrace = time.Second
)

// upload is a send session: the remote writes files here (terminal-side.md §6).
//
// Every method is called with e.mu held. Decisions that need a person do not block:
// the session records its question and goes on handling commands; the answer comes
// back through Engine.ask as a call of decided or fileDecided, under e.mu. Bytes flow
// through upFile (upfile.go); paths are reached by walker (walk.go).
//
// The session asks about one destination at a time, in the order of the file
// commands: a file arriving while a question is up waits in queue (fileQueued), so
// that an "allow all" answer can cover the files after it.
type upload struct {
	e          *Engine
	id         string
	lastActive time.Time
	acks       bool      // q < 1: OK, STARTED, PROGRESS, CANCELED are sent (§5)
	errs       bool      // q < 2: error statuses are sent
	approved   bool      // the session was allowed
	pending    *question // the session's own question, while it waits for it
	gone       bool      // destroyed: nothing more may happen

	grants []transfer.Grant // what the "allow all" answers of this session gave
	asking *upFile          // the file whose question is up; nil when none
	ask    *question        // its question
	queue  []*upFile        // files waiting for their turn to be decided, in order

	walk walker
	generation

	acct  account  // what it holds of the engine's budget
	fails failures // what it keeps of its failed entries (upfail.go)
	count int      // entries recorded, failed ones included

	files   map[string]*upFile // the entries that have not failed
	dirs    []*upFile          // directory entries, for their metadata at finish (§6.6)
	signing []*upFile          // rsync files whose signature is still being produced, in order
	open    int                // entries holding descriptors or a decompressor
	failed  int                // entries that have failed
	nFiles  int                // entries that are not directories
	nFailed int                // of those, the ones that have failed
	sigBuf  []byte             // scratch for one signature packet
	written map[string]bool    // paths of the entries that completed: what a hard link may name
	done    map[string]string  // fid to path of the files that completed, kept small (retire)
}

// startUpload creates a session for `ac=send` and asks the Approver. A bypass is decided
// there and then, synchronously (§3.2), so that the `file` commands a bypassing client
// sends at once find the session decided; a question for a person leaves the session
// pending, and any command before the answer ends it (§2).
func (e *Engine) startUpload(cmd *scanner.Command, dialect scanner.Dialect) {
	u := &upload{
		e:          e,
		id:         cmd.ID,
		generation: generation{dialect: dialect},
		lastActive: e.now(),
		acks:       cmd.Quiet < 1,
		errs:       cmd.Quiet < 2,
		walk:       newWalker(e.cfg.Home),
		files:      make(map[string]*upFile),
		written:    make(map[string]bool),
		done:       make(map[string]string),
		acct:       account{b: &e.held},
	}
	e.uploads[u.id] = u
	d, q := e.ask(transfer.Request{
		Direction: transfer.Send,
		SessionID: u.id,
		Bypass:    cmd.Bypass,
		Home:      e.cfg.Home,
	}, u.decided)
	if q != nil {
		u.pending = q
		return
	}
	u.decided(d)
}

// decided applies the session's decision (§3.2).
func (u *upload) decided(d transfer.Decision) {
	if !u.alive() {
		return // cannot happen: a dead session has withdrawn its question
	}
	u.pending = nil
	u.e.event(transfer.Event{Kind: transfer.EventSession, Direction: transfer.Send, SessionID: u.id, How: d.How, Allowed: d.Allow})
	if !d.Allow {
		if u.errs {
			u.reply(u.status("", scanner.StatusRefused))
		}
		u.end("refused")
		return
	}
	u.approved = true
	u.lastActive = u.e.now() // waiting for the answer is not idleness
	if u.acks {
		u.reply(u.status("", scanner.StatusOK))
	}
}

// alive reports whether the session is still the live one for its id.
func (u *upload) alive() bool {
	return !u.gone && !u.e.closed && u.e.uploads[u.id] == u
}

func (u *upload) touch(now time.Time) { u.lastActive = now }

// handle is the session's dispatch switch (terminal-side.md §2, §6).
func (u *upload) handle(cmd *scanner.Command) {
	if u.gone {
		return
	}
	if !u.approved {
		u.end("command while pending") // §2: any command while awaiting approval
		return
	}
	switch cmd.Action {
	case scanner.ActionSend:
		u.end("send again") // §2: a second send for a live id, silently
	case scanner.ActionFile:
		u.onFile(cmd)
	case scanner.ActionData, scanner.ActionEndData:
		u.onData(cmd)
	case scanner.ActionFinish:
		u.onFinish()
	case scanner.ActionCancel:
		if u.acks {
			u.reply(u.status("", scanner.StatusCanceled))
		}
		u.end("canceled")
	default:
		// status, receive: not for a send session (§2); ignored.
	}
}

// onFile handles `ac=file` (§6.2): the entry is checked, then waits for its turn to be
// decided (next).
func (u *upload) onFile(cmd *scanner.Command) {
	fid := cmd.FileID
	_, done := u.done[fid]
	if _, dup := u.files[fid]; dup || done || u.fails.failed(fid) {
		u.replyError(fid, scanner.StatusDuplicateFileID(fid))
		return
	}
	path := filepath.Clean(resolvePath(u.e.cfg.Home, cmd.Name))
	cost := costEntry + int64(len(fid)) + int64(len(path))
	if u.count >= maxUploadFiles || !u.acct.take(cost) {
		u.refuseEntry(cmd, errTooManyFiles)
		return
	}
	f := &upFile{
		fid:  fid,
		cost: cost,
		path: path,
		ft:   cmd.FileType,
		// Link data is never compressed, whatever zip says, as kitty's terminal side
		// reads it: the 0.26 client asks for zlib on a large file it then finds to be a
		// hard link, and sends the link data plain.
		zip:   cmd.Compression == scanner.CompressionZlib && cmd.FileType == scanner.FileRegular,
		rsync: cmd.Transmit == scanner.TransmitRsync,
		prm:   cmd.Permissions,
		mtime: cmd.Mtime,
		state: fileQueued,
	}
	if f.ft == scanner.FileRegular {
		f.want = cmd.Size // xferterm's client announces it; kitty's does not
	}
	u.add(f)
	ex, err := u.walk.probe(f.path)
	if err == nil && ex.isDir() && f.ft != scanner.FileDirectory {
		err = errIsDirectory
	}
	if err != nil {
		u.fail(f, err)
		return
	}
	f.exist = ex
	u.queue = append(u.queue, f)
	u.next()
}

// next decides the queued entries in order, until one needs a person (its question is
// then up) or the queue is empty.
func (u *upload) next() {
	for !u.gone && u.asking == nil && len(u.queue) > 0 {
		f := u.queue[0]
		u.queue[0] = nil
		u.queue = u.queue[1:]
		var item *transfer.Item
		switch f.state {
		case fileQueued:
			size := int64(-1)
			if f.exist.exists {
				size = f.exist.size
			}
			item = &transfer.Item{Path: f.path, Type: f.ft, Size: size, Files: -1, Exists: f.exist.exists,
				Mode: f.exist.mode & 0o7777, Perm: f.prm}
		case fileLinking:
			item = u.linkRequest(f)
		default:
			continue // failed while it waited
		}
		d, q := u.e.ask(transfer.Request{
			Direction: transfer.Send,
			SessionID: u.id,
			Home:      u.e.cfg.Home,
			File:      item,
			Grants:    u.grants,
		}, func(d transfer.Decision) { u.fileDecided(f, d) })
		if q != nil {
			f.asked = f.state
			f.state = fileAsking
			u.asking, u.ask = f, q
			return
		}
		u.decide(f, d)
	}
	if len(u.queue) == 0 {
		u.queue = nil
	}
}

// fileDecided applies a person's answer about f, then decides the entries after it.
func (u *upload) fileDecided(f *upFile, d transfer.Decision) {
	if u.gone || u.asking != f {
		return // cannot happen: the question is withdrawn when either changes
	}
	u.asking, u.ask = nil, nil
	u.lastActive = u.e.now() // a question is not idleness (see tick)
	f.state = f.asked
	u.decide(f, d)
	u.next()
}

// decide acts on the decision about f: its destination (admit), or, once its data has
// arrived, a symbolic link's target (admitLink).
func (u *upload) decide(f *upFile, d transfer.Decision) {
	if f.state == fileLinking {
		u.admitLink(f, d)
		return
	}
	u.admit(f, d)
}

// stopAsking withdraws the question about f, if it is up, and moves on to the next
// entry.
func (u *upload) stopAsking(f *upFile) {
	if u.asking != f {
		return
	}
	u.ask.withdraw()
	u.asking, u.ask = nil, nil
	u.next()
}

// admit acts on the decision about f: a refusal fails it; otherwise it is started: a
// directory is made, a file gets STARTED (and an rsync signature when asked).
func (u *upload) admit(f *upFile, d transfer.Decision) {
	f.state = fileWaiting
	if !d.Allow {
		u.failStatus(f, scanner.StatusDestinationRefused)
		return
	}
	if d.Grant != nil {
		u.grants = append(u.grants, *d.Grant)
	}
	ex := f.exist
	if f.ft == scanner.FileDirectory {
		// A directory that appeared since the probe is not one this session makes: it
		// keeps its mode, as the approval side could not judge it.
		appeared := false
		if !ex.exists {
			now, _ := u.walk.probe(f.path) // An error shows in openDir.
			appeared = now.exists
		}
		fd, err := u.walk.openDir(f.path, true)
		if err != nil {
			u.fail(f, err)
			return
		}
		var st unix.Stat_t
		err = unix.Fstat(fd, &st)
		closeFD(fd)
		if err != nil {
			u.fail(f, &opError{Op: opMkdir, Path: f.path, Err: err})
			return
		}
		f.dirKey = keyOf(&st)
		f.setMode = d.SetMode && !appeared
		f.state = fileDir
		u.dirs = append(u.dirs, f)
		u.fileEvent(f, scanner.StatusOK)
		u.reply(u.fileStatus(f, scanner.StatusOK, true)) // not gated by quiet (§5)
		return
	}
	rsync := u.signable(f, d) && u.startSignature(f)
	if !u.acks {
		return
	}
	st := u.fileStatus(f, scanner.StatusStarted, true)
	if ex.exists {
		st.Size = scanner.Some(ex.size)
	}
	if rsync {
		st.Transmit = scanner.TransmitRsync
	}
	u.reply(st)
	if rsync {
		u.e.signal() // the signature follows through Pull
	}
}

// onData handles `ac=data` and `ac=end_data` (§6.3).
func (u *upload) onData(cmd *scanner.Command) {
	f := u.files[cmd.FileID]
	switch {
	case f == nil && u.fails.failed(cmd.FileID):
		return // §6.3: packets for a failed file are ignored silently
	case f == nil && u.done[cmd.FileID] != "": // retired: its path is kept, never empty
		u.replyError(cmd.FileID, scanner.StatusClosedFile)
		return
	case f == nil:
		u.replyError(cmd.FileID, scanner.StatusNotStarted)
		return
	case f.state == fileAsking && f.asked == fileLinking:
		u.replyError(f.fid, scanner.StatusClosedFile) // its data has all arrived
		return
	case f.state == fileQueued || f.state == fileAsking:
		// Data before STARTED: the client never does that (reference-client.md §4.1).
		u.failStatus(f, scanner.StatusNotStarted)
		u.stopAsking(f)
		return
	case f.state == fileFailed:
		return // §6.3: packets for a failed file are ignored silently
	case f.state == fileDir:
		u.failStatus(f, scanner.StatusWriteToDirectory)
		return
	case f.state == fileDone || f.state == fileLinking:
		u.replyError(f.fid, scanner.StatusClosedFile)
		return
	case f.state == fileSigning:
		u.fail(f, errDataBeforeSignature)
		return
	case len(cmd.Data) > u.e.cfg.Limits.MaxPacket:
		u.fail(f, errPacketTooLarge)
		return
	}
	if f.state == fileWaiting {
		if !f.opened && u.open >= maxOpenFiles {
			u.fail(f, errTooManyOpen)
			return
		}
		if err := f.start(u); err != nil {
			u.fail(f, err)
			return
		}
	}
	before := f.size()
	if err := f.write(cmd.Data); err != nil {
		u.fail(f, err)
		return
	}
	if cmd.Action == scanner.ActionData {
		if sz := f.size(); sz > before && sz-f.reported >= progressStep && u.acks {
			f.reported = sz
			st := u.fileStatus(f, scanner.StatusProgress, false)
			st.Size = scanner.Some(sz)
			u.reply(st)
		}
		return
	}
	if f.ft == scanner.FileSymlink {
		u.linkArrived(f)
		return
	}
	u.complete(f)
}

// complete finishes f, whose data has all arrived, and answers OK.
func (u *upload) complete(f *upFile) {
	if err := f.finish(u); err != nil {
		u.fail(f, err)
		return
	}
	u.fileEvent(f, scanner.StatusOK)
	if u.acks {
		st := u.fileStatus(f, scanner.StatusOK, true)
		st.Size = scanner.Some(f.size())
		u.reply(st)
	}
	u.retire(f)
}

// retire keeps of the completed file f only what later entries may need (its fid and
// path, for links and duplicates), so that a large tree holds little once written.
func (u *upload) retire(f *upFile) {
	if u.gone {
		return // its reply found the outbox full: the session has ended
	}
	u.written[f.path] = true
	delete(u.files, f.fid)
	u.done[f.fid] = f.path
	u.acct.give(f.cost)
	f.cost = costDone + int64(len(f.fid)+len(f.path))
	_ = u.acct.take(f.cost) // Less than was given back: always fits.
}

// onFinish commits the session (§6.6): files still incomplete are discarded, then the
// directories get their metadata deepest first (removing a temporary file would change
// its directory's mtime), and the session ends without a reply.
func (u *upload) onFinish() {
	all := u.dirs
	u.destroy("finished")
	dirs := make([]*upFile, 0, len(all))
	for _, f := range all {
		if f.state == fileDir && (f.prm.Set || f.mtime.Set) {
			dirs = append(dirs, f)
		}
	}
	sort.SliceStable(dirs, func(i, j int) bool { return len(dirs[i].path) > len(dirs[j].path) })
	for _, f := range dirs {
		_ = f.applyDirMetadata(u) // Best effort, as kitty: errors are ignored (§6.6).
	}
	u.end("finished")
}

// add records a new entry.
func (u *upload) add(f *upFile) {
	u.files[f.fid] = f
	u.count++
	if f.ft != scanner.FileDirectory {
		u.nFiles++
	}
}

// stuck reports whether the client can only hang: every entry has failed, or there are
// files and every one of them has failed. The client sends finish only after it has
// transmitted something (reference-client.md §4.1, T43); directories transmit nothing.
func (u *upload) stuck() bool {
	if u.count > 0 && u.failed == u.count {
		return true
	}
	return u.nFiles > 0 && u.nFailed == u.nFiles
}

// tick ends a stuck session once it has been quiet for failGrace: the client would
// otherwise wait forever. A session whose file the user is being asked about is not
// stuck, however long the question takes.
func (u *upload) tick(now time.Time) {
	if u.gone || !u.approved || u.asking != nil || !u.stuck() {
		return
	}
	if now.Sub(u.lastActive) < failGrace {
		return
	}
	if u.errs {
		u.reply(u.status("", scanner.StatusCanceled))
	}
	u.end("all files failed")
}

// abort is the user's Ctrl+C: CANCELED so that the client exits, then cleanup. The
// engine removes the session from its table.
func (u *upload) abort() {
	if u.gone {
		return
	}
	if u.acks {
		u.reply(u.status("", scanner.StatusCanceled))
	}
	u.destroy("aborted")
}

// destroy releases everything the session holds and removes every temporary file,
// silently; reason is only for a reader of the code. It may be called more than once.
// The engine removes the session from its table; inside this file, end does both.
func (u *upload) destroy(reason string) {
	if u.gone {
		return
	}
	u.gone = true
	u.pending.withdraw()
	u.ask.withdraw()
	u.pending, u.asking, u.ask, u.queue = nil, nil, nil, nil
	for _, f := range u.files {
		if f.state == fileWaiting || f.state == fileWriting || f.state == fileSigning || f.opened {
			f.release(u)
			u.fileEvent(f, scanner.StatusCanceled) // incomplete: discarded
		}
	}
	u.summarize()
	u.signing, u.files, u.dirs, u.written, u.done = nil, nil, nil, nil, nil
	u.acct.close()
}

// end destroys the session and removes it from the engine's table.
func (u *upload) end(reason string) {
	u.destroy(reason)
	if u.e.uploads[u.id] == u {
		delete(u.e.uploads, u.id)
	}
}

// fail marks f failed with err: resources released, temporary removed, the status sent.
func (u *upload) fail(f *upFile, err error) { u.failStatus(f, statusOf(err)) }

func (u *upload) failStatus(f *upFile, status string) {
	f.release(u)
	if u.markFailed(f) {
		u.failEvent(f.path, f.size(), status)
	}
	u.replyError(f.fid, status)
}

// markFailed moves f to fileFailed, counting it once, and forgets it but for its fid
// (upfail.go). It reports whether f had not failed before.
func (u *upload) markFailed(f *upFile) bool {
	if f.state == fileFailed {
		return false
	}
	f.state = fileFailed
	u.failed++
	if f.ft != scanner.FileDirectory {
		u.nFailed++
	}
	u.forget(f)
	return true
}

// replyError sends an error status for fid, if errors are on (§5).
func (u *upload) replyError(fid, status string) {
	if u.errs {
		u.reply(u.status(fid, status))
	}
}

func (u *upload) status(fid, st string) *scanner.Command {
	return &scanner.Command{Action: scanner.ActionStatus, ID: u.id, FileID: fid, Status: st}
}

// fileStatus is a status for f, with its path in `n` when withName.
func (u *upload) fileStatus(f *upFile, st string, withName bool) *scanner.Command {
	c := u.status(f.fid, st)
	if withName {
		c.Name = f.path
	}
	return c
}

// reply queues cmd. When the outbox is full the child is not reading its input: the
// session is dropped (Engine.reply).
func (u *upload) reply(cmd *scanner.Command) {
	if u.gone {
		return
	}
	if !u.e.reply(u.encode(cmd)) {
		u.end("outbox full")
	}
}

func (u *upload) fileEvent(f *upFile, result string) {
	u.e.event(transfer.Event{
		Kind:      transfer.EventFile,
		Direction: transfer.Send,
		SessionID: u.id,
		Path:      f.path,
		Bytes:     f.size(),
		Result:    result,
	})
}
