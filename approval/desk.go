package approval

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/xferterm/xferterm/transfer"
)

// ticket is one question for a person, from the moment it is posted until it is
// answered, refused or withdrawn. Its fields are guarded by Approver.mu, except the
// read-only ones.
type ticket struct {
	a      *Approver
	q      Question                // read-only
	rec    *SessionRecord          // read-only; nil for a file question
	allow  transfer.Decision       // read-only: what an allowing answer grants besides Allow
	answer func(transfer.Decision) // read-only; called once, without a.mu held

	done bool               // answered, refused or withdrawn: nothing more happens to it
	stop context.CancelFunc // while shown: takes the prompt down
}

// errWithdrawn is why a withdrawn question's prompt ended.
var errWithdrawn = errors.New("approval: the question was withdrawn")

// post queues q for a person and returns it as pending; or, when it cannot be asked
// (nobody to ask, "deny everything" or the brake in force, too many questions
// waiting), refuses it at once. allow is the decision an allowing answer gives, besides
// Allow, How and Grant. Called by Ask, on the engine's goroutine.
func (a *Approver) post(rec *SessionRecord, q Question, allow transfer.Decision, answer func(transfer.Decision)) (transfer.Decision, transfer.Pending) {
	if rec != nil {
		rec.Method = transfer.MethodPrompt
	}
	a.mu.Lock()
	now := a.opts.Now()
	var reason string
	full := false
	switch {
	case a.opts.Asker == nil:
		reason = "no terminal to ask on"
	case now.Before(a.quietEnd):
		reason = "the user refuses every request for now"
	case now.Before(a.brakeEnd):
		reason = "too many requests refused in a short time"
	case a.open() >= a.opts.Limits.MaxQuestions:
		reason, full = "too many questions waiting", true
	}
	if reason == "" {
		t := &ticket{a: a, q: q, rec: rec, allow: allow, answer: answer}
		a.waiting = append(a.waiting, t)
		a.mu.Unlock()
		select {
		case a.wake <- struct{}{}:
		default:
		}
		return transfer.Decision{}, t
	}
	noteFull, open := full && !a.fullNoted, a.open()
	if full {
		a.fullNoted = true
	}
	a.mu.Unlock()
	switch {
	case a.opts.Asker == nil:
		a.note("refused %s: %s", describe(q), reason)
	case noteFull:
		a.note("refused %s: %d questions are waiting already; more are refused without asking", describe(q), open)
	}
	return a.record(rec, refusal(reason)), nil
}

// open is how many questions are open: shown or waiting. Called with a.mu held.
func (a *Approver) open() int {
	n := len(a.waiting)
	if a.shown {
		n++
	}
	return n
}

// Withdraw implements transfer.Pending: the question leaves the queue, or its prompt
// is taken down. It does not block (the engine calls it with its lock held).
func (t *ticket) Withdraw() {
	a := t.a
	a.mu.Lock()
	if t.done {
		a.mu.Unlock()
		return
	}
	t.done = true
	for i, w := range a.waiting {
		if w == t {
			a.waiting = append(a.waiting[:i], a.waiting[i+1:]...)
			break
		}
	}
	stop := t.stop
	a.mu.Unlock()
	if stop != nil {
		stop()
	}
	a.record(t.rec, transfer.Decision{How: transfer.MethodPrompt, Reason: "withdrawn: the session ended"})
}

// Run shows the questions to the Asker, one at a time, oldest first, until ctx ends;
// then it refuses those still waiting and returns ctx's error. It is the only caller
// of the Asker. Run it on its own goroutine, once, for as long as the engine runs.
func (a *Approver) Run(ctx context.Context) error {
	for {
		t, askCtx, stop := a.next(ctx)
		if t == nil {
			a.refuseWaiting("shutting down")
			return ctx.Err()
		}
		ans, err := a.opts.Asker.Ask(askCtx, t.q)
		stop()
		a.answered(t, ans, err)
	}
}

// next waits for a question and marks it shown; nil when ctx ends first.
func (a *Approver) next(ctx context.Context) (*ticket, context.Context, context.CancelFunc) {
	for {
		a.mu.Lock()
		if len(a.waiting) > 0 {
			t := a.waiting[0]
			a.waiting = a.waiting[1:]
			if len(a.waiting) == 0 {
				a.waiting = nil
			}
			askCtx, stop := context.WithCancelCause(ctx)
			t.stop = func() { stop(errWithdrawn) }
			t.q.QuietFor = a.opts.Limits.QuietFor
			a.shown = true
			a.mu.Unlock()
			return t, askCtx, func() { stop(nil) }
		}
		a.mu.Unlock()
		select {
		case <-a.wake:
		case <-ctx.Done():
			return nil, nil, nil
		}
	}
}

