package client

import (
	"encoding/base64"
	"time"

	"github.com/xferterm/xferterm/scanner"
)

// Flow control of a send session, for a terminal reached through a multiplexer
// (Options.SendWindow, Options.ReplyBudget). Without a multiplexer the pty is the only
// flow control a send needs: a write blocks until the terminal has read.
//
// The window counts file bytes read for the data written so far that the terminal has
// not reported written yet (PROGRESS and OK carry how much it wrote). tmux reads its
// pane's output at once and holds what the terminal has not taken: without the window a
// slow link makes it hold the whole file in memory, and Ctrl+C's cancel waits behind it.
//
// A window that stays full, or a last status that does not come, means either a slow
// terminal or data lost on the way (tmux drops what it passes through while a redraw is
// pending, and then the terminal's count never catches up). A probe tells them apart: a
// cancel for a session that does not exist, which xferterm's terminal answers CANCELED
// once it has handled everything written before it (kitty stays silent: then only the
// timeout ends a stall). If no acknowledgement came meanwhile, the data in flight was
// lost: the files it belonged to fail at once, instead of at the timeout.
//
// The reply budget bounds the bytes of replies the terminal owes: GNU screen passes the
// terminal's input on to the window only as fast as the client reads it, keeps 16 KiB
// meanwhile (measured with screen 4.9) and drops the rest. File commands and end_data
// each provoke one status; they wait while the estimate of what is owed would exceed
// the budget.

// Timing of the stall probe.
const (
	// maxProbeAfter is the longest a send waits for an acknowledgement before it
	// probes, and a probe for its answer before another goes (one may be lost too):
	// a tenth of Options.Timeout, at most this.
	maxProbeAfter = 2 * time.Second
	// pacingTick wakes the session loop while a send waits for acknowledgements.
	pacingTick = 100 * time.Millisecond
)

// probeAfter is how long a stall lasts before it is probed.
func (sd *sender) probeAfter() time.Duration { return min(maxProbeAfter, sd.s.opts.Timeout/10) }

// lostReason is the reason a file fails when the probe shows its data was lost.
const lostReason = "data was lost on the way (a terminal multiplexer drops what it passes through while it redraws): send it again"

// replyOverhead is a reply's length without its id, file id and path:
// ESC ] 5113;ac=status;id=;fid=;sz=<20 digits>;n=;st=<base64 of a short status> ESC \.
const replyOverhead = 96

// pathAllowance is what a reply's path may add to the name the client sent: the
// terminal's home directory, where relative names land (terminal-side.md §8).
const pathAllowance = 256

// replyEstimate is the most bytes the status the terminal sends for f's file command
// or end_data is expected to take (a longer error text only uses part of the margin).
func (sd *sender) replyEstimate(f *sendFile) int { return replyEstimate(sd.s.id, f.fid, f.remote) }

// replyEstimate is the estimate for a file of session id with file id fid and name.
func replyEstimate(id, fid, name string) int {
	return replyOverhead + len(id) + len(fid) + base64.RawStdEncoding.EncodedLen(len(name)+pathAllowance)
}

// mayAsk reports whether a command for f that provokes a reply may be written now: the
// reply budget allows it, or nothing is owed (one command is always allowed).
func (sd *sender) mayAsk(f *sendFile) bool {
	return sd.budget <= 0 || sd.owed == 0 || sd.owed+sd.replyEstimate(f) <= sd.budget
}

// owe records a command for f that the terminal will answer.
func (sd *sender) owe(f *sendFile) {
	if sd.budget <= 0 {
		return
	}
	f.owed++
	sd.owed += sd.replyEstimate(f)
}

// answered records one status for f that answers a command (not PROGRESS).
func (sd *sender) answered(f *sendFile) {
	if f.owed > 0 {
		f.owed--
		sd.owed -= sd.replyEstimate(f)
	}
}

// forgive drops what f still owes: it failed, and no answer will come.
func (sd *sender) forgive(f *sendFile) {
	for f.owed > 0 {
		sd.answered(f)
	}
}

// readData records n bytes of f read for its data.
func (sd *sender) readData(f *sendFile, n int64) {
	f.read += n
	sd.inflight += n
}

// acked records that the terminal reports having written sz bytes of f.
func (sd *sender) acked(f *sendFile, sz int64) {
	sz = min(sz, f.read)
	if sz > f.acked {
		sd.inflight -= sz - f.acked
		f.acked = sz
		sd.progressed()
	}
}

// settled records that f needs no more acknowledgements (final).
func (sd *sender) settled(f *sendFile) {
	if f.read > f.acked {
		sd.inflight -= f.read - f.acked
		f.acked = f.read
	}
	sd.progressed()
}

// progressed notes an acknowledgement: the terminal is not stuck, and a probe sent
// before it can no longer tell that data was lost.
func (sd *sender) progressed() {
	sd.lastAck = sd.s.opts.Now()
	sd.probeStale = !sd.probeSent.IsZero()
}

// windowFull reports whether the data in flight fills the window.
func (sd *sender) windowFull() bool {
	return sd.window > 0 && sd.inflight >= sd.window
}

// waitingForAcks implements pacer: with a window, a full one or all data written.
func (sd *sender) waitingForAcks() bool {
	return sd.window > 0 && (sd.windowFull() || sd.cur == len(sd.files) && sd.final < len(sd.files))
}

// probeID is the session id of the stall probe: one the terminal has no session for.
func (sd *sender) probeID() string { return sd.s.id + "-sync" }

// maybeProbe appends a probe to dst when the send waits for acknowledgements and none
// has come for probeAfter, and no probe waits for its answer (or one has waited as long:
// it may have been lost too).
func (sd *sender) maybeProbe(dst []byte) []byte {
	now := sd.s.opts.Now()
	wait := sd.probeAfter()
	if !sd.waitingForAcks() || now.Sub(sd.lastAck) < wait || !sd.probeSent.IsZero() && now.Sub(sd.probeSent) < wait {
		return dst
	}
	sd.probeSent, sd.probeStale = now, false
	return appendCommand(dst, sd.probeID(), scanner.Command{Action: scanner.ActionCancel})
}

// probing reports whether a probe waits for its answer (for at most probeAfter: kitty's
// terminal side never answers).
func (sd *sender) probing() bool {
	return !sd.probeSent.IsZero() && sd.s.opts.Now().Sub(sd.probeSent) < sd.probeAfter()
}

// probed handles the answer to a probe. The terminal has handled everything written
// before the probe, so every status that answers it is here; and nothing was written
// since (the send was waiting). Unless an acknowledgement came after the probe: a file
// whose end_data was written and has no final status never reached the terminal whole,
// nor did the file being written when the window is still full. They fail.
func (sd *sender) probed() {
	stale := sd.probeStale
	sd.probeSent, sd.probeStale = time.Time{}, false
	if stale || !sd.waitingForAcks() {
		return
	}
	full := sd.windowFull()
	for _, f := range sd.files {
		if !f.final() && (f.state == sendSent || full && sd.stream != nil && sd.stream.f == f) {
			sd.fail(f, lostReason)
		}
	}
}
