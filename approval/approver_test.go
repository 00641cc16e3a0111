package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xferterm/xferterm/approval"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// fakeConsole lends nothing real; err makes Borrow fail like a console without a tty.
type fakeConsole struct {
	err      error
	borrowed int
	released int
}

func (c *fakeConsole) Borrow(context.Context) (io.Reader, io.Writer, func(), error) {
	if c.err != nil {
		return nil, nil, nil, c.err
	}
	c.borrowed++
	return strings.NewReader(""), io.Discard, func() { c.released++ }, nil
}

// scriptedPrompt answers with a fixed Answer and records the questions it was asked.
type scriptedPrompt struct {
	answer approval.Answer
	err    error
	asked  []approval.Question
}

func (p *scriptedPrompt) ask(_ context.Context, _ io.Reader, _ io.Writer, q approval.Question, _ time.Duration) (approval.Answer, error) {
	p.asked = append(p.asked, q)
	return p.answer, p.err
}

const testPassword = "correct horse battery staple"

type approverFixture struct {
	a       *approver
	console *fakeConsole
	prompt  *scriptedPrompt
	stderr  *bytes.Buffer
	audit   *bytes.Buffer
	home    string
	pubEnv  string
}

func newApproverFixture(t *testing.T, policy approval.Policy) *approverFixture {
	t.Helper()
	home := t.TempDir()
	paths := approval.Paths{Home: home, ConfigDir: filepath.Join(home, ".config/xferterm"),
		StateDir: filepath.Join(home, ".local/state/xferterm"), TempDir: filepath.Join(home, "tmp")}
	cfg := approval.Defaults(paths)
	guard, err := approval.NewGuard(cfg, paths.ConfigDir, paths.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	key, err := approval.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	f := &approverFixture{
		console: &fakeConsole{},
		prompt:  &scriptedPrompt{answer: approval.Answer{Decision: approval.Allow}},
		stderr:  new(bytes.Buffer),
		audit:   new(bytes.Buffer),
		home:    home,
		pubEnv:  key.PublicKeyEnv(),
	}
	f.a = &approver{
		verifier: approval.NewVerifier(key, approval.NewSecret(testPassword), time.Now),
		guard:    guard,
		policy:   policy,
		timeout:  time.Minute,
		home:     home,
		console:  f.console,
		audit:    approval.NewAuditLog(f.audit, time.Now),
		stderr:   f.stderr,
	}
	f.a.prompt = f.prompt.ask
	return f
}

func TestApproverSession(t *testing.T) {
	kitty1 := func(f *approverFixture, id, pw string) string {
		v, err := approval.EncodeKitty1(f.pubEnv, id, pw, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name      string
		policy    approval.Policy
		bypass    func(f *approverFixture, id string) string
		answer    approval.Answer
		noConsole bool
		allow     bool
		how       string
		prompted  bool
	}{
		{name: "a kitty-1 bypass with the right password allows without a prompt", policy: approval.PolicyAsk,
			bypass: func(f *approverFixture, id string) string { return kitty1(f, id, testPassword) },
			allow:  true, how: "bypass"},
		{name: "a kitty-1 bypass with a wrong password refuses without a prompt", policy: approval.PolicyAsk,
			bypass: func(f *approverFixture, id string) string { return kitty1(f, id, "wrong") },
			how:    "bypass"},
		{name: "the documented sha256 bypass allows", policy: approval.PolicyAsk,
			bypass: func(_ *approverFixture, id string) string { return approval.EncodeSHA256(id, testPassword) },
			allow:  true, how: "bypass"},
		{name: "a plaintext password is refused", policy: approval.PolicyAsk,
			bypass: func(*approverFixture, string) string { return testPassword },
			how:    "bypass"},
		{name: "a bypass still works under the deny policy", policy: approval.PolicyDeny,
			bypass: func(_ *approverFixture, id string) string { return approval.EncodeSHA256(id, testPassword) },
			allow:  true, how: "bypass"},
		{name: "the deny policy refuses without asking", policy: approval.PolicyDeny, how: "policy"},
		{name: "the user allows at the prompt", policy: approval.PolicyAsk,
			answer: approval.Answer{Decision: approval.Allow}, allow: true, how: "prompt", prompted: true},
		{name: "the user refuses at the prompt", policy: approval.PolicyAsk,
			answer: approval.Answer{Decision: approval.Deny}, how: "prompt", prompted: true},
		{name: "a prompt that times out refuses", policy: approval.PolicyAsk,
			answer: approval.Answer{Decision: approval.Deny, TimedOut: true}, how: "prompt", prompted: true},
		{name: "without a terminal nothing is asked and the session is refused", policy: approval.PolicyAsk,
			noConsole: true, how: "prompt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newApproverFixture(t, tc.policy)
			f.prompt.answer = tc.answer
			if tc.noConsole {
				f.console.err = errors.New("console is not a terminal")
			}
			r := transfer.Request{Direction: transfer.Send, SessionID: "abc123", Home: f.home}
			if tc.bypass != nil {
				r.Bypass = tc.bypass(f, r.SessionID)
			}
			d := f.a.Approve(t.Context(), r)
			if d.Allow != tc.allow || string(d.How) != tc.how {
				t.Errorf("decision = %+v, want allow=%v how=%s", d, tc.allow, tc.how)
			}
			if got := len(f.prompt.asked) > 0; got != tc.prompted {
				t.Errorf("prompted = %v, want %v", got, tc.prompted)
			}
			if f.console.borrowed != f.console.released {
				t.Errorf("borrowed %d times but released %d", f.console.borrowed, f.console.released)
			}
			for _, out := range []string{f.stderr.String(), f.audit.String()} {
				if strings.Contains(out, testPassword) {
					t.Errorf("the password leaked: %q", out)
				}
			}
			if !strings.Contains(f.audit.String(), `"kind":"session"`) {
				t.Errorf("no session record in the audit log: %q", f.audit.String())
			}
			if !tc.allow && tc.how != "prompt" && f.stderr.Len() == 0 {
				t.Errorf("a refusal without a prompt left no note on stderr")
			}
		})
	}
}

func TestApproverReplayedBypassIsRefused(t *testing.T) {
	f := newApproverFixture(t, approval.PolicyAsk)
	r := transfer.Request{Direction: transfer.Receive, SessionID: "feed01",
		Bypass: approval.EncodeSHA256("feed01", testPassword)}
	if d := f.a.Approve(t.Context(), r); !d.Allow {
		t.Fatalf("first use refused: %+v", d)
	}
	if d := f.a.Approve(t.Context(), r); d.Allow {
		t.Fatalf("replay allowed: %+v", d)
	}
}

func TestApproverFile(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		exists    bool
		answer    approval.Decision
		noConsole bool
		allow     bool
		allowAll  bool
		prompted  bool
	}{
		{name: "an ordinary destination under home is allowed silently", path: "Downloads/a.txt", allow: true},
		{name: "overwriting .bashrc asks, and the user allows", path: ".bashrc", exists: true,
			answer: approval.Allow, allow: true, prompted: true},
		{name: "overwriting .bashrc asks, and the user refuses", path: ".bashrc", exists: true,
			answer: approval.Deny, prompted: true},
		{name: "allow all is passed on to the engine", path: ".ssh/authorized_keys",
			answer: approval.AllowAll, allow: true, allowAll: true, prompted: true},
		{name: "a sensitive file without a terminal is refused", path: ".profile", noConsole: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newApproverFixture(t, approval.PolicyAsk)
			f.prompt.answer = approval.Answer{Decision: tc.answer}
			if tc.noConsole {
				f.console.err = errors.New("console is not a terminal")
			}
			r := transfer.Request{Direction: transfer.Send, SessionID: "s1", Home: f.home,
				File: &transfer.Item{Path: filepath.Join(f.home, tc.path), Exists: tc.exists, Size: 3277}}
			d := f.a.Approve(t.Context(), r)
			if d.Allow != tc.allow || (d.Grant != nil) != tc.allowAll {
				t.Errorf("decision = %+v, want allow=%v allowAll=%v", d, tc.allow, tc.allowAll)
			}
			if got := len(f.prompt.asked) > 0; got != tc.prompted {
				t.Fatalf("prompted = %v, want %v", got, tc.prompted)
			}
			if tc.prompted {
				q := f.prompt.asked[0]
				if q.File == nil || q.File.Path != r.File.Path || !q.File.Sensitive {
					t.Errorf("question = %+v, want a per-file question about %s", q, r.File.Path)
				}
			}
		})
	}
}

