package approval_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xferterm/xferterm/approval"
	"github.com/xferterm/xferterm/bypass"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

func TestAuditLogRecords(t *testing.T) {
	now := time.Date(2026, 11, 21, 6, 30, 0, 0, time.UTC)
	var buf bytes.Buffer
	l := approval.NewAuditLog(&buf, fixedClock(now))
	if err := l.Session(approval.SessionRecord{
		Direction: transfer.Send, SessionID: "1a2b", Method: transfer.MethodBypass,
		Scheme: bypass.SchemeKitty1, Result: approval.ResultDenied, Reason: bypass.ErrMismatch.Error(),
	}); err != nil {
		t.Fatal(err)
	}
	if err := l.File(approval.FileRecord{
		Time:      now.Add(time.Second),
		Direction: transfer.Receive, SessionID: "1a2b", Path: "/home/u/\x1b]0;pwned\x07\u009b31m\x7f.txt",
		Bytes: 42, Result: approval.ResultOK,
	}); err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2026-11-21T06:30:00Z","kind":"session","direction":"send","session":"1a2b","method":"bypass","scheme":"kitty-1","result":"denied","reason":"bypass: refused: wrong password"}
{"time":"2026-11-21T06:30:01Z","kind":"file","direction":"receive","session":"1a2b","path":"/home/u/\u001b]0;pwned\u0007\u009b31m\u007f.txt","bytes":42,"result":"ok"}
`
	if got := buf.String(); got != want {
		t.Fatalf("log:\n%s\nwant:\n%s", got, want)
	}
	// Every line is still valid JSON that decodes to the original path.
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var rec approval.FileRecord
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Path != "/home/u/\x1b]0;pwned\x07\u009b31m\x7f.txt" {
		t.Fatalf("path decoded as %q", rec.Path)
	}
	for _, b := range buf.Bytes() {
		if b < 0x20 && b != '\n' || b == 0x7f {
			t.Fatalf("control byte %#x in the log", b)
		}
	}
}

// TestAuditLogEvents: the engine's file events become file records; its session
// events are left to the Approver, which records them with how they were decided.
func TestAuditLogEvents(t *testing.T) {
	var buf bytes.Buffer
	l := approval.NewAuditLog(&buf, time.Now)
	for _, ev := range []transfer.Event{
		{Kind: transfer.EventFile, Direction: transfer.Send, SessionID: "s", Path: "/h/a", Bytes: 5, Result: scanner.StatusOK},
		{Kind: transfer.EventFile, Direction: transfer.Receive, SessionID: "s", Path: "/h/b", Result: "ENOENT:Failed to add send file"},
		{Kind: transfer.EventFile, Direction: transfer.Send, SessionID: "s", Path: "/h/c", Result: scanner.StatusDestinationRefused},
		{Kind: transfer.EventFile, Direction: transfer.Send, SessionID: "s", Path: "/h/d", Result: scanner.StatusCanceled},
		{Kind: transfer.EventSession, Direction: transfer.Send, SessionID: "s"},
	} {
		if err := l.Event(ev); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var results []string
	for _, line := range lines {
		var rec approval.FileRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		results = append(results, rec.Result)
	}
	if want := []string{"ok", "error", "denied", "canceled"}; !slices.Equal(results, want) {
		t.Errorf("results %q, want %q", results, want)
	}
	var none *approval.AuditLog
	if err := none.Event(transfer.Event{Kind: transfer.EventFile, Direction: transfer.Send}); err != nil {
		t.Error(err)
	}
}

func TestAuditLogInvalidDirectionIsAnError(t *testing.T) {
	var buf bytes.Buffer
	l := approval.NewAuditLog(&buf, time.Now)
	if err := l.Session(approval.SessionRecord{SessionID: "x"}); err == nil {
		t.Fatal("a record without a direction was written")
	}
	if buf.Len() != 0 {
		t.Fatalf("wrote %q", buf.String())
	}
}

func TestAuditLogFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "xferterm", "transfers.jsonl")
	now := time.Date(2026, 11, 21, 6, 30, 0, 0, time.UTC)
	l, err := approval.OpenAuditLog(path, approval.AuditOptions{Now: fixedClock(now)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			err := l.File(approval.FileRecord{Direction: transfer.Send, SessionID: "s", Path: strings.Repeat("p", i*100), Result: approval.ResultOK})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := l.Session(approval.SessionRecord{Direction: transfer.Send}); !errors.Is(err, approval.ErrAuditLogClosed) {
		t.Fatalf("write after Close: %v", err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s has mode %04o, want %04o", p, st.Mode().Perm(), want)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var rec approval.FileRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d is not JSON (interleaved writes?): %v", n, err)
		}
		n++
	}
	if n != 50 {
		t.Fatalf("%d lines, want 50", n)
	}

	// Reopening appends, and a file others could read is made private.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err = approval.OpenAuditLog(path, approval.AuditOptions{Now: fixedClock(now)})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Session(approval.SessionRecord{Direction: transfer.Receive, Result: approval.ResultAllowed}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if c := strings.Count(string(data), "\n"); c != 51 {
		t.Fatalf("%d lines after reopening, want 51", c)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %04o after reopening, want 0600", st.Mode().Perm())
	}
}

func TestAuditLogErrors(t *testing.T) {
	if _, err := approval.OpenAuditLog("rel.jsonl", approval.AuditOptions{}); err == nil {
		t.Error("relative path accepted")
	}
	if _, err := approval.OpenAuditLog(t.TempDir(), approval.AuditOptions{}); err == nil {
		t.Error("a directory accepted")
	}
	var nilLog *approval.AuditLog
	if nilLog.Session(approval.SessionRecord{}) != nil || nilLog.File(approval.FileRecord{}) != nil || nilLog.Close() != nil {
		t.Error("a nil log is not a no-op")
	}
	l := approval.NewAuditLog(failWriter{}, time.Now)
	err1 := l.Session(approval.SessionRecord{Direction: transfer.Send})
	err2 := l.File(approval.FileRecord{Direction: transfer.Send})
	if err1 == nil || !errors.Is(err2, errDiskFull) {
		t.Fatalf("errors %v, %v; want a sticky write error", err1, err2)
	}
}

var errDiskFull = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }
