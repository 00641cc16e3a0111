package approval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/xferterm/xferterm/bypass"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// Result values used in audit records.
const (
	ResultAllowed  = "allowed"
	ResultDenied   = "denied"
	ResultOK       = "ok"
	ResultError    = "error"
	ResultCanceled = "canceled"
)

// SessionRecord is the audit record of one session decision.
type SessionRecord struct {
	Time      time.Time          `json:"time"`             // filled in from the log's clock if zero
	Kind      string             `json:"kind"`             // always "session"
	Direction transfer.Direction `json:"direction"`        // send or receive
	SessionID string             `json:"session"`          // as the client sent it
	Method    transfer.Method    `json:"method"`           // prompt, bypass or policy
	Scheme    bypass.Scheme      `json:"scheme,omitempty"` // bypass scheme, when a bypass value was checked and its scheme known
	Result    string             `json:"result"`           // ResultAllowed or ResultDenied
	Reason    string             `json:"reason,omitempty"` // our own words: "timeout", a bypass.Err… text; never a secret
	Count     int                `json:"count,omitempty"`  // see Repeats; 0 means 1
	Since     time.Time          `json:"since,omitzero"`   // see Repeats
}

// FileRecord is the audit record of one file of a session, or of several that failed
// alike.
type FileRecord struct {
	Time      time.Time          `json:"time"`            // filled in from the log's clock if zero
	Kind      string             `json:"kind"`            // always "file"
	Direction transfer.Direction `json:"direction"`       // send or receive
	SessionID string             `json:"session"`         // as the client sent it
	Path      string             `json:"path"`            // local absolute path (of the last, for several)
	Bytes     int64              `json:"bytes"`           // bytes written or sent
	Result    string             `json:"result"`          // ResultOK, ResultError, ResultDenied or ResultCanceled
	Error     string             `json:"error,omitempty"` // the status text sent to the client, if any
	Count     int                `json:"count,omitempty"` // see Repeats; 0 means 1
	Since     time.Time          `json:"since,omitzero"`  // see Repeats
}

// LostRecord says that records could not be written: the first record written after
// a failure. It is written once the log can be written again.
type LostRecord struct {
	Time  time.Time `json:"time"`
	Kind  string    `json:"kind"`  // always "lost"
	Count int       `json:"count"` // records that were not written
	Since time.Time `json:"since"` // when the first of them was
	Error string    `json:"error"` // why the first of them was not written
}

// Repeats: a session that is refused, or a file that fails (an error, a refusal, a
// cancel), is written at once in full; more of the same kind within the log's repeat
// window (same direction, method, scheme, result and reason for sessions; same
// session, result and error for files) are counted, and written as one record when
// the window ends: Count is how many it stands for, Since when the first of them was,
// the rest is the last of them. So a remote that makes thousands of sessions fail adds
// two lines a minute per kind, not one per session. A record the engine hands over
// with a count (transfer.Event.Count) counts that many. The counts of a window that
// has not ended are written at the next record or when the log closes (a crash loses
// them, never the first of a kind).

// Limits of the audit log.
const (
	// DefaultAuditMaxSize is when the log file is rotated: a record that would take it
	// past this size is written to a new file, after the old one has been renamed to
	// <path>.1 (replacing the one before). The log takes at most twice this on disk.
	DefaultAuditMaxSize = 8 << 20

	// DefaultAuditRepeatWindow is how long failures of one kind are counted before the
	// count is written (see Repeats).
	DefaultAuditRepeatWindow = time.Minute

	// maxRuns is how many kinds of failure are counted at once; a new kind beyond that
	// ends the oldest count.
	maxRuns = 16

	// maxField bounds each text field of a record (a path, an error, a session id):
	// longer ones are cut, so that one record stays a line of reasonable size.
	maxField = 4096
)

// AuditOptions configure OpenAuditLog.
type AuditOptions struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxSize is when the file is rotated; <= 0 means DefaultAuditMaxSize.
	MaxSize int64
	// RepeatWindow is how long like failures are counted; <= 0 means
	// DefaultAuditRepeatWindow.
	RepeatWindow time.Duration
}