func TestApproverReceiveQuestionListsSpecs(t *testing.T) {
	f := newApproverFixture(t, approval.PolicyAsk)
	specs := []transfer.Item{
		{Name: "notes.txt", Path: filepath.Join(f.home, "notes.txt"), Type: scanner.FileRegular, Size: 10},
		{Name: "~/.ssh/id_ed25519", Path: filepath.Join(f.home, ".ssh/id_ed25519"), Type: scanner.FileRegular, Size: 411},
		{Name: "src", Path: filepath.Join(f.home, "src"), Type: scanner.FileDirectory, Size: 4096, Files: 12},
		{Name: "gone", Path: filepath.Join(f.home, "gone"), Err: "ENOENT:Failed to read spec"},
	}
	r := transfer.Request{Direction: transfer.Receive, SessionID: "r1", Home: f.home, Items: specs}
	if d := f.a.Approve(t.Context(), r); !d.Allow {
		t.Fatalf("refused: %+v", d)
	}
	q := f.prompt.asked[0]
	if q.Direction != approval.Download || len(q.Items) != len(specs) {
		t.Fatalf("question = %+v", q)
	}
	if q.Items[0].Sensitive {
		t.Errorf("notes.txt marked sensitive: %+v", q.Items[0])
	}
	if !q.Items[1].Sensitive {
		t.Errorf("a private key not marked sensitive: %+v", q.Items[1])
	}
	if q.Items[2].Type != approval.ItemDirectory || q.Items[2].Files != 12 {
		t.Errorf("directory item = %+v", q.Items[2])
	}
	if q.Items[3].Size != -1 {
		t.Errorf("unreadable spec item = %+v", q.Items[3])
	}
}

func TestAuditEventsRecordsFiles(t *testing.T) {
	var buf bytes.Buffer
	events := auditEvents(approval.NewAuditLog(&buf, time.Now))
	events(transfer.Event{Kind: transfer.EventFile, Direction: transfer.Send, SessionID: "s", Path: "/h/a", Bytes: 5, Result: scanner.StatusOK})
	events(transfer.Event{Kind: transfer.EventFile, Direction: transfer.Receive, SessionID: "s", Path: "/h/b", Result: "ENOENT:Failed to add send file"})
	events(transfer.Event{Kind: transfer.EventSession, SessionID: "s"})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d records, want 2: %q", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], `"result":"ok"`) || !strings.Contains(lines[1], `"result":"error"`) {
		t.Errorf("records = %q", lines)
	}
	if auditEvents(nil) != nil {
		t.Error("no audit log should mean no event sink")
	}
}
