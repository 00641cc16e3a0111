package fs

import (
	"time"

	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// Limits of a receive session that kitty has too (terminal-side.md §11).
const (
	// maxSpecs is the most specs a receive session accepts, announced or not.
	maxSpecs = 8193
	// maxQueued is the most data requests a receive session holds at once.
	maxQueued = 32768
	// maxSpecName is the length from which a spec name cannot be a path (PATH_MAX, with
	// its NUL); such a name is kept cut to shownSpecName bytes, for the question.
	maxSpecName   = 4096
	shownSpecName = 256
	// maxSignatureBytes caps the rsync signature bytes a receive session keeps for its
	// queued requests. The client sends every signature right after its request, so a
	// hostile one could otherwise queue 32768 signatures of 80 MiB each.
	maxSignatureBytes = 256 << 20
)

// downloadState is where a receive session is in terminal-side.md §7.
type downloadState uint8

const (
	dlCollecting downloadState = iota + 1 // gathering the `sz` specs (§7.1)
	dlAsking                              // the specs are described, then decided
	dlListing                             // approved: walking and emitting the listing (§7.2)
	dlServing                             // listing produced: answering data requests (§7.3)
	dlClosing                             // ended: draining its last replies, then removed
)

var downloadStateNames = [...]string{"", "collecting", "asking", "listing", "serving", "closing"}

func (s downloadState) String() string {
	if s > 0 && int(s) < len(downloadStateNames) {
		return downloadStateNames[s]
	}
	return "invalid"
}

// spec is one `ac=file` received before the listing: a path the client wants to read.
type spec struct {
	fid  string
	name string

	// How the question described it (describeSpecs), which binds the listing: the
	// status it failed with, or the device and inode of what it found.
	err string
	key fileKey
}

// download is a receive session: the remote reads local files (terminal-side.md §7).
//
// Every field is guarded by e.mu. The session is driven by handle (the pump goroutine,
// through Engine.Handle), tick (Engine.Tick, any goroutine) and produce (the pty writer,
// through Engine.Pull), and, while it is asking, by the two results it waits for: the
// description of its specs (a background walk, see ask) and the Approver's answer.
// Both come back through Engine.deliver, under e.mu; nothing releases e.mu.
//
// Everything the session says to the client goes through its own queue, out, drained by
// produce, so its messages keep their order: permission OK, listing, final OK, data,
// and an error followed by CANCELED when it fails. Only abort, which the engine follows
// by dropping the session at once, replies through the engine's outbox.
//
// Where it differs from kitty, on purpose:
//   - the question is asked once the `sz` specs have arrived (or after
//     Limits.SpecTimeout of silence), so the Approver can show them; kitty asks at
//     `receive` and shows nothing;
//   - only paths of the approved listing may be requested (StatusNotListed otherwise);
//   - a failure after the listing is followed by CANCELED, since the client ignores
//     error statuses then and would wait forever; kitty sends the error only;
//   - a file that changes while it is sent fails (StatusFileChanged) instead of being
//     sent as a mix; files are opened when their turn comes, not when requested;
//   - the listing is produced a slice at a time as the pty accepts it, and directories
//     are read in name order (see lister);
//   - the CANCELED that ends a failed session, and the one abort sends, are errors,
//     muted only by q=2; the CANCELED answering the client's `cancel` is an
//     acknowledgement, muted by q>=1 as in kitty (§5);
//   - duplicate request fids, corrupt signatures and more than maxSignatureBytes of
//     queued signatures end the session (kitty has no such checks).
type download struct {
	e          *Engine
	id         string
	lastActive time.Time
	state      downloadState
	acct       account // what it holds of the engine's budget

	// From `ac=receive`.
	want int64 // specs announced by `sz`; -1 when not given
	generation
	acks   bool // q < 1: permission OK and the CANCELED acknowledgement (§5)
	errs   bool // q < 2: refusals, spec and request errors
	bypass string

	specs      []spec
	lastSpec   time.Time // when the last spec (or the receive) arrived
	spoiled    bool      // a spec arrived while the session was asking
	describing *struct{} // the background description of the specs it waits for; nil when none
	pending    *question // the Approver's question, while it waits for the answer

	out [][]byte // encoded sequences waiting for produce, in order

	list *lister // the listing; nil before approval

	// Data requests (§7.3), in arrival order; cur is the one being sent.
	reqs     []*request
	byFID    map[string]*request // the requests of reqs, by fid
	ready    int                 // requests of reqs that can start (not waiting for a signature)
	cur      *sender
	sigBytes int64     // signature bytes held by the requests of reqs
	zip      *deflater // the compressor, reused from file to file
	sendBuf  []byte    // the sender's read-ahead buffer, reused from file to file

	pkt     scanner.Command // scratch for data packets
	scratch []byte          // scratch for encoding data packets
}

// startDownload creates a session for `ac=receive` (terminal-side.md §2, §7.1). The
// question is asked once the `sz` specs have arrived (§3.1 allows showing them), or after
// Limits.SpecTimeout of silence for a client that sends fewer or announces none.
func (e *Engine) startDownload(cmd *scanner.Command, dialect scanner.Dialect) {
	now := e.now()
	d := &download{
		e:          e,
		id:         cmd.ID,
		generation: generation{dialect: dialect},
		lastActive: now,
		lastSpec:   now,
		state:      dlCollecting,
		want:       -1,
		acks:       cmd.Quiet < 1,
		errs:       cmd.Quiet < 2,
		bypass:     cmd.Bypass,
		byFID:      make(map[string]*request),
		acct:       account{b: &e.held},
	}
	if cmd.Size.Set {
		d.want = max(cmd.Size.Value, 0)
	}
	e.downloads[d.id] = d
	if d.want == 0 {
		d.ask()
	}
}

func (d *download) touch(now time.Time) { d.lastActive = now }

// handle is the download handler of terminal-side.md §2 for an existing session.
func (d *download) handle(cmd *scanner.Command) {
	switch d.state {
	case dlCollecting:
		d.handlePending(cmd)
	case dlAsking:
		d.handleAsking(cmd)
	case dlListing, dlServing:
		d.handleApproved(cmd)
	case dlClosing:
		// Its last replies are on their way; the client has nothing more to say.
	}
}

// handlePending: before the question, `file` commands are the specs (§7.2); signature
// data fails as "unknown file_id"; any other command destroys the session silently (§2).
func (d *download) handlePending(cmd *scanner.Command) {
	switch cmd.Action {
	case scanner.ActionFile:
		if !d.addSpec(cmd) {
			d.close(d.errorReply(scanner.StatusTooManySpecs, ""))
			return
		}
		d.lastSpec = d.e.now()
		if int64(len(d.specs)) == d.want {
			d.ask()
		}
	case scanner.ActionData, scanner.ActionEndData:
		d.close(d.errorReply(scanner.StatusSignatureUnknownFile(cmd.FileID), ""))
	default:
		d.remove()
	}
}

// addSpec records a spec (§7.2), or reports false when there are too many: more than
// maxSpecs or than `sz` announced, or more than the budget holds. A spec is charged its
// name three times (costSpec). A name too long to be a path is kept cut, and fails
// with ENAMETOOLONG, as lstat would, without a look at the disk.
func (d *download) addSpec(cmd *scanner.Command) bool {
	s := spec{fid: cmd.FileID, name: cmd.Name}
	if len(s.name) >= maxSpecName {
		s.name = s.name[:shownSpecName] + "…"
		s.err = scanner.StatusErrno("ENAMETOOLONG", scanner.TextReadSpec)
	}
	if len(d.specs) >= maxSpecs || (d.want >= 0 && int64(len(d.specs)) >= d.want) ||
		!d.acct.take(costSpec+3*int64(len(s.name))+int64(len(s.fid))) {
		return false
	}
	d.specs = append(d.specs, s)
	return true
}

// handleAsking handles a command that arrives while the session is asking: its specs
// are being described, or a person is being asked about them. The client does not wait
// for the last spec it announced before it may send more (and a hostile one sends
// anything), so the pump goes on delivering commands meanwhile.
//
// The rule: what the user sees is exactly what may be listed. The specs are frozen when
// the session starts asking, so a spec arriving now spoils the question: whatever the
// answer, the session then ends with StatusLateSpec (a status the client takes as a
// refusal). The other commands act as they do on a pending session (§2): signature data
// fails as "unknown file_id", and anything else destroys the session silently and
// withdraws the question.
func (d *download) handleAsking(cmd *scanner.Command) {
	switch cmd.Action {
	case scanner.ActionFile:
		d.spoiled = true
	case scanner.ActionData, scanner.ActionEndData:
		d.close(d.errorReply(scanner.StatusSignatureUnknownFile(cmd.FileID), ""))
	default:
		d.remove()
	}
}

// handleApproved handles a command once the session is approved (§2, §7.3, §7.4).
func (d *download) handleApproved(cmd *scanner.Command) {
	switch cmd.Action {
	case scanner.ActionFile:
		d.addRequest(cmd)
	case scanner.ActionData, scanner.ActionEndData:
		d.addSignature(cmd)
	case scanner.ActionStatus, scanner.ActionFinish:
		d.remove() // the normal end: no reply
	case scanner.ActionCancel:
		if d.acks {
			d.close(d.statusReply(scanner.StatusCanceled, ""))
		} else {
			d.close()
		}
	case scanner.ActionReceive:
		d.remove()
	case scanner.ActionSend:
		// Another table's business (§2 step 3); nothing for this session.
	}
}

// ask starts the decision about the specs collected so far. They are described first
// (lstat, and a bounded walk of each directory: describeSpecs) by a background job, so
// that a slow disk holds up neither the engine's lock nor the client's other sessions;
// the description comes back through Engine.deliver, and the Approver is asked then.
// Meanwhile the session is in dlAsking (see handleAsking).
func (d *download) ask() {
	e := d.e
	d.state = dlAsking
	job := new(struct{})
	d.describing = job
	specs := d.specs[:len(d.specs):len(d.specs)]
	home := e.cfg.Home
	e.background(func() {
		items, keys := describeSpecs(home, specs, maxDescribeEntries)
		e.deliver(func() {
			if d.describing == job && d.alive() {
				d.described(items, keys)
			}
		})
	})
}

// described asks the Approver about the described specs. A bypass is decided there and
// then; a question for a person waits for decided. The listing will hold to the
// description (see lister.walkSpec).
func (d *download) described(items []transfer.Item, keys []fileKey) {
	d.describing = nil
	for i := range items {
		d.specs[i].err, d.specs[i].key = items[i].Err, keys[i]
	}
	dec, q := d.e.ask(transfer.Request{
		Direction: transfer.Receive,
		SessionID: d.id,
		Bypass:    d.bypass,
		Home:      d.e.cfg.Home,
		Items:     items,
	}, d.decided)
	d.bypass = "" // never kept longer than needed
	if q != nil {
		d.pending = q
		return
	}
	d.decided(dec)
}

// decided applies the decision (§3.2): the listing starts, or the session ends.
func (d *download) decided(dec transfer.Decision) {
	if !d.alive() {
		return // cannot happen: a dead session has withdrawn its question
	}
	e := d.e
	d.pending = nil
	e.event(transfer.Event{Kind: transfer.EventSession, Direction: transfer.Receive, SessionID: d.id,
		How: dec.How, Allowed: dec.Allow && !d.spoiled})
	switch {
	case d.spoiled:
		d.close(d.errorReply(scanner.StatusLateSpec, ""))
	case !dec.Allow:
		d.close(d.errorReply(scanner.StatusRefused, ""))
	default:
		d.state = dlListing
		if d.acks {
			d.queue(d.statusReply(scanner.StatusOK, ""))
		}
		d.list = newLister(e.cfg.Home, d.specs, &d.acct)
		e.signal()
	}
}

// alive reports whether the session is still the engine's and not ending.
func (d *download) alive() bool {
	return !d.e.closed && d.e.downloads[d.id] == d && d.state != dlClosing
}

// tick asks the question for a client that did not send all the specs it announced
// (or announced none) within Limits.SpecTimeout.
func (d *download) tick(now time.Time) {
	if d.state == dlCollecting && now.Sub(d.lastSpec) >= d.e.cfg.Limits.SpecTimeout {
		d.ask()
	}
}

// destroy releases everything the session holds, without a reply; a file being sent
// is recorded as CANCELED whatever the engine's reason. The engine removes the session
// from its table. It is safe to call more than once.
func (d *download) destroy(string) {
	d.pending.withdraw()
	d.pending, d.describing = nil, nil
	if d.cur != nil {
		d.cur.close()
		d.fileEvent(d.cur, scanner.StatusCanceled)
		d.cur = nil
	}
	d.reqs, d.byFID, d.ready, d.sigBytes, d.zip, d.sendBuf = nil, nil, 0, 0, nil, nil
	if d.list != nil {
		d.list.close()
		d.list = nil
	}
	d.out = nil
	d.specs = nil
	d.acct.close()
	d.state = dlClosing
}

// abort is the user's Ctrl+C (Engine.CancelAll): CANCELED, so the client exits, and
// cleanup. The engine drops the session right after, so the reply goes through the
// engine's outbox; what the session had queued is dropped.
func (d *download) abort() {
	errs := d.errs
	d.destroy("")
	if errs {
		d.e.reply(d.encode(d.statusReply(scanner.StatusCanceled, "")))
	}
}

// remove destroys the session silently and takes it out of the engine's table.
func (d *download) remove() {
	d.destroy("")
	if d.e.downloads[d.id] == d {
		delete(d.e.downloads, d.id)
	}
}

// close ends the session with the given last replies (nil entries are skipped, for
// replies muted by quiet). They are sent after what is already queued; then the session
// is removed. Until then it ignores the client.
func (d *download) close(last ...*scanner.Command) {
	out := d.out
	d.destroy("")
	d.out = out
	for _, c := range last {
		if c != nil {
			d.queue(c)
		}
	}
	if len(d.out) == 0 {
		d.remove()
		return
	}
	d.e.signal()
}

// fail ends a session whose listing has been sent: the error (with fid when it concerns
// one file), then CANCELED, because the client ignores error statuses after the listing
// and would wait forever (reference-client.md §4.2). Both are errors, muted by q=2.
func (d *download) fail(status, fid string) {
	d.close(d.errorReply(status, fid), d.errorReply(scanner.StatusCanceled, ""))
}

// statusReply returns `ac=status` with st and, when fid is not empty, fid.
func (d *download) statusReply(st, fid string) *scanner.Command {
	return &scanner.Command{Action: scanner.ActionStatus, ID: d.id, FileID: fid, Status: st}
}

// errorReply is statusReply for an error, or nil when errors are muted (q=2).
func (d *download) errorReply(st, fid string) *scanner.Command {
	if !d.errs {
		return nil
	}
	return d.statusReply(st, fid)
}

// queue appends c, encoded, to the session's output.
func (d *download) queue(c *scanner.Command) {
	d.out = append(d.out, d.encode(c).AppendOSC(nil))
}

// hasData reports whether produce would add something (or make progress on the
// listing) now.
func (d *download) hasData() bool {
	switch {
	case len(d.out) > 0:
		return true
	case d.state == dlListing:
		return true
	case d.state == dlServing:
		return d.cur != nil || d.ready > 0
	case d.state == dlClosing:
		return true // produce removes it
	}
	return false
}

// produce appends whole sequences to dst, in the session's order, up to about max bytes:
// at least one when it has any, and never more than one past max. It does a bounded
// amount of disk work per call (a slice of the listing walk, one buffer of a file), so
// the pty writer sets the pace and memory stays bounded.
func (d *download) produce(dst []byte, max int) []byte {
	start := len(dst)
	for {
		for len(d.out) > 0 {
			s := d.out[0]
			if len(dst) > start && len(dst)-start+len(s) > max {
				return dst
			}
			dst = append(dst, s...)
			d.out[0] = nil
			d.out = d.out[1:]
		}
		d.out = nil
		if len(dst)-start >= max {
			return dst
		}
		var more bool
		switch d.state {
		case dlListing:
			d.lastActive = d.e.now() // sending is activity: a long listing or file
			more = d.listStep()      // must not make the session look idle (§2)
		case dlServing:
			if d.cur == nil && d.ready == 0 {
				return dst
			}
			d.lastActive = d.e.now()
			dst, more = d.sendStep(dst, start, max)
		case dlClosing:
			d.remove()
		}
		if !more {
			return dst
		}
	}
}

// listStep does a slice of the listing's work; it reports whether it queued output.
func (d *download) listStep() bool {
	if d.list.step(d) {
		switch {
		case d.list.empty():
			d.close(&scanner.Command{Action: scanner.ActionStatus, ID: d.id, Status: scanner.StatusNoFiles})
		default:
			d.queue(&scanner.Command{Action: scanner.ActionStatus, ID: d.id, Name: d.e.cfg.Home, Status: scanner.StatusOK})
			d.state = dlServing
		}
		return true
	}
	return len(d.out) > 0
}
