package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/xferterm/xferterm/approval"
	"github.com/xferterm/xferterm/internal/termtext"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
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

// Ask implements transfer.Approver: what needs no prompt is decided at once; a prompt
// runs on its own goroutine and answers when it ends.
func (a *approver) Ask(r transfer.Request, answer func(transfer.Decision)) (transfer.Decision, transfer.Pending) {
	needsPrompt := r.Bypass == "" && a.policy != approval.PolicyDeny
	if r.File != nil {
		existing := int64(-1)
		if r.File.Exists {
			existing = r.File.Size
		}
		needsPrompt = a.guard.Write(r.File.Path, existing).Sensitive && len(r.Grants) == 0
	}
	if !needsPrompt {
		return a.Approve(context.Background(), r), nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { answer(a.Approve(ctx, r)) }()
	return transfer.Decision{}, withdrawFunc(cancel)
}

// withdrawFunc is a transfer.Pending that cancels the prompt's context.
type withdrawFunc context.CancelFunc

func (f withdrawFunc) Withdraw() { f() }

// Approve decides r, asking the user when it must.
func (a *approver) Approve(ctx context.Context, r transfer.Request) transfer.Decision {
	if r.File != nil {
		return a.file(ctx, r)
	}
	return a.session(ctx, r)
}

// session decides a whole transfer. A bypass value decides alone, synchronously and
// without a prompt (§3.1); otherwise the policy refuses or the user is asked.
func (a *approver) session(ctx context.Context, r transfer.Request) transfer.Decision {
	dir := direction(r.Direction)
	rec := approval.SessionRecord{Direction: dir, SessionID: r.SessionID}
	var d transfer.Decision
	switch {
	case r.Bypass != "":
		scheme, err := a.verifier.Verify(r.SessionID, r.Bypass)
		rec.Method, rec.Scheme = approval.MethodBypass, scheme
		d = transfer.Decision{Allow: err == nil, How: transfer.MethodBypass}
		if err != nil {
			// The error texts are fixed and never contain the value (approval's promise).
			d.Reason = err.Error()
			a.note("refused a %s request: %v", dir, err)
		}
	case a.policy == approval.PolicyDeny:
		rec.Method = approval.MethodPolicy
		d = transfer.Decision{How: transfer.MethodPolicy, Reason: "policy is deny"}
		a.note("refused a %s request: the policy is deny", dir)
	default:
		rec.Method = approval.MethodPrompt
		q := approval.Question{Direction: dir, SessionID: r.SessionID, Home: a.home, Items: a.items(r.Items)}
		ans, err := a.ask(ctx, q)
		d = transfer.Decision{Allow: err == nil && ans.Allowed(), How: transfer.MethodPrompt}
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
func (a *approver) file(ctx context.Context, r transfer.Request) transfer.Decision {
	existing := int64(-1)
	if r.File.Exists {
		existing = r.File.Size
	}
	v := a.guard.Write(r.File.Path, existing)
	if !v.Sensitive || len(r.Grants) > 0 {
		return transfer.Decision{Allow: true, How: transfer.MethodPolicy}
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
		return transfer.Decision{How: transfer.MethodPolicy, Reason: err.Error()}
	}
	d := transfer.Decision{Allow: ans.Allowed(), How: transfer.MethodPrompt}
	if ans.Decision == approval.AllowAll {
		d.Grant = &transfer.Grant{Reason: "allow all"}
	}
	return d
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
func (a *approver) items(specs []transfer.Item) []approval.Item {
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

func direction(d transfer.Direction) approval.Direction {
	if d == transfer.Receive {
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
func auditEvents(log *approval.AuditLog) func(transfer.Event) {
	if log == nil {
		return nil
	}
	return func(ev transfer.Event) {
		if ev.Kind != transfer.EventFile {
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