// AuditLog appends one JSON object per line. It is safe for concurrent use; each
// record is one Write. A nil *AuditLog is a disabled log: its methods do nothing and
// return nil.
//
// A record that cannot be written (a full disk, a path replaced by a symbolic link)
// is lost, and the error is returned; the log goes on trying with the next record, and
// the first one it writes again is a LostRecord that counts what was lost. A line cut
// short by the failure is ended before the next record, so every other line stays
// valid JSON.
type AuditLog struct {
	now    func() time.Time // read-only after creation
	window time.Duration    // read-only after creation

	mu     sync.Mutex // guards the fields below
	out    auditOut
	runs   []*run     // failures being counted, oldest first
	lost   LostRecord // records lost since the last write that worked (Count 0: none)
	torn   bool       // the last write stopped inside a line
	closed bool
}

// auditOut is where the lines of an AuditLog go.
type auditOut interface {
	write(line []byte) (int, error)
	close() error
}

// run counts the failures of one kind after the one written in full.
type run struct {
	key   runKey
	start time.Time // when the one written in full was
	count int       // counted since, not yet written
	since time.Time // the first of those
	last  countable // the last of those
}

// countable is a record that can stand for several (SessionRecord, FileRecord).
type countable interface {
	at() time.Time
	counted(n int, since time.Time) countable
}

func (r SessionRecord) at() time.Time { return r.Time }
func (r FileRecord) at() time.Time    { return r.Time }

func (r SessionRecord) counted(n int, since time.Time) countable {
	r.Count, r.Since = n, since
	return r
}

func (r FileRecord) counted(n int, since time.Time) countable {
	r.Count, r.Since = n, since
	return r
}

// runKey is what failures of one kind share.
type runKey struct {
	kind           string
	direction      transfer.Direction
	session        string // files only: failures are counted per session
	method         transfer.Method
	scheme         bypass.Scheme
	result, reason string
}

// ErrAuditLogClosed is returned by an AuditLog after Close.
var ErrAuditLogClosed = errors.New("approval: audit log closed")

// NewAuditLog returns a log that writes to w, which it does not close.
func NewAuditLog(w io.Writer, now func() time.Time) *AuditLog {
	return newAuditLog(writerOut{w}, AuditOptions{Now: now})
}

func newAuditLog(out auditOut, opts AuditOptions) *AuditLog {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RepeatWindow <= 0 {
		opts.RepeatWindow = DefaultAuditRepeatWindow
	}
	return &AuditLog{now: opts.Now, window: opts.RepeatWindow, out: out}
}

// writerOut is an auditOut on a writer.
type writerOut struct{ w io.Writer }

func (o writerOut) write(line []byte) (int, error) { return o.w.Write(line) }
func (o writerOut) close() error                   { return nil }

// Session appends a session record.
func (l *AuditLog) Session(r SessionRecord) error {
	if l == nil {
		return nil
	}
	r.Kind = "session"
	r.SessionID, r.Reason = cut(r.SessionID), cut(r.Reason)
	if r.Time.IsZero() {
		r.Time = l.now()
	}
	var key *runKey
	if r.Result == ResultDenied {
		key = &runKey{kind: r.Kind, direction: r.Direction, method: r.Method, scheme: r.Scheme, result: r.Result, reason: r.Reason}
	}
	return l.add(key, max(r.Count, 1), r)
}

// File appends a file record.
func (l *AuditLog) File(r FileRecord) error {
	if l == nil {
		return nil
	}
	r.Kind = "file"
	r.SessionID, r.Path, r.Error = cut(r.SessionID), cut(r.Path), cut(r.Error)
	if r.Time.IsZero() {
		r.Time = l.now()
	}
	var key *runKey
	if r.Result != ResultOK {
		key = &runKey{kind: r.Kind, direction: r.Direction, session: r.SessionID, result: r.Result, reason: r.Error}
	}
	return l.add(key, max(r.Count, 1), r)
}

