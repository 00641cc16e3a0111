package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// auditRecord is one line of xferterm's audit log (approval/audit.go): a session decision
// (Kind "session") or a file's outcome (Kind "file").
type auditRecord struct {
	Kind      string `json:"kind"`
	Direction string `json:"direction"` // send (the remote sends) or receive (it reads)
	Session   string `json:"session"`
	Method    string `json:"method"` // prompt, bypass or policy
	Scheme    string `json:"scheme"`
	Result    string `json:"result"` // allowed, denied; ok, error, denied, canceled
	Reason    string `json:"reason"`
	Path      string `json:"path"`
	Bytes     int64  `json:"bytes"`
	Error     string `json:"error"`
}

// auditLog is where xferterm keeps its audit log with the rig's XDG_STATE_HOME.
func (r *rig) auditLog() string {
	return filepath.Join(r.Local, ".local", "state", "xferterm", "transfers.jsonl")
}

// readAudit returns the records of the audit log so far; a missing log has none.
func (r *rig) readAudit() []auditRecord {
	r.tb.Helper()
	data, err := os.ReadFile(r.auditLog())
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		r.tb.Fatal(err)
	}
	// The last line is skipped until its newline is there: it may be half written.
	lines := bytes.Split(data, []byte("\n"))
	lines = lines[:len(lines)-1]
	var recs []auditRecord
	for _, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var rec auditRecord
		if err := json.Unmarshal(line, &rec); err != nil {
			r.tb.Fatalf("e2e: audit log line %q: %v", line, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

// waitAudit waits until the audit log has a record for which match holds (records may be written
// just after the client has its answer).
func (r *rig) waitAudit(what string, match func(auditRecord) bool) auditRecord {
	r.tb.Helper()
	deadline := time.Now().Add(shortWait)
	for {
		recs := r.readAudit()
		for _, rec := range recs {
			if match(rec) {
				return rec
			}
		}
		if time.Now().After(deadline) {
			r.tb.Fatalf("e2e: no audit record for %s in %s; it has %+v", what, r.auditLog(), recs)
		}
		time.Sleep(pollInterval)
	}
}

// checkAuditSecretFree checks that no secret appears in the audit log.
func (r *rig) checkAuditSecretFree(secrets ...string) {
	r.tb.Helper()
	data, err := os.ReadFile(r.auditLog())
	if err != nil && !os.IsNotExist(err) {
		r.tb.Fatal(err)
	}
	for _, s := range secrets {
		if strings.Contains(string(data), s) {
			r.tb.Errorf("e2e: the audit log contains the secret %q", s)
		}
	}
}

// TestAuditReader: the harness's reader of the audit log skips a last line without its newline.
func TestAuditReader(t *testing.T) {
	dir := t.TempDir()
	r := &rig{tb: t, Local: dir}
	log := r.auditLog()
	writeFile(t, log, []byte(`{"kind":"session","direction":"send","method":"prompt","result":"allowed"}`+"\n"+`{"kind":"fi`), 0o600)
	recs := r.readAudit()
	if len(recs) != 1 || recs[0].Kind != "session" || recs[0].Method != "prompt" {
		t.Errorf("readAudit = %+v, want the one complete session record", recs)
	}
}
