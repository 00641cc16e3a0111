package approval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
}

// FileRecord is the audit record of one file of a session.
type FileRecord struct {
	Time      time.Time          `json:"time"`            // filled in from the log's clock if zero
	Kind      string             `json:"kind"`            // always "file"
	Direction transfer.Direction `json:"direction"`       // send or receive
	SessionID string             `json:"session"`         // as the client sent it
	Path      string             `json:"path"`            // local absolute path
	Bytes     int64              `json:"bytes"`           // bytes written or sent
	Result    string             `json:"result"`          // ResultOK, ResultError, ResultDenied or ResultCanceled
	Error     string             `json:"error,omitempty"` // the status text sent to the client, if any
}

// AuditLog appends one JSON object per line to a writer. It is safe for
// concurrent use; each record is written with a single Write. Its error is
// sticky: after a failed write every method returns that error. A nil
// *AuditLog is a disabled log: its methods do nothing and return nil.
type AuditLog struct {
	now func() time.Time // read-only after creation

	mu     sync.Mutex // guards w, c, err and closed
	w      io.Writer
	c      io.Closer // nil if the log does not own w
	err    error     // sticky: the first write error, or ErrAuditLogClosed
	closed bool
}

// ErrAuditLogClosed is returned by an AuditLog after Close.
var ErrAuditLogClosed = errors.New("approval: audit log closed")

// OpenAuditLog opens the log at path for appending, creating its directory
// (mode 0700) and the file (mode 0600) if needed. An existing file that group
// or others can access is made private. now is the clock.
func OpenAuditLog(path string, now func() time.Time) (*AuditLog, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("approval: audit log %q is not an absolute path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("approval: audit log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("approval: audit log: %w", err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", path)
	}
	if err == nil && st.Mode().Perm()&0o077 != 0 {
		err = f.Chmod(0o600)
	}
	if err != nil {
		_ = f.Close() // The error above is the one to report.
		return nil, fmt.Errorf("approval: audit log: %w", err)
	}
	return &AuditLog{now: now, w: f, c: f}, nil
}

// NewAuditLog returns a log that writes to w, which it does not close.
func NewAuditLog(w io.Writer, now func() time.Time) *AuditLog {
	return &AuditLog{now: now, w: w}
}

// Session appends a session record.
func (l *AuditLog) Session(r SessionRecord) error {
	if l == nil {
		return nil
	}
	r.Kind = "session"
	if r.Time.IsZero() {
		r.Time = l.now()
	}
	return l.write(r)
}

// File appends a file record.
func (l *AuditLog) File(r FileRecord) error {
	if l == nil {
		return nil
	}
	r.Kind = "file"
	if r.Time.IsZero() {
		r.Time = l.now()
	}
	return l.write(r)
}

// Event records the engine's event of the fate of one file (fs.Config.Events). Session
// events are not recorded here: the Approver records each session decision, with how
// it was made, when it makes it.
func (l *AuditLog) Event(ev transfer.Event) error {
	if l == nil || ev.Kind != transfer.EventFile {
		return nil
	}
	rec := FileRecord{
		Time: ev.Time, Direction: ev.Direction, SessionID: ev.SessionID,
		Path: ev.Path, Bytes: ev.Bytes, Result: ResultOK,
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

func (l *AuditLog) write(rec any) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("approval: audit log: %w", err)
	}
	line = append(escapeC1(line), '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if _, err := l.w.Write(line); err != nil {
		l.err = fmt.Errorf("approval: audit log: %w", err)
	}
	return l.err
}

// Close closes the file opened by OpenAuditLog. Later writes return
// ErrAuditLogClosed; later calls to Close do nothing and return nil.
func (l *AuditLog) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	l.err = ErrAuditLogClosed
	if l.c != nil {
		if err := l.c.Close(); err != nil {
			return fmt.Errorf("approval: audit log: %w", err)
		}
	}
	return nil
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
