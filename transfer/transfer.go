package transfer

import (
	"fmt"
	"time"

	"github.com/xferterm/xferterm/scanner"
)

// Direction says which way files move. The names are the client's actions, which
// every party uses: the remote client sends ac=send or ac=receive, and this program's
// own client (package client) offers the same two directions.
type Direction uint8

// Directions. The zero value is invalid.
const (
	// Send is ac=send: the remote sends files to the terminal's computer, which
	// writes them to its disk (terminal-side.md §6).
	Send Direction = iota + 1
	// Receive is ac=receive: the remote reads files from the terminal's computer
	// (terminal-side.md §7).
	Receive
)

func (d Direction) String() string {
	switch d {
	case Send:
		return "send"
	case Receive:
		return "receive"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// MarshalText encodes d as "send" or "receive" (the audit log's direction).
func (d Direction) MarshalText() ([]byte, error) {
	if d != Send && d != Receive {
		return nil, fmt.Errorf("transfer: invalid direction %d", int(d))
	}
	return []byte(d.String()), nil
}

// UnmarshalText decodes "send" or "receive".
func (d *Direction) UnmarshalText(b []byte) error {
	switch string(b) {
	case "send":
		*d = Send
	case "receive":
		*d = Receive
	default:
		return fmt.Errorf("transfer: invalid direction %q", b)
	}
	return nil
}

// Item is one path a request is about: a destination a send session wants to write,
// or a spec a receive session wants to read. The engine fills in what it found on
// the disk; the approval side adds Sensitive and Reason. Path and Name come from the
// remote, so whoever shows them sanitizes them first.
type Item struct {
	// Name is the spec as the client sent it (receive); empty for a destination.
	Name string
	// Path is the local absolute path, resolved as terminal-side.md §8 says.
	Path string
	// Type is valid when Err is empty.
	Type scanner.FileType
	// Size is the file's size in bytes (for a destination, the size of the file it
	// replaces), or for a directory the total of its regular files; -1 when unknown.
	Size int64
	// Files is, for a directory, the number of entries below it; -1 when unknown.
	Files int
	// Exists says a destination replaces something that is already there.
	Exists bool
	// Partial says a directory's count stopped at a cap (a huge tree): Files and Size
	// are then lower bounds.
	Partial bool
	// Err is why a spec cannot be read (the status the listing would send), "" when it
	// can.
	Err string
	// Target is where Path really leads when that is somewhere else, judged by the
	// approval side together with Path: for a spec reached through a symbolic link (a
	// link among its parents, or its own link followed by a trailing slash), the real
	// path of what the listing will read; for a symbolic link (a spec whose link is
	// not followed, or an uploaded link whose data has arrived), the real path of
	// what it points to, resolved as far as it exists. Empty when Path is real.
	Target string
	// TargetDir says Target is a directory: what lies below it counts too.
	TargetDir bool
	// Mode is, for a destination that exists, its permission bits (st_mode & 07777).
	Mode uint32
	// Perm is the permission bits the remote asks a destination to get (prm).
	Perm scanner.OptInt
	// Sensitive and Reason are the approval side's verdict: the path holds secrets or
	// is run or loaded by other programs. Reason is in our own words, never peer text.
	Sensitive bool
	Reason    string
}

// Request is what a session asks the Approver. It holds data, not text. A session
// request (File == nil) asks whether a whole session may run; a file request asks
// whether an approved send session may write one destination.
type Request struct {
	Direction Direction
	SessionID string
	// Bypass is the decoded pw value ("" when the client sent none). It may be a
	// plaintext password leaked by a buggy client: never log, echo or store it.
	Bypass string
	// Home is where relative paths land (terminal-side.md §8).
	Home string
	// Items are, for a receive session request, the specs the remote asked to read.
	Items []Item
	// File is the destination of a file request.
	File *Item
	// Grants are, with File, the grants earlier answers of the same session gave (see
	// Decision.Grant).
	Grants []Grant
}

// Method names what decided a request, for the audit log.
type Method string

// Methods.
const (
	MethodPrompt Method = "prompt" // a person answered (or the question timed out)
	MethodBypass Method = "bypass" // a bypass value was checked; nobody was asked
	MethodPolicy Method = "policy" // the configuration decided without asking
)

// Decision is the Approver's answer. The zero value refuses.
type Decision struct {
	Allow bool
	How   Method
	// Reason is a short explanation in our own words (never the secret, never peer
	// text); empty when there is nothing to explain.
	Reason string
	// Grant is set when a file request was answered "allow all": the session keeps it
	// and hands it back in the Grants of its later file requests, where the approval
	// side decides what it covers. The engine does not look inside.
	Grant *Grant
	// ReadOld, for an allowed file request, lets the engine read the file the
	// destination replaces, to send the client its rsync signature (rsync.md §8.1). A
	// signature is a read: it lets the remote confirm guesses of the old content, so
	// the approval side allows it only for a destination that is not sensitive. When
	// false the client is answered without tt=rsync and sends the file whole.
	ReadOld bool
	// SetMode, for an allowed request about a directory that exists already, lets the
	// engine give it the permissions the remote asked for (terminal-side.md §6.6).
	// When false its permissions are left as they are.
	SetMode bool
}

// Grant is how far an "allow all" answer reaches: later destinations of the same
// session that are sensitive for the same Reason and lie in Dir (or below it); with
// Dir empty, nothing but the file that was shown. Only the approval side makes and
// reads grants.
type Grant struct {
	Reason string
	Dir    string
}

// An Approver decides whether a session may run and, for an approved send session,
// whether a destination may be written.
//
// Ask is called with the engine's lock held, on whatever goroutine handles the
// session, so it must not block: it decides at once when it can do so alone (a bypass
// value, the configuration, a path that needs no question), and returns the Decision
// with a nil Pending. Otherwise it posts the question for a person and returns a
// Pending; later, from another goroutine, it calls answer exactly once with the
// decision, unless Withdraw is called first. answer is never called from inside Ask,
// and never with a lock of the Approver held (answer takes the engine's lock). An
// answer may still arrive after Withdraw: the caller ignores it.
type Approver interface {
	Ask(r Request, answer func(Decision)) (Decision, Pending)
}

// Pending is a question that waits for a person.
type Pending interface {
	// Withdraw takes the question back: it is no longer shown or queued. It does not
	// block, and may be called more than once.
	Withdraw()
}

// Func is an Approver that decides every request at once with f: for tests and
// scripts.
type Func func(r Request) Decision

// Ask returns f(r).
func (f Func) Ask(r Request, _ func(Decision)) (Decision, Pending) { return f(r), nil }

// Fixed is an Approver that gives the same decision to every request, at once.
type Fixed Decision

// Ask returns d.
func (d Fixed) Ask(Request, func(Decision)) (Decision, Pending) { return Decision(d), nil }

// EventKind distinguishes audit events.
type EventKind uint8

// Event kinds.
const (
	EventSession EventKind = iota + 1 // a session decision took effect
	EventFile                         // a file finished, failed or was refused
)

// Event is what the engine reports for the audit log: a session decision as it took
// effect, or the fate of one file.
type Event struct {
	Time      time.Time
	Kind      EventKind
	Direction Direction
	SessionID string
	How       Method // EventSession
	Allowed   bool   // EventSession
	Path      string // EventFile
	Bytes     int64  // EventFile: bytes written or sent
	Result    string // EventFile: "OK", "CANCELED" or the error status sent
	// Count is, for EventFile, how many files the event stands for, all with this
	// Result (Path names one of them): the engine may hand repeated failures over as
	// one event. 0 means 1.
	Count int
}
