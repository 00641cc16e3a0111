package fs

import (
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// What a send session keeps of its failed entries: a remote may announce half a million
// entries that fail (maxUploadFiles), and neither the memory nor the audit log may grow
// with them. A failed entry is dropped; only its fid is kept, while the budget allows,
// so that later packets for it are ignored silently (terminal-side.md §6.3) and it is
// not reused. The first failures are audited one by one, the rest as one summary per
// status (transfer.Event.Count, naming the first) when the session ends.
const (
	// failEvents is how many failures of a session are audited one by one.
	failEvents = 16
	// failKinds is how many different statuses the summary counts apart; further
	// ones count with the last.
	failKinds = 8
)

// failures is a send session's record of its failed entries.
type failures struct {
	fids   map[string]struct{} // the failed fids kept (charged to the budget)
	events int                 // failures audited one by one
	tally  []failTally         // the others, by status, in order of first occurrence
}

type failTally struct {
	status string
	path   string // the first of them (transfer.Event.Path names one)
	count  int
}

// failed reports whether fid is a failed entry that was kept.
func (x *failures) failed(fid string) bool {
	_, ok := x.fids[fid]
	return ok
}

// forget drops the failed entry f: its fid is kept if the budget allows, and what it
// held is given back. Called once f is fileFailed.
func (u *upload) forget(f *upFile) {
	if u.files[f.fid] != f {
		return
	}
	delete(u.files, f.fid)
	u.acct.give(f.cost)
	f.cost = 0
	if u.acct.take(costFailed + int64(len(f.fid))) {
		if u.fails.fids == nil {
			u.fails.fids = make(map[string]struct{})
		}
		u.fails.fids[f.fid] = struct{}{}
	}
}

// failEvent audits the failure of the entry at path with status: one by one for the
// first failEvents of the session, then counted for the summary.
func (u *upload) failEvent(path string, bytes int64, status string) {
	x := &u.fails
	if x.events < failEvents {
		x.events++
		u.e.event(transfer.Event{Kind: transfer.EventFile, Direction: transfer.Send, SessionID: u.id,
			Path: path, Bytes: bytes, Result: status})
		return
	}
	for i := range x.tally {
		if x.tally[i].status == status {
			x.tally[i].count++
			return
		}
	}
	if len(x.tally) == failKinds {
		x.tally[failKinds-1].count++
		return
	}
	x.tally = append(x.tally, failTally{status, path, 1})
}

// summarize audits the failures not audited one by one. Called when the session ends.
func (u *upload) summarize() {
	for _, t := range u.fails.tally {
		u.e.event(transfer.Event{Kind: transfer.EventFile, Direction: transfer.Send, SessionID: u.id,
			Path: t.path, Result: t.status, Count: t.count})
	}
	u.fails = failures{}
}

// refuseEntry answers a `file` command that is not recorded at all (too many entries,
// or no room in the budget): the status goes to the client, the failure to the audit.
func (u *upload) refuseEntry(cmd *scanner.Command, err error) {
	status := statusOf(err)
	u.failEvent(resolvePath(u.e.cfg.Home, cmd.Name), 0, status)
	u.replyError(cmd.FileID, status)
}
