package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/xferterm/xferterm/approval"
	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/internal/termtext"
	"github.com/xferterm/xferterm/scanner"
)

// borrower lends the user's terminal to a prompt; *proxy.Console implements it.
type borrower interface {
	Borrow(ctx context.Context) (in io.Reader, out io.Writer, release func(), err error)
}

// promptFunc asks a question on a borrowed terminal; approval.Prompt in production.
type promptFunc func(ctx context.Context, in io.Reader, out io.Writer, q approval.Question, timeout time.Duration) (approval.Answer, error)

// approver is the engine's fs.Approver: it joins the bypass check, the policy, the
// prompt, the guard on sensitive paths and the audit log (terminal-side.md §3, §4).
type approver struct {
	verifier *approval.Verifier
	guard    *approval.Guard
	policy   approval.Policy
	timeout  time.Duration
	home     string
	console  borrower
	prompt   promptFunc
	audit    *approval.AuditLog // nil: no audit log
	stderr   io.Writer          // one-line notes when no prompt can be shown
}

// Approve implements fs.Approver.
func (a *approver) Approve(ctx context.Context, r fs.Request) fs.Decision {
	switch r.Kind {
	case fs.KindSession:
		return a.session(ctx, r)
	case fs.KindFile:
		return a.file(ctx, r)
	}
	return fs.Decision{How: string(approval.MethodPolicy), Reason: "unknown request"}
}

// session decides a whole transfer. A bypass value decides alone, synchronously and
// without a prompt (§3.1); otherwise the policy refuses or the user is asked.
func (a *approver) session(ctx context.Context, r fs.Request) fs.Decision {
	dir := direction(r.Direction)
	rec := approval.SessionRecord{Direction: dir, SessionID: r.SessionID}
	var d fs.Decision
	switch {
	case r.Bypass != "":
		scheme, err := a.verifier.Verify(r.SessionID, r.Bypass)
		rec.Method, rec.Scheme = approval.MethodBypass, scheme
		d = fs.Decision{Allow: err == nil, How: string(approval.MethodBypass)}
		if err != nil {
			// The error texts are fixed and never contain the value (approval's promise).
			d.Reason = err.Error()
			a.note("refused a %s request: %v", dir, err)
		}
	case a.policy == approval.PolicyDeny:
		rec.Method = approval.MethodPolicy
		d = fs.Decision{How: string(approval.MethodPolicy), Reason: "policy is deny"}
		a.note("refused a %s request: the policy is deny", dir)
	default:
		rec.Method = approval.MethodPrompt
		q := approval.Question{Direction: dir, SessionID: r.SessionID, Home: a.home, Items: a.items(r.Specs)}
		ans, err := a.ask(ctx, q)
		d = fs.Decision{Allow: err == nil && ans.Allowed(), How: string(approval.MethodPrompt)}
		switch {
		case err != nil:
			d.Reason = err.Error()
			a.note("refused a %s request: %v", dir, err)
		case ans.TimedOut:
			d.Reason = "timeout"
		case !d.Allow:
			d.Reason = "refused by the user"
		}
	}
	rec.Result, rec.Reason = approval.ResultDenied, d.Reason
	if d.Allow {
		rec.Result = approval.ResultAllowed
	}
	_ = a.audit.Session(rec) // Best effort: a broken log must not block transfers.
	return d
}

// file decides one destination of an approved send session: sensitive ones are asked
// about again, even after a bypass; without a terminal they are refused.
func (a *approver) file(ctx context.Context, r fs.Request) fs.Decision {
	existing := int64(-1)
	if r.File.Exists {
		existing = r.File.Size
	}
	v := a.guard.Write(r.File.Path, existing)
	if !v.Sensitive {
		return fs.Decision{Allow: true, How: string(approval.MethodPolicy)}
	}
	item := approval.Item{
		Path: r.File.Path, Type: itemType(r.File.Type), Size: r.File.Size, Files: -1,
		Exists: r.File.Exists, Sensitive: true, Reason: v.Reason,
	}
	if !r.File.Exists {
		item.Size = -1
	}
	q := approval.Question{Direction: approval.Upload, SessionID: r.SessionID, Home: a.home, File: &item}
	ans, err := a.ask(ctx, q)
	if err != nil {
		a.note("refused to write %s: %v", termtext.Sanitize(r.File.Path), err)
		return fs.Decision{How: string(approval.MethodPolicy), Reason: err.Error()}
	}
	return fs.Decision{
		Allow:    ans.Allowed(),
		AllowAll: ans.Decision == approval.AllowAll,
		How:      string(approval.MethodPrompt),
	}
}

// errNoTerminal is why nothing can be asked.
var errNoTerminal = errors.New("no terminal to ask on")

// ask borrows the terminal and shows q. Any failure denies.
func (a *approver) ask(ctx context.Context, q approval.Question) (approval.Answer, error) {
	if a.console == nil {
		return approval.Answer{}, errNoTerminal
	}
	in, out, release, err := a.console.Borrow(ctx)
	if err != nil {
		return approval.Answer{}, fmt.Errorf("%w: %v", errNoTerminal, err)
	}
	defer release()
	return a.prompt(ctx, in, out, q, a.timeout)
}

// items describes the specs of a receive session for the prompt.
func (a *approver) items(specs []fs.SpecInfo) []approval.Item {
	items := make([]approval.Item, 0, len(specs))
	for _, s := range specs {
		it := approval.Item{Path: s.Path, Type: itemType(s.Type), Size: s.Size, Files: -1}
		if s.Err != "" {
			it.Size, it.Reason = -1, "cannot be read"
		}
		if s.Type == scanner.FileDirectory {
			it.Files = s.Files
			if s.Partial {
				// The count stopped at the engine's cap: unknown is truer than a number.
				it.Files, it.Size = -1, -1
			}
		}
		if v := a.guard.Read(s.Path, s.Type == scanner.FileDirectory); v.Sensitive {
			it.Sensitive, it.Reason = true, v.Reason
		}
		items = append(items, it)
	}
	return items
}

// note writes one line to stderr, framed for a terminal in raw mode.
func (a *approver) note(format string, args ...any) {
	if a.stderr == nil {
		return
	}
	fmt.Fprintf(a.stderr, "\r\nxferterm: "+format+"\r\n", args...)
}

func direction(d fs.Direction) approval.Direction {
	if d == fs.DirectionReceive {
		return approval.Download
	}
	return approval.Upload
}

func itemType(t scanner.FileType) approval.ItemType {
	switch t {
	case scanner.FileDirectory:
		return approval.ItemDirectory
	case scanner.FileSymlink:
		return approval.ItemSymlink
	}
	return approval.ItemFile
}

// auditEvents turns the engine's file events into audit records.
func auditEvents(log *approval.AuditLog) func(fs.Event) {
	if log == nil {
		return nil
	}
	return func(ev fs.Event) {
		if ev.Kind != fs.EventFile {
			return // Session decisions are recorded by the approver, with their method.
		}
		rec := approval.FileRecord{
			Time: ev.Time, Direction: direction(ev.Direction), SessionID: ev.SessionID,
			Path: ev.Path, Bytes: ev.Bytes, Result: approval.ResultOK,
		}
		switch ev.Result {
		case scanner.StatusOK:
		case scanner.StatusCanceled:
			rec.Result = approval.ResultCanceled
		case scanner.StatusDestinationRefused:
			rec.Result, rec.Error = approval.ResultDenied, ev.Result
		default:
			rec.Result, rec.Error = approval.ResultError, ev.Result
		}
		_ = log.File(rec) // Best effort, as above.
	}
}