// answered turns the person's answer into the decision, applies what it says about
// later questions ("deny everything", the brake), and delivers it.
func (a *Approver) answered(t *ticket, ans Answer, err error) {
	var d transfer.Decision
	switch {
	case err != nil:
		d = refusal(err.Error())
	case ans.Allowed():
		d = t.allow
		d.Allow, d.How = true, transfer.MethodPrompt
		if ans.Choice == AllowAll && t.q.File != nil && t.q.Scope != "" {
			d.Grant = &transfer.Grant{Reason: t.q.File.Reason, Dir: t.q.Scope}
		}
	case ans.TimedOut:
		d = transfer.Decision{How: transfer.MethodPrompt, Reason: "timeout"}
	default:
		d = transfer.Decision{How: transfer.MethodPrompt, Reason: "refused by the user"}
	}

	a.mu.Lock()
	a.shown = false
	if t.done {
		a.fullNoted = a.fullNoted && a.open() > 0
		a.mu.Unlock()
		return // withdrawn while shown: recorded then
	}
	t.done = true
	now := a.opts.Now()
	var quiet, brake bool
	if err == nil && !ans.Allowed() {
		if ans.Choice == DenyAll {
			a.quietEnd, quiet = now.Add(a.opts.Limits.QuietFor), true
		} else if a.countDenial(now) {
			a.brakeEnd, brake = now.Add(a.opts.Limits.BrakeFor), true
		}
	}
	// What waits is refused in the same step: a question posted after this is judged
	// by the new state, never refused by it.
	var refused []*ticket
	if quiet || brake {
		refused = a.takeWaiting()
	}
	a.fullNoted = a.fullNoted && a.open() > 0
	a.mu.Unlock()

	// The notes come first: when the decisions arrive, what they say has been said.
	if err != nil && !errors.Is(err, context.Canceled) {
		a.note("refused %s: %v", describe(t.q), err)
	}
	reason := ""
	switch {
	case quiet:
		reason = "the user refuses every request for now"
		a.note("refusing every transfer request without asking for the next %s (you chose \"deny all\")", minutes(a.opts.Limits.QuietFor))
	case brake:
		reason = "too many requests refused in a short time"
		a.note("%d transfer requests refused within %s: refusing new ones without asking for the next %s",
			a.opts.Limits.BrakeDenials, minutes(a.opts.Limits.BrakeWindow), minutes(a.opts.Limits.BrakeFor))
	}
	a.record(t.rec, d)
	t.answer(d)
	a.refuse(refused, reason)
}

// countDenial records a denial at now and reports whether it engages the brake.
// Called with a.mu held.
func (a *Approver) countDenial(now time.Time) bool {
	keep := a.denials[:0]
	for _, at := range a.denials {
		if now.Sub(at) < a.opts.Limits.BrakeWindow {
			keep = append(keep, at)
		}
	}
	a.denials = append(keep, now)
	if len(a.denials) < a.opts.Limits.BrakeDenials {
		return false
	}
	a.denials = a.denials[:0]
	return true
}

// refuseWaiting refuses every question still waiting, without asking.
func (a *Approver) refuseWaiting(reason string) {
	a.mu.Lock()
	waiting := a.takeWaiting()
	a.mu.Unlock()
	a.refuse(waiting, reason)
}

// takeWaiting empties the queue and returns what it held, marked done. Called with a.mu
// held.
func (a *Approver) takeWaiting() []*ticket {
	waiting := a.waiting
	a.waiting = nil
	for _, t := range waiting {
		t.done = true
	}
	a.fullNoted = a.fullNoted && a.open() > 0
	return waiting
}

// refuse delivers the refusal of questions taken from the queue; called without a.mu.
func (a *Approver) refuse(tickets []*ticket, reason string) {
	for _, t := range tickets {
		t.answer(a.record(t.rec, refusal(reason)))
	}
}

// minutes formats a duration for a note: "10 minutes", "1 minute", "1m30s".
func minutes(d time.Duration) string {
	if d%time.Minute != 0 {
		return d.Round(time.Second).String()
	}
	if n := int(d / time.Minute); n != 1 {
		return strconv.Itoa(n) + " minutes"
	}
	return "1 minute"
}
