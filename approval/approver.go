package approval

import (
	"errors"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/xferterm/xferterm/bypass"
	"github.com/xferterm/xferterm/internal/termtext"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// Verifier checks a bypass value for a session (bypass.Verifier implements it).
type Verifier interface {
	Verify(id, pw string) (bypass.Scheme, error)
}

// Limits bound how many questions a remote can put to the user. The zero value of a
// field means its default.
type Limits struct {
	// MaxQuestions is how many questions may be open at once: the one shown and those
	// waiting behind it. A request beyond that is refused without asking. Default 5.
	MaxQuestions int
	// BrakeDenials denials within BrakeWindow engage the brake: for BrakeFor, every
	// request that would be asked is refused without asking. Defaults 3, 1 minute,
	// 2 minutes.
	BrakeDenials int
	BrakeWindow  time.Duration
	BrakeFor     time.Duration
	// QuietFor is how long the answer "deny everything" refuses every request that
	// would be asked. Default 10 minutes.
	QuietFor time.Duration
}

// Default limits.
const (
	DefaultMaxQuestions = 5
	DefaultBrakeDenials = 3
	DefaultBrakeWindow  = time.Minute
	DefaultBrakeFor     = 2 * time.Minute
	DefaultQuietFor     = 10 * time.Minute
)

func (l Limits) withDefaults() Limits {
	l.MaxQuestions = positiveOr(l.MaxQuestions, DefaultMaxQuestions)
	l.BrakeDenials = positiveOr(l.BrakeDenials, DefaultBrakeDenials)
	l.BrakeWindow = positiveOr(l.BrakeWindow, DefaultBrakeWindow)
	l.BrakeFor = positiveOr(l.BrakeFor, DefaultBrakeFor)
	l.QuietFor = positiveOr(l.QuietFor, DefaultQuietFor)
	return l
}

// positiveOr returns v if it is positive, else def.
func positiveOr[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Options configure an Approver.
type Options struct {
	// Home is this computer's home directory, for the questions. Required.
	Home string
	// Guard classifies paths. Required.
	Guard *Guard
	// Verifier checks bypass values; nil refuses every bypass.
	Verifier Verifier
	// Policy is PolicyAsk (the default) or PolicyDeny.
	Policy Policy
	// Asker shows questions to a person; nil: nobody can be asked, and every request
	// that needs a person is refused.
	Asker Asker
	// Audit records every session decision; nil records nothing.
	Audit *AuditLog
	// Notes receives a line when something is refused without a question, framed for a
	// terminal in raw mode ("\r\nxferterm: …\r\n"); nil: none.
	Notes io.Writer
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Limits Limits
}

// Approver is xferterm's transfer.Approver: the one place where a transfer is decided.
// See the package comment for the order of the steps and who runs them.
//
// Ask is safe for concurrent use and never blocks (the engine calls it with its lock
// held). Run serves the questions for a person, one at a time, on its own goroutine.
type Approver struct {
	opts Options // read-only after New

	notes *notes // says the lines for Notes

	mu        sync.Mutex    // guards the fields below; never held while calling out (answer, Asker, Audit, Notes)
	waiting   []*ticket     // questions posted, oldest first, not yet shown
	shown     bool          // Run is showing a question
	wake      chan struct{} // capacity 1: a token means Run may have a question to show
	denials   []time.Time   // recent denials by the person, for the brake
	brakeEnd  time.Time     // until then the brake refuses without asking
	quietEnd  time.Time     // until then "deny everything" refuses without asking
	fullNoted bool          // the note about too many questions was given since none was last open
}

// New returns an Approver.
func New(opts Options) (*Approver, error) {
	if opts.Guard == nil {
		return nil, errors.New("approval: no guard")
	}
	if opts.Home == "" {
		return nil, errors.New("approval: no home directory")
	}
	if opts.Policy == "" {
		opts.Policy = PolicyAsk
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Limits = opts.Limits.withDefaults()
	return &Approver{opts: opts, notes: newNotes(opts.Notes, opts.Now), wake: make(chan struct{}, 1)}, nil
}

// Record is the engine's audit event sink (fs.Config.Events): file events go to the
// audit log. It may be called with the engine's lock held.
func (a *Approver) Record(ev transfer.Event) {
	a.audited(a.opts.Audit.Event(ev))
}

// Ask implements transfer.Approver: bypass → policy → guard → prompt → audit.
func (a *Approver) Ask(r transfer.Request, answer func(transfer.Decision)) (transfer.Decision, transfer.Pending) {
	if r.File != nil {
		return a.askFile(r, answer)
	}
	return a.askSession(r, answer)
}

// askSession decides a whole session (terminal-side.md §3, §4).
func (a *Approver) askSession(r transfer.Request, answer func(transfer.Decision)) (transfer.Decision, transfer.Pending) {
	rec := &SessionRecord{Direction: r.Direction, SessionID: r.SessionID}
	q := Question{Direction: r.Direction, SessionID: r.SessionID, Home: a.opts.Home, Items: a.items(r.Items)}

	// 1. Bypass: a pw value decides alone, synchronously (§3.2). A valid one is asked
	// about only for reading sensitive paths, as a valid one is for writing them
	// (askFile): the password proves who asks, not that they may have everything.
	if r.Bypass != "" {
		scheme, err := bypass.Scheme(""), bypass.ErrNoPassword
		if a.opts.Verifier != nil {
			scheme, err = a.opts.Verifier.Verify(r.SessionID, r.Bypass)
		}
		rec.Method, rec.Scheme = transfer.MethodBypass, scheme
		if err != nil {
			// The error texts never contain the value (bypass's promise).
			repeated := ""
			if errors.Is(err, bypass.ErrMismatch) {
				repeated = "; the remote may be guessing the password"
			}
			a.notes.say(repeated, "refused a %s request: %v", r.Direction, err)
			return a.record(rec, transfer.Decision{How: transfer.MethodBypass, Reason: err.Error()}), nil
		}
		if q.Sensitive() == 0 {
			return a.record(rec, transfer.Decision{Allow: true, How: transfer.MethodBypass}), nil
		}
		q.Bypassed = true
		return a.post(rec, q, transfer.Decision{}, answer)
	}
	// 2. Policy.
	if a.opts.Policy == PolicyDeny {
		rec.Method = transfer.MethodPolicy
		a.note("refused a %s request: the policy is deny", r.Direction)
		return a.record(rec, transfer.Decision{How: transfer.MethodPolicy, Reason: "policy is deny"}), nil
	}
	// 3. The guard has marked the items (a.items); 4. the person is asked.
	return a.post(rec, q, transfer.Decision{}, answer)
}

// askFile decides one destination of an approved send session: one that is not
// sensitive is allowed; a sensitive one is asked about, even after a bypass, unless an
// earlier "allow all" of the session covers it: the same reason, in the directory that
// question named (or below).
//
// An existing directory is a destination too, because the remote's permissions are
// given to it at the end (terminal-side.md §6.6): never to HOME, a write root or a
// directory above one (Guard.KeepsMode), and, where they would open it to group or
// others, only when the user allows that very change (the question says so).
func (a *Approver) askFile(r transfer.Request, answer func(transfer.Decision)) (transfer.Decision, transfer.Pending) {
	f := *r.File
	existing := int64(-1)
	if f.Exists {
		existing = f.Size
	}
	v := a.opts.Guard.Write(f.Path, existing)
	if f.Type == scanner.FileSymlink && f.Target != "" {
		v = a.link(f) // the link's own place was decided when it was announced
	}
	setMode := true
	if f.Type == scanner.FileDirectory && f.Exists {
		switch {
		case a.opts.Guard.KeepsMode(f.Path):
			setMode = false
		case f.Perm.Set && opens(f.Mode, uint32(f.Perm.Value)&0o777):
			v = v.and(reasonOpensDirectory)
		}
	}
	if !v.Sensitive {
		// Not sensitive: the old file may be read for a delta.
		return transfer.Decision{Allow: true, How: transfer.MethodPolicy, ReadOld: true, SetMode: setMode}, nil
	}
	for _, g := range r.Grants {
		if g.Reason == v.Reason && g.Dir != "" && within(filepath.Clean(f.Path), g.Dir) {
			return transfer.Decision{Allow: true, How: transfer.MethodPrompt, Reason: "allowed with the rest of the transfer", SetMode: setMode}, nil
		}
	}
	f.Sensitive, f.Reason = true, v.Reason
	return a.post(nil, Question{
		Direction: transfer.Send, SessionID: r.SessionID, Home: a.opts.Home,
		File: &f, Scope: allowAllScope(f.Path),
	}, transfer.Decision{SetMode: setMode}, answer)
}

// link classifies a symbolic link whose data has arrived by where it leads: a link to a
// place that is sensitive to write, or to read, or outside the write roots, is itself
// a sensitive write, since reads and writes through it would land there.
func (a *Approver) link(f transfer.Item) Verdict {
	v := a.opts.Guard.Write(f.Target, -1)
	if !v.Sensitive {
		v = a.opts.Guard.Read(f.Target, f.TargetDir)
	}
	if v.Sensitive {
		v.Reason = "link target: " + v.Reason
	}
	return v
}

// reasonOpensDirectory is why changing an existing directory's permissions is asked
// about.
const reasonOpensDirectory = "opens an existing directory to group or others"

// allowAllScope is the directory an "allow all" answer about path reaches: its parent,
// and below. It is not offered for a parent that is the root (everything outside the
// write roots would follow) or for a path that is not absolute.
func allowAllScope(path string) string {
	if !filepath.IsAbs(path) {
		return ""
	}
	dir := filepath.Dir(filepath.Clean(path))
	if dir == "/" {
		return ""
	}
	return dir
}

// items marks the sensitive specs of a receive session for the question. A count that
// stopped at the engine's cap shows as unknown: that is truer than a number.
//
// A spec is judged by its path and by where it really leads (Item.Target: through a
// symbolic link, its own or one of its parents'): a link planted by the remote cannot
// make ~/.ssh look like ~/photos.
func (a *Approver) items(specs []transfer.Item) []transfer.Item {
	items := make([]transfer.Item, len(specs))
	for i, s := range specs {
		it := s
		if it.Err != "" {
			it.Size, it.Reason = -1, "cannot be read"
		}
		if it.Type == scanner.FileDirectory && it.Partial {
			it.Files, it.Size = -1, -1
		}
		if v := a.read(it); v.Sensitive {
			it.Sensitive, it.Reason = true, v.Reason
		}
		items[i] = it
	}
	return items
}

// read classifies a spec by its path and by its Target (the question shows both).
func (a *Approver) read(it transfer.Item) Verdict {
	if v := a.opts.Guard.Read(it.Path, it.Type == scanner.FileDirectory); v.Sensitive || it.Target == "" {
		return v
	}
	return a.opts.Guard.Read(it.Target, it.TargetDir)
}

// record writes the audit record of a session decision (when rec is not nil: file
// decisions are recorded by the engine's file events) and returns d.
func (a *Approver) record(rec *SessionRecord, d transfer.Decision) transfer.Decision {
	if rec == nil {
		return d
	}
	r := *rec
	if r.Method == "" {
		r.Method = d.How
	}
	r.Result, r.Reason = ResultDenied, d.Reason
	if d.Allow {
		r.Result = ResultAllowed
	}
	a.audited(a.opts.Audit.Session(r))
	return d
}

// audited tells the user when the audit log could not be written. Writing it is best
// effort: a broken log must not block transfers.
func (a *Approver) audited(err error) {
	if err != nil {
		a.note("the audit log could not be written: %v", err)
	}
}

// note writes one line to Notes, framed for a terminal in raw mode, at a bounded rate
// (see notes).
func (a *Approver) note(format string, args ...any) { a.notes.say("", format, args...) }

// refusal is the decision for a question that cannot be asked.
func refusal(reason string) transfer.Decision {
	return transfer.Decision{How: transfer.MethodPolicy, Reason: reason}
}

// describe names what a question is about, for notes.
func describe(q Question) string {
	if q.File != nil {
		return "writing " + termtext.Sanitize(q.File.Path)
	}
	return "a " + q.Direction.String() + " request"
}
