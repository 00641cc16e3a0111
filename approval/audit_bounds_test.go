package approval_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xferterm/xferterm/approval"
	"github.com/xferterm/xferterm/bypass"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
	"github.com/xferterm/xferterm/transfer"
)

// record is any line of the audit log, decoded loosely.
type record struct {
	Kind    string    `json:"kind"`
	Session string    `json:"session"`
	Path    string    `json:"path"`
	Result  string    `json:"result"`
	Reason  string    `json:"reason"`
	Error   string    `json:"error"`
	Count   int       `json:"count"`
	Since   time.Time `json:"since"`
	Time    time.Time `json:"time"`
}

// parseLog decodes every line of data; each must be a JSON object.
func parseLog(t *testing.T, data []byte) []record {
	t.Helper()
	var recs []record
	for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		if len(line) == 0 && len(data) == 0 {
			break
		}
		var r record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("line %d %q: %v", i+1, line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// events is how many events recs stand for.
func events(recs []record) int {
	n := 0
	for _, r := range recs {
		n += max(r.Count, 1)
	}
	return n
}

// TestAuditLogSumsRepeatedFailures is the audit half of finding 4 of the adversarial
// review (issue 16): one session made 524 288 failed entries, each audited in full.
// Failures of a kind now take two records a minute, whatever their number, and the
// counts add up; successes are each recorded.
func TestAuditLogSumsRepeatedFailures(t *testing.T) {
	start := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	clock := testdata.NewClock(start)
	var buf bytes.Buffer
	l := approval.NewAuditLog(&buf, clock.Now)
	const n = 100_000
	for i := range n {
		if err := l.Event(transfer.Event{Kind: transfer.EventFile, Direction: transfer.Send, SessionID: "s1",
			Path: "/home/u/f" + strconv.Itoa(i), Result: "EPERM:Permission denied"}); err != nil {
			t.Fatal(err)
		}
		if err := l.Session(approval.SessionRecord{Direction: transfer.Send, SessionID: "b" + strconv.Itoa(i),
			Method: transfer.MethodBypass, Scheme: bypass.SchemeSHA256, Result: approval.ResultDenied,
			Reason: bypass.ErrMismatch.Error()}); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 0 {
			if err := l.Event(transfer.Event{Kind: transfer.EventFile, Direction: transfer.Send, SessionID: "s1",
				Path: "/home/u/ok" + strconv.Itoa(i), Bytes: 3, Result: scanner.StatusOK}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The engine may hand over failures it summed itself.
	if err := l.Event(transfer.Event{Kind: transfer.EventFile, Direction: transfer.Send, SessionID: "s1",
		Path: "/home/u/last", Result: "EPERM:Permission denied", Count: 500}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(approval.DefaultAuditRepeatWindow)
	// A new window: the counts so far are written before this record, which starts
	// a new count of its kind.
	if err := l.Session(approval.SessionRecord{Direction: transfer.Send, SessionID: "late",
		Method: transfer.MethodBypass, Scheme: bypass.SchemeSHA256, Result: approval.ResultDenied,
		Reason: bypass.ErrMismatch.Error()}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	recs := parseLog(t, buf.Bytes())
	var files, sessions, oks []record
	for _, r := range recs {
		switch {
		case r.Kind == "file" && r.Result == approval.ResultOK:
			oks = append(oks, r)
		case r.Kind == "file":
			files = append(files, r)
		default:
			sessions = append(sessions, r)
		}
	}
	if len(oks) != n/1000 {
		t.Errorf("%d ok records, want %d", len(oks), n/1000)
	}
	if len(files) != 2 || events(files) != n+500 {
		t.Errorf("failed files: %d records for %d events, want 2 for %d", len(files), events(files), n+500)
	}
	if len(sessions) != 3 || events(sessions) != n+1 {
		t.Errorf("refused sessions: %d records for %d events, want 3 for %d", len(sessions), events(sessions), n+1)
	}
	first, sum := files[0], files[1]
	if first.Path != "/home/u/f0" || first.Count != 0 || sum.Path != "/home/u/last" || sum.Count != n-1+500 || !sum.Since.Equal(start) {
		t.Errorf("file records %+v, %+v", first, sum)
	}
	if sessions[1].Count != n-1 || sessions[1].Session != "b"+strconv.Itoa(n-1) || sessions[2].Session != "late" || sessions[2].Count != 0 {
		t.Errorf("session records %+v", sessions)
	}
	if len(recs) != n/1000+5 {
		t.Errorf("%d records in all, want %d", len(recs), n/1000+5)
	}
}

// TestAuditLogCountsManyKinds: more kinds of failure at once than are counted each
// get their records; nothing is lost.
func TestAuditLogCountsManyKinds(t *testing.T) {
	var buf bytes.Buffer
	l := approval.NewAuditLog(&buf, fixedClock(time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)))
	const kinds, each = 40, 50
	for i := range each {
		for k := range kinds {
			if err := l.File(approval.FileRecord{Direction: transfer.Receive, SessionID: "s" + strconv.Itoa(k),
				Path: "/p" + strconv.Itoa(i), Result: approval.ResultError, Error: "EIO:x"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	recs := parseLog(t, buf.Bytes())
	if got := events(recs); got != kinds*each {
		t.Fatalf("%d records stand for %d events, want %d", len(recs), got, kinds*each)
	}
}

// TestAuditLogRotates: the file never grows past its size by more than a record; the
// one before is kept as .1, and every line of both is a whole record.
func TestAuditLogRotates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "transfers.jsonl")
	const maxSize = 4096
	logs := make([]*approval.AuditLog, 2) // two processes sharing the log
	for i := range logs {
		l, err := approval.OpenAuditLog(path, approval.AuditOptions{MaxSize: maxSize})
		if err != nil {
			t.Fatal(err)
		}
		logs[i] = l
	}
	var wg sync.WaitGroup
	for i, l := range logs {
		wg.Go(func() {
			for j := range 500 {
				if err := l.File(approval.FileRecord{Direction: transfer.Send, SessionID: "s" + strconv.Itoa(i),
					Path: "/home/u/" + strconv.Itoa(j), Bytes: int64(j), Result: approval.ResultOK}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, l := range logs {
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{path, path + ".1"} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// Two writers may each have checked the size before the other wrote.
		if len(data) > maxSize+2*200 {
			t.Errorf("%s has %d bytes, more than %d", p, len(data), maxSize)
		}
		if recs := parseLog(t, data); len(recs) == 0 {
			t.Errorf("%s has no records", p)
		}
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("%d files beside the log, want the log and its .1", len(entries))
	}
}

// TestAuditLogPathSwappedForASymlink: the log's path replaced by a link to another
// file (or a FIFO) while xferterm runs: nothing reaches the other file, nothing blocks,
// and once the path is a file again the log says how many records were lost.
func TestAuditLogPathSwappedForASymlink(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "transfers.jsonl")
	victim := filepath.Join(dir, "bashrc")
	if err := os.WriteFile(victim, []byte("# mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := approval.OpenAuditLog(path, approval.AuditOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec := approval.SessionRecord{Direction: transfer.Send, SessionID: "s", Method: transfer.MethodPrompt, Result: approval.ResultAllowed}
	if err := l.Session(rec); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, path+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := l.Session(rec); err == nil {
			t.Fatal("a record was written through the link")
		}
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := l.Session(rec); err == nil {
		t.Fatal("a record was written to a FIFO")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := l.Session(rec); err != nil {
		t.Fatalf("once the path is free again: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "# mine\n" {
		t.Fatalf("the link's target holds %q", data)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs := parseLog(t, data)
	if len(recs) != 2 || recs[0].Kind != "lost" || recs[0].Count != 4 || !strings.Contains(recs[0].Error, "not a regular file") {
		t.Fatalf("new log %q: want a lost record counting 4, then the record", data)
	}
}

// faultWriter fails as a full disk does: the first failing write stops partway.
type faultWriter struct {
	buf   bytes.Buffer
	fails int // writes still to fail; the first writes part of its line
	cut   bool
}

func (w *faultWriter) Write(p []byte) (int, error) {
	if w.fails == 0 {
		return w.buf.Write(p)
	}
	w.fails--
	if !w.cut {
		w.cut = true
		w.buf.Write(p[:len(p)/2])
		return len(p) / 2, syscall.ENOSPC
	}
	return 0, syscall.ENOSPC
}

// TestAuditLogDiskFull: records that cannot be written are lost, not the log: the line
// cut short is ended, so the lines after it are valid JSON, and the first record
// written again counts the lost ones.
func TestAuditLogDiskFull(t *testing.T) {
	w := &faultWriter{}
	l := approval.NewAuditLog(w, fixedClock(time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)))
	rec := approval.SessionRecord{Direction: transfer.Receive, SessionID: "s", Method: transfer.MethodPrompt, Result: approval.ResultAllowed}
	if err := l.Session(rec); err != nil {
		t.Fatal(err)
	}
	w.fails = 3
	for range 3 {
		if err := l.Session(rec); !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("write on a full disk: %v", err)
		}
	}
	if err := l.Session(rec); err != nil {
		t.Fatalf("once there is room: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(w.buf.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("lines %q, want the record, the cut one, the lost record, the record", lines)
	}
	var lost record
	for i, line := range lines {
		var r record
		err := json.Unmarshal([]byte(line), &r)
		if (i == 1) != (err != nil) {
			t.Fatalf("line %d %q: %v", i, line, err)
		}
		if i == 2 {
			lost = r
		}
	}
	if lost.Kind != "lost" || lost.Count != 3 || !strings.Contains(lost.Error, "no space left") {
		t.Fatalf("lost record %+v", lost)
	}
}

// TestAuditLogCutsHugeFields: a path or an error of a megabyte becomes a line of a few
// KiB, still valid JSON, cut at a character boundary.
func TestAuditLogCutsHugeFields(t *testing.T) {
	var buf bytes.Buffer
	l := approval.NewAuditLog(&buf, time.Now)
	huge := "/home/u/" + strings.Repeat("é", 1<<19)
	if err := l.File(approval.FileRecord{Direction: transfer.Send, SessionID: strings.Repeat("i", 1<<20), Path: huge,
		Result: approval.ResultOK}); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 3*4096+300 {
		t.Fatalf("a line of %d bytes", buf.Len())
	}
	recs := parseLog(t, buf.Bytes())
	if p := recs[0].Path; !strings.HasPrefix(huge, strings.TrimSuffix(p, "…")) || !strings.HasSuffix(p, "…") {
		t.Fatalf("path cut as %q…", p[:40])
	}
}
