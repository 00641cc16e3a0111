package approval

import (
	"context"
	"fmt"
	"time"

	"github.com/xferterm/xferterm/transfer"
)

// Question is what a person is asked. It is data; the prompt renders it.
//
// A session question (File == nil) asks whether to allow a whole transfer: for a send
// session it says where relative paths land (Home); for a receive session it lists
// the requested paths (Items), sensitive ones marked. A file question (File != nil)
// asks about one sensitive destination of an approved send session, and may offer
// "allow all" for the rest of the transfer within Scope.
type Question struct {
	Direction transfer.Direction
	// SessionID is the client's session id (sanitized before display).
	SessionID string
	// Home is this computer's home directory: where relative paths land, and how paths
	// are abbreviated to ~/….
	Home string
	// Items are the requested paths of a receive session question, in the client's
	// order, with Sensitive and Reason set.
	Items []transfer.Item
	// File is the subject of a file question, with Sensitive and Reason set.
	File *transfer.Item
	// Bypassed says the client proved the pre-shared password: it is asked anyway
	// because it reads sensitive paths.
	Bypassed bool
	// Scope is, for a file question, the directory an "allow all" answer reaches: the
	// rest of the transfer there (and below) that is sensitive for the same reason as
	// File. Empty: "allow all" is not offered.
	Scope string
	// QuietFor is how long an answer of DenyAll refuses every request without asking;
	// 0: that answer is not offered.
	QuietFor time.Duration
}

// Sensitive returns how many of the items are sensitive.
func (q Question) Sensitive() int {
	n := 0
	for _, it := range q.Items {
		if it.Sensitive {
			n++
		}
	}
	return n
}

// Choice is what a person answered. The zero value denies.
type Choice int

// Choices.
const (
	Deny     Choice = iota // refuse (also on Esc, Ctrl+C and timeout)
	Allow                  // allow this transfer, or this file
	AllowAll               // file questions: allow this file and the rest of the transfer within the Scope
	DenyAll                // refuse this, and every request (of any session) for QuietFor, without asking
)

func (c Choice) String() string {
	switch c {
	case Deny:
		return "deny"
	case Allow:
		return "allow"
	case AllowAll:
		return "allow all"
	case DenyAll:
		return "deny all"
	}
	return fmt.Sprintf("Choice(%d)", int(c))
}

// Answer is a person's answer to a Question.
type Answer struct {
	Choice Choice
	// TimedOut is set when nobody answered in time (Choice is then Deny).
	TimedOut bool
}

// Allowed reports whether the answer allows the transfer or file.
func (a Answer) Allowed() bool { return a.Choice == Allow || a.Choice == AllowAll }

// An Asker shows a Question to a person and waits for the Answer (package prompt
// implements it on the terminal). Ask returns when the person answers, when the
// question times out (TimedOut), or with an error when it cannot ask (no terminal)
// or ctx ends (the question was withdrawn, or the program is ending). The Approver
// calls it from its Run goroutine only, one question at a time.
type Asker interface {
	Ask(ctx context.Context, q Question) (Answer, error)
}

// AskerFunc turns a function into an Asker.
type AskerFunc func(ctx context.Context, q Question) (Answer, error)

// Ask calls f.
func (f AskerFunc) Ask(ctx context.Context, q Question) (Answer, error) { return f(ctx, q) }