// Event records the engine's event of the fate of one file, or of Count files that
// failed alike (fs.Config.Events). Session events are not recorded here: the Approver
// records each session decision, with how it was made, when it makes it.
func (l *AuditLog) Event(ev transfer.Event) error {
	if l == nil || ev.Kind != transfer.EventFile {
		return nil
	}
	rec := FileRecord{
		Time: ev.Time, Direction: ev.Direction, SessionID: ev.SessionID,
		Path: ev.Path, Bytes: ev.Bytes, Result: ResultOK, Count: ev.Count,
	}
	switch ev.Result {
	case scanner.StatusOK:
	case scanner.StatusCanceled:
		rec.Result = ResultCanceled
	case scanner.StatusDestinationRefused:
		rec.Result, rec.Error = ResultDenied, ev.Result
	default:
		rec.Result, rec.Error = ResultError, ev.Result
	}
	return l.File(rec)
}

// add writes rec, which stands for n events, or counts it in the run of its kind (key
// not nil).
func (l *AuditLog) add(key *runKey, n int, rec countable) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrAuditLogClosed
	}
	now := l.now()
	err := l.endRuns(func(r *run) bool { return now.Sub(r.start) >= l.window })
	if key != nil {
		for _, r := range l.runs {
			if r.key == *key {
				if r.count == 0 {
					r.since = rec.at()
				}
				r.count += n
				r.last = rec
				return err
			}
		}
		if len(l.runs) == maxRuns {
			oldest := l.runs[0]
			err = errors.Join(err, l.endRuns(func(r *run) bool { return r == oldest }))
		}
		l.runs = append(l.runs, &run{key: *key, start: now})
	}
	return errors.Join(err, l.write(rec))
}

// endRuns writes the count of each run for which end holds, and forgets the run.
// Called with l.mu held.
func (l *AuditLog) endRuns(end func(*run) bool) error {
	var errs error
	kept := l.runs[:0]
	for _, r := range l.runs {
		if !end(r) {
			kept = append(kept, r)
			continue
		}
		if r.count > 0 {
			errs = errors.Join(errs, l.write(r.last.counted(r.count, r.since)))
		}
	}
	clear(l.runs[len(kept):])
	l.runs = kept
	return errs
}

// write writes one record as a line; a lost one is counted. Called with l.mu held.
func (l *AuditLog) write(rec any) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("approval: audit log: %w", err)
	}
	if l.lost.Count > 0 {
		lost := l.lost
		lost.Kind, lost.Time = "lost", l.now()
		if lostLine, err := json.Marshal(lost); err == nil {
			line = append(append(lostLine, '\n'), line...)
		}
	}
	line = append(escapeC1(line), '\n')
	if l.torn {
		line = append([]byte{'\n'}, line...)
	}
	n, err := l.out.write(line)
	if err == nil {
		l.lost, l.torn = LostRecord{}, false
		return nil
	}
	l.torn = l.torn && n == 0 || n > 0 && n < len(line)
	if l.lost.Count == 0 {
		l.lost = LostRecord{Since: l.now(), Error: err.Error()}
	}
	l.lost.Count++
	return fmt.Errorf("approval: audit log: %w", err)
}

// Close writes the counts of failures not written yet, and closes the file opened by
// OpenAuditLog. Later writes return ErrAuditLogClosed; later calls to Close do
// nothing and return nil.
func (l *AuditLog) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	err := l.endRuns(func(*run) bool { return true })
	l.closed = true
	if cerr := l.out.close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("approval: audit log: %w", cerr))
	}
	return err
}

// cut shortens s to at most maxField bytes, at a rune boundary.
func cut(s string) string {
	if len(s) <= maxField {
		return s
	}
	const mark = "…"
	i := maxField - len(mark)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + mark
}

// escapeC1 rewrites DEL and the C1 control characters (U+0080–U+009F), which
// encoding/json leaves as they are, as \u escapes, so that printing the log
// on a terminal cannot run escape sequences hidden in peer-supplied names.
// They can only occur inside JSON strings, where the escape is equivalent.
func escapeC1(line []byte) []byte {
	clean := true
	for _, b := range line {
		if b == 0x7f || b == 0xc2 {
			clean = false
			break
		}
	}
	if clean {
		return line
	}
	out := make([]byte, 0, len(line)+16)
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRune(line[i:])
		if r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, line[i:i+size]...)
		}
		i += size
	}
	return out
}
