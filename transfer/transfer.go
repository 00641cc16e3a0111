package fs

import (
	"context"
	"time"

	"github.com/xferterm/xferterm/scanner"
)

// Direction says which way files move, seen from this computer.
type Direction uint8

// Directions. DirectionSend is the client's `ac=send`: the remote writes files onto the
// local disk. DirectionReceive is `ac=receive`: the remote reads local files.
const (
	DirectionSend Direction = iota + 1
	DirectionReceive
)

func (d Direction) String() string {
	switch d {
	case DirectionSend:
		return "send"
	case DirectionReceive:
		return "receive"
	}
	return "unknown"
}

// RequestKind says what an Approver is asked.
type RequestKind uint8

// Request kinds: a whole session, or one destination of an approved send session.
const (
	KindSession RequestKind = iota + 1
	KindFile
)

// Request is what the engine asks its Approver. It holds data, not text: the prompt
// renders it (and must sanitize the peer-supplied names first).
type Request struct {
	Kind      RequestKind
	Direction Direction
	SessionID string
	// Bypass is the decoded `pw` value ("" when the client sent none). It may be a
	// plaintext password leaked by a buggy client: never log, echo or store it.
	Bypass string
	// Home is where relative paths land (terminal-side.md §8).
	Home string
	// Specs lists, for a receive session, what the remote asked to read.
	Specs []SpecInfo
	// File is, for KindFile, the destination an approved send session wants to write.
	File FileInfo
}

// SpecInfo describes one requested path of a receive session, resolved.
type SpecInfo struct {
	Name  string           // as the client sent it
	Path  string           // absolute, resolved as §8 says
	Type  scanner.FileType // valid when Err is empty
	Size  int64            // bytes; for a directory the total of its regular files
	Files int              // for a directory, the number of entries below it
	Err   string           // why the spec cannot be read, "" when it can
	// Partial says the count of a directory stopped at a cap (a huge tree): Files and
	// Size are then lower bounds.
	Partial bool
}

// FileInfo describes one destination of a send session.
type FileInfo struct {
	Path   string // absolute
	Type   scanner.FileType
	Exists bool
	Size   int64 // existing size when Exists
}

// Decision is an Approver's answer.
type Decision struct {
	Allow bool
	// AllowAll, on a KindFile request, allows every further destination of the session.
	AllowAll bool
	// How names what decided: "prompt", "bypass", "policy" (for the audit log).
	How string
	// Reason is a short human explanation (never containing the secret).
	Reason string
}

// An Approver decides whether a session may proceed and, for send sessions, whether a
// destination may be written. Approve may block (a prompt); it must honour ctx.
type Approver interface {
	Approve(ctx context.Context, r Request) Decision
}

// ApproverFunc turns a function into an Approver.
type ApproverFunc func(ctx context.Context, r Request) Decision

// Approve calls f.
func (f ApproverFunc) Approve(ctx context.Context, r Request) Decision { return f(ctx, r) }

// FixedApprover gives the same Decision to every request. It is meant for tests and for
// scripted use.
type FixedApprover Decision

// Approve returns d.
func (d FixedApprover) Approve(context.Context, Request) Decision { return Decision(d) }

// EventKind distinguishes audit events.
type EventKind uint8

// Event kinds.
const (
	EventSession EventKind = iota + 1 // a session decision
	EventFile                         // a file finished, failed or was refused
)

// Event is one audit record: a session decision or the fate of one file.
type Event struct {
	Time      time.Time
	Kind      EventKind
	Direction Direction
	SessionID string
	How       string // EventSession: prompt/bypass/policy
	Allowed   bool   // EventSession
	Path      string // EventFile
	Bytes     int64  // EventFile: bytes written or sent
	Result    string // EventFile: "OK", "CANCELED" or the error status sent
}
