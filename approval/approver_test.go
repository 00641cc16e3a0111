package approval_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xferterm/xferterm/approval"
	"github.com/xferterm/xferterm/bypass"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// TestApproverSessions is the policy table for whole sessions: bypass → policy → guard
// → prompt → audit, decided without a terminal.
func TestApproverSessions(t *testing.T) {
	notes := "\r\nxferterm: "
	keyRead := []transfer.Item{{Name: "~/.ssh/id_ed25519", Path: "/home/u/.ssh/id_ed25519", Size: 411, Files: -1}}
	plainRead := []transfer.Item{{Name: "notes.txt", Path: "/home/u/notes.txt", Size: 10, Files: -1}}
	tests := []struct {
		name      string
		dir       transfer.Direction
		items     []transfer.Item
		bypass    func(f *fixture, id string) string
		opts      []fixtureOption
		answer    *reply // nil: no question may be shown
		allow     bool
		how       transfer.Method
		reason    string
		scheme    bypass.Scheme
		note      string // in the notes ("" none)
		bypassedQ bool   // the question says the password was given
	}{
		{name: "a kitty-1 bypass with the right password allows without a question", dir: transfer.Send,
			bypass: func(f *fixture, id string) string { return f.kitty1(t, id, testPassword) },
			allow:  true, how: transfer.MethodBypass, scheme: bypass.SchemeKitty1},
		{name: "a kitty-1 bypass with a wrong password refuses without a question", dir: transfer.Send,
			bypass: func(f *fixture, id string) string { return f.kitty1(t, id, "wrong") },
			how:    transfer.MethodBypass, reason: bypass.ErrMismatch.Error(), scheme: "", note: "wrong password"},
		{name: "the documented sha256 bypass allows", dir: transfer.Send,
			bypass: func(_ *fixture, id string) string { return bypass.EncodeSHA256(id, testPassword) },
			allow:  true, how: transfer.MethodBypass, scheme: bypass.SchemeSHA256},
		{name: "a plaintext password is refused and never shown", dir: transfer.Send,
			bypass: func(*fixture, string) string { return testPassword },
			how:    transfer.MethodBypass, reason: bypass.ErrUnknownScheme.Error(), note: "unknown scheme"},
		{name: "a bypass still works under the deny policy", dir: transfer.Receive, items: plainRead,
			bypass: func(_ *fixture, id string) string { return bypass.EncodeSHA256(id, testPassword) },
			opts:   []fixtureOption{withPolicy(approval.PolicyDeny)},
			allow:  true, how: transfer.MethodBypass, scheme: bypass.SchemeSHA256},
		{name: "the deny policy refuses without asking", dir: transfer.Send, opts: []fixtureOption{withPolicy(approval.PolicyDeny)},
			how: transfer.MethodPolicy, reason: "policy is deny", note: "the policy is deny"},
		{name: "the user allows a send", dir: transfer.Send, answer: &reply{a: approval.Answer{Choice: approval.Allow}},
			allow: true, how: transfer.MethodPrompt},
		{name: "the user refuses a receive", dir: transfer.Receive, items: plainRead, answer: &reply{a: approval.Answer{Choice: approval.Deny}},
			how: transfer.MethodPrompt, reason: "refused by the user"},
		{name: "a question that times out refuses", dir: transfer.Send, answer: &reply{a: approval.Answer{TimedOut: true}},
			how: transfer.MethodPrompt, reason: "timeout"},
		{name: "a question that cannot be shown refuses", dir: transfer.Send, answer: &reply{err: errors.New("proxy: console is not a terminal")},
			how: transfer.MethodPolicy, reason: "proxy: console is not a terminal", note: "console is not a terminal"},
		{name: "with nobody to ask, the session is refused at once", dir: transfer.Send, opts: []fixtureOption{withNobody()},
			how: transfer.MethodPolicy, reason: "no terminal to ask on", note: "no terminal to ask on"},
		{name: "a bypass that reads only ordinary paths is not asked about", dir: transfer.Receive, items: plainRead,
			bypass: func(f *fixture, id string) string { return f.kitty1(t, id, testPassword) },
			allow:  true, how: transfer.MethodBypass, scheme: bypass.SchemeKitty1},
		{name: "a bypass that reads a private key is asked about, and allowed", dir: transfer.Receive, items: keyRead,
			bypass: func(f *fixture, id string) string { return f.kitty1(t, id, testPassword) },
			answer: &reply{a: approval.Answer{Choice: approval.Allow}}, bypassedQ: true,
			allow: true, how: transfer.MethodPrompt, scheme: bypass.SchemeKitty1},
		{name: "a bypass that reads a private key is asked about, and refused", dir: transfer.Receive, items: keyRead,
			bypass: func(f *fixture, id string) string { return f.kitty1(t, id, testPassword) },
			answer: &reply{a: approval.Answer{Choice: approval.Deny}}, bypassedQ: true,
			how: transfer.MethodPrompt, reason: "refused by the user", scheme: bypass.SchemeKitty1},
		{name: "a bypass that reads a private key with nobody to ask is refused", dir: transfer.Receive, items: keyRead,
			bypass: func(f *fixture, id string) string { return f.kitty1(t, id, testPassword) },
			opts:   []fixtureOption{withNobody()},
			how:    transfer.MethodPolicy, reason: "no terminal to ask on", scheme: bypass.SchemeKitty1, note: "no terminal"},
		{name: "a wrong bypass that reads a private key is refused without a question", dir: transfer.Receive, items: keyRead,
			bypass: func(f *fixture, id string) string { return f.kitty1(t, id, "wrong") },
			how:    transfer.MethodBypass, reason: bypass.ErrMismatch.Error(), note: "wrong password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts...)
			f.person.script = tc.answer
			r := transfer.Request{Direction: tc.dir, SessionID: "abc123", Home: f.home, Items: tc.items}
			if tc.bypass != nil {
				r.Bypass = tc.bypass(f, r.SessionID)
			}
			a := f.ask(r)
			if tc.bypass != nil && (a.pending == nil) != (tc.answer == nil) {
				t.Errorf("pending = %v: a bypass is decided at once unless a person must be asked", a.pending != nil)
			}
			d := a.decision(t)
			if d.Allow != tc.allow || d.How != tc.how || d.Reason != tc.reason || d.Grant != nil {
				t.Errorf("decision = %+v, want allow=%v how=%s reason=%q", d, tc.allow, tc.how, tc.reason)
			}
			if tc.answer == nil {
				f.person.nothingShown(t)
			} else {
				s := f.person.next(t)
				if s.q.Direction != tc.dir || s.q.Bypassed != tc.bypassedQ || s.q.SessionID != "abc123" {
					t.Errorf("question %+v", s.q)
				}
			}
			var rec approval.SessionRecord
			if err := json.Unmarshal([]byte(f.audit.String()), &rec); err != nil {
				t.Fatalf("audit log %q: %v", f.audit.String(), err)
			}
			want := approval.ResultDenied
			if tc.allow {
				want = approval.ResultAllowed
			}
			if rec.Kind != "session" || rec.Method != tc.how && !(tc.how == transfer.MethodPolicy && rec.Method == transfer.MethodPrompt) ||
				rec.Scheme != tc.scheme || rec.Result != want || rec.Reason != tc.reason || rec.Direction != tc.dir {
				t.Errorf("audit record %+v", rec)
			}
			if got := f.notes.String(); tc.note == "" && got != "" || tc.note != "" && !strings.Contains(got, notes) || !strings.Contains(got, tc.note) {
				t.Errorf("notes %q, want one with %q", got, tc.note)
			}
			for _, out := range []string{f.notes.String(), f.audit.String()} {
				if strings.Contains(out, testPassword) || r.Bypass != "" && strings.Contains(out, r.Bypass) {
					t.Errorf("the password leaked: %q", out)
				}
			}
		})
	}
}

// TestApproverReplayedBypassIsRefused: a bypass value counts once.
func TestApproverReplayedBypassIsRefused(t *testing.T) {
	f := newFixture(t)
	r := transfer.Request{Direction: transfer.Receive, SessionID: "feed01", Bypass: bypass.EncodeSHA256("feed01", testPassword)}
	if d := f.ask(r).decision(t); !d.Allow {
		t.Fatalf("first use refused: %+v", d)
	}
	if d := f.ask(r).decision(t); d.Allow {
		t.Fatalf("replay allowed: %+v", d)
	}
}

// TestApproverFiles is the policy table for the destinations of an approved send
// session: the guard decides, a person is asked about sensitive ones, and "allow all"
// reaches only what its question showed.
func TestApproverFiles(t *testing.T) {
	vimGrant := transfer.Grant{Reason: "protected location ~/.vimrc", Dir: "/home/u"}
	sshGrant := transfer.Grant{Reason: "protected location ~/.ssh/", Dir: "/home/u/.ssh"}
	tests := []struct {
		name   string
		path   string
		exists bool
		grants []transfer.Grant
		opts   []fixtureOption
		answer *reply // nil: no question may be shown
		allow  bool
		grant  *transfer.Grant
		scope  string
		// readOld: the old file may be read for an rsync signature, which only a
		// destination that is not sensitive allows, whatever the answer.
		readOld bool
	}{
		{name: "an ordinary destination under home is allowed silently", path: "/home/u/Downloads/a.txt", allow: true, readOld: true},
		{name: "overwriting .bashrc asks, and the user allows", path: "/home/u/.bashrc", exists: true,
			answer: &reply{a: approval.Answer{Choice: approval.Allow}}, allow: true, scope: "/home/u"},
		{name: "overwriting .bashrc asks, and the user refuses", path: "/home/u/.bashrc", exists: true,
			answer: &reply{a: approval.Answer{Choice: approval.Deny}}, scope: "/home/u"},
		{name: "allow all gives a grant of the reason shown, in the file's directory", path: "/home/u/.ssh/config",
			answer: &reply{a: approval.Answer{Choice: approval.AllowAll}}, allow: true, grant: &sshGrant, scope: "/home/u/.ssh"},
		{name: "a grant covers the same reason in its directory", path: "/home/u/.ssh/known_hosts", grants: []transfer.Grant{sshGrant}, allow: true},
		{name: "a grant covers the same reason below its directory", path: "/home/u/.ssh/keys.d/k", grants: []transfer.Grant{sshGrant}, allow: true},
		{name: "allow all for ~/.vimrc does not reach ~/.ssh/authorized_keys", path: "/home/u/.ssh/authorized_keys",
			grants: []transfer.Grant{vimGrant}, answer: &reply{a: approval.Answer{Choice: approval.Deny}}, scope: "/home/u/.ssh"},
		{name: "allow all for ~/.vimrc does not reach ~/.bashrc", path: "/home/u/.bashrc",
			grants: []transfer.Grant{vimGrant}, answer: &reply{a: approval.Answer{Choice: approval.Deny}}, scope: "/home/u"},
		{name: "a grant does not reach another directory for the same reason", path: "/etc/cron.d/job",
			grants: []transfer.Grant{{Reason: "outside the allowed directories", Dir: "/srv/data"}},
			answer: &reply{a: approval.Answer{Choice: approval.Deny}}, scope: "/etc/cron.d"},
		{name: "allow all is not offered for a file at the root", path: "/evil",
			answer: &reply{a: approval.Answer{Choice: approval.AllowAll}}, allow: true},
		{name: "a sensitive file with nobody to ask is refused", path: "/home/u/.profile", opts: []fixtureOption{withNobody()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts...)
			f.person.script = tc.answer
			r := transfer.Request{Direction: transfer.Send, SessionID: "s1", Home: f.home, Grants: tc.grants,
				File: &transfer.Item{Path: tc.path, Exists: tc.exists, Size: 3277, Files: -1}}
			d := f.ask(r).decision(t)
			if d.Allow != tc.allow || fmt.Sprint(d.Grant) != fmt.Sprint(tc.grant) || d.ReadOld != tc.readOld {
				t.Errorf("decision = %+v (grant %v), want allow=%v grant=%v readOld=%v", d, d.Grant, tc.allow, tc.grant, tc.readOld)
			}
			if tc.answer == nil {
				f.person.nothingShown(t)
				return
			}
			q := f.person.next(t).q
			if q.File == nil || q.File.Path != tc.path || !q.File.Sensitive || q.File.Reason == "" || q.Scope != tc.scope {
				t.Errorf("question = %+v (file %+v), want a file question about %s with scope %q", q, q.File, tc.path, tc.scope)
			}
			if q.QuietFor != approval.DefaultQuietFor {
				t.Errorf("question offers deny-all for %v", q.QuietFor)
			}
		})
	}
}

// TestApproverReceiveQuestionListsSpecs: the question of a receive session marks the
// sensitive specs, and shows what the engine could not count as unknown.
func TestApproverReceiveQuestionListsSpecs(t *testing.T) {
	f := newFixture(t)
	f.person.script = &reply{a: approval.Answer{Choice: approval.Allow}}
	specs := []transfer.Item{
		{Name: "notes.txt", Path: "/home/u/notes.txt", Type: scanner.FileRegular, Size: 10, Files: -1},
		{Name: "~/.ssh/id_ed25519", Path: "/home/u/.ssh/id_ed25519", Type: scanner.FileRegular, Size: 411, Files: -1},
		{Name: "src", Path: "/home/u/src", Type: scanner.FileDirectory, Size: 4096, Files: 12},
		{Name: "huge", Path: "/home/u/huge", Type: scanner.FileDirectory, Size: 1 << 30, Files: 100000, Partial: true},
		{Name: "gone", Path: "/home/u/gone", Err: "ENOENT:Failed to read spec", Size: -1, Files: -1},
	}
	if d := f.ask(transfer.Request{Direction: transfer.Receive, SessionID: "r1", Home: f.home, Items: specs}).decision(t); !d.Allow {
		t.Fatalf("refused: %+v", d)
	}
	q := f.person.next(t).q
	if q.Direction != transfer.Receive || len(q.Items) != len(specs) || q.Sensitive() != 1 {
		t.Fatalf("question = %+v", q)
	}
	if q.Items[0].Sensitive || !q.Items[1].Sensitive || q.Items[1].Reason == "" {
		t.Errorf("sensitive marks: %+v", q.Items[:2])
	}
	if q.Items[2].Files != 12 || q.Items[3].Files != -1 || q.Items[3].Size != -1 {
		t.Errorf("directory items = %+v", q.Items[2:4])
	}
	if q.Items[4].Size != -1 || q.Items[4].Reason != "cannot be read" {
		t.Errorf("unreadable spec item = %+v", q.Items[4])
	}
}

// TestApproverOneQuestionAtATime: questions are shown one at a time, oldest first; a
// bounded number wait; beyond that requests are refused at once, with one note.
func TestApproverOneQuestionAtATime(t *testing.T) {
	f := newFixture(t, withLimits(approval.Limits{MaxQuestions: 3}))
	send := func(id string) *asked {
		return f.ask(transfer.Request{Direction: transfer.Send, SessionID: id, Home: f.home})
	}
	first := send("1")
	if s := f.person.next(t); s.q.SessionID != "1" {
		t.Fatalf("shown %+v", s.q)
	}
	second, third := send("2"), send("3")
	fourth, fifth := send("4"), send("5")
	for i, a := range []*asked{fourth, fifth} {
		if a.pending != nil || a.d.Allow || a.d.Reason != "too many questions waiting" {
			t.Errorf("request %d beyond the queue: %+v, pending %v", 4+i, a.d, a.pending != nil)
		}
	}
	if n := strings.Count(f.notes.String(), "questions are waiting"); n != 1 {
		t.Errorf("%d notes about the full queue: %q", n, f.notes.String())
	}
	f.person.nothingShown(t) // the second waits for the first
	second.undecided(t)
	f.person.say(t, approval.Answer{Choice: approval.Allow})
	if d := first.decision(t); !d.Allow {
		t.Errorf("first: %+v", d)
	}
	if s := f.person.next(t); s.q.SessionID != "2" {
		t.Fatalf("shown %+v", s.q)
	}
	f.person.say(t, approval.Answer{Choice: approval.Allow})
	if s := f.person.next(t); s.q.SessionID != "3" {
		t.Fatalf("shown %+v", s.q)
	}
	f.person.say(t, approval.Answer{Choice: approval.Allow})
	for _, a := range []*asked{second, third} {
		if d := a.decision(t); !d.Allow {
			t.Errorf("decision %+v", d)
		}
	}
}

// TestApproverDenyAll: "deny everything" refuses the question, those waiting, and every
// request that would be asked for QuietFor — said once; a bypass still works.
func TestApproverDenyAll(t *testing.T) {
	f := newFixture(t)
	first := f.ask(transfer.Request{Direction: transfer.Send, SessionID: "1", Home: f.home})
	s := f.person.next(t)
	if s.q.QuietFor != approval.DefaultQuietFor {
		t.Fatalf("deny-all offered for %v", s.q.QuietFor)
	}
	waiting := f.ask(transfer.Request{Direction: transfer.Receive, SessionID: "2", Home: f.home})
	f.person.say(t, approval.Answer{Choice: approval.DenyAll})
	for _, a := range []*asked{first, waiting} {
		if d := a.decision(t); d.Allow {
			t.Errorf("allowed: %+v", d)
		}
	}
	f.clock.Advance(approval.DefaultQuietFor - time.Second)
	later := f.ask(transfer.Request{Direction: transfer.Send, SessionID: "3", Home: f.home})
	if later.pending != nil || later.d.Allow {
		t.Errorf("a request during the quiet time: %+v, pending %v", later.d, later.pending != nil)
	}
	if d := f.ask(transfer.Request{Direction: transfer.Send, SessionID: "b", Bypass: bypass.EncodeSHA256("b", testPassword)}).decision(t); !d.Allow {
		t.Errorf("a bypass during the quiet time: %+v", d)
	}
	f.person.nothingShown(t)
	if n := strings.Count(f.notes.String(), "deny all"); n != 1 {
		t.Errorf("notes %q: want the quiet time said once", f.notes.String())
	}
	f.askedAgainAfter(t, time.Second)
}

// askedAgainAfter checks that a request is asked again, and allowed, once the clock has
// moved d.
func (f *fixture) askedAgainAfter(t *testing.T, d time.Duration) {
	t.Helper()
	f.clock.Advance(d)
	f.person.script = &reply{a: approval.Answer{Choice: approval.Allow}}
	a := f.ask(transfer.Request{Direction: transfer.Send, SessionID: "again", Home: f.home})
	if dec := a.decision(t); a.pending == nil || !dec.Allow {
		t.Errorf("after %v: %+v, pending %v", d, dec, a.pending != nil)
	}
}

// TestApproverBrake: after BrakeDenials denials within BrakeWindow, requests are
// refused without asking for BrakeFor, and that is said once.
func TestApproverBrake(t *testing.T) {
	f := newFixture(t)
	f.person.script = &reply{a: approval.Answer{Choice: approval.Deny}}
	f.denyEach(t, approval.DefaultBrakeDenials, approval.DefaultBrakeWindow/time.Duration(approval.DefaultBrakeDenials+1))
	for i := range 5 {
		a := f.ask(transfer.Request{Direction: transfer.Send, SessionID: fmt.Sprint("x", i), Home: f.home})
		if a.pending != nil || a.d.Allow || a.d.Reason != "too many requests refused in a short time" {
			t.Fatalf("with the brake on: %+v, pending %v", a.d, a.pending != nil)
		}
	}
	f.person.nothingShown(t)
	if n := strings.Count(f.notes.String(), "refusing new ones without asking"); n != 1 {
		t.Errorf("notes %q: want the brake said once", f.notes.String())
	}
	f.askedAgainAfter(t, approval.DefaultBrakeFor)
}

// TestApproverDenialsSpreadOutDoNotBrake: denials further apart than the window do
// not add up.
func TestApproverDenialsSpreadOutDoNotBrake(t *testing.T) {
	f := newFixture(t)
	f.person.script = &reply{a: approval.Answer{Choice: approval.Deny}}
	f.denyEach(t, 2*approval.DefaultBrakeDenials, approval.DefaultBrakeWindow)
}

// denyEach puts n send requests to the person, who denies each (f.person.script),
// with gap between them on the clock; each must be asked.
func (f *fixture) denyEach(t *testing.T, n int, gap time.Duration) {
	t.Helper()
	for i := range n {
		a := f.ask(transfer.Request{Direction: transfer.Send, SessionID: fmt.Sprint(i), Home: f.home})
		if a.pending == nil {
			t.Fatalf("request %d refused without a question: %+v", i, a.d)
		}
		if d := a.decision(t); d.Allow {
			t.Fatalf("allowed %+v", d)
		}
		f.person.next(t)
		f.clock.Advance(gap)
	}
}

// TestApproverWithdraw: a withdrawn question leaves the queue or is taken off the
// screen, its answer is never delivered, and the next question is shown.
func TestApproverWithdraw(t *testing.T) {
	f := newFixture(t)
	shown := f.ask(transfer.Request{Direction: transfer.Send, SessionID: "1", Home: f.home})
	s := f.person.next(t)
	queued := f.ask(transfer.Request{Direction: transfer.Send, SessionID: "2", Home: f.home})
	last := f.ask(transfer.Request{Direction: transfer.Send, SessionID: "3", Home: f.home})
	queued.pending.Withdraw()
	shown.pending.Withdraw()
	shown.pending.Withdraw() // twice: nothing more
	select {
	case <-s.ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the prompt of a withdrawn question was not taken down")
	}
	if s2 := f.person.next(t); s2.q.SessionID != "3" {
		t.Fatalf("shown %+v after the withdrawals", s2.q)
	}
	f.person.say(t, approval.Answer{Choice: approval.Allow})
	if d := last.decision(t); !d.Allow {
		t.Errorf("last: %+v", d)
	}
	shown.undecided(t)
	queued.undecided(t)
	// The second withdrawal is counted with the first (see approval.Repeats), and
	// written when the log closes.
	if err := f.log.Close(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(f.audit.String(), "withdrawn"); n != 2 || !strings.Contains(f.audit.String(), `"count":1,`) {
		t.Errorf("audit log %q: want a withdrawn question, then a count of one more", f.audit.String())
	}
}

// TestApproverRunEndRefusesWaiting: when Run ends, the questions still waiting are
// refused.
func TestApproverRunEndRefusesWaiting(t *testing.T) {
	home := "/home/u"
	guard, err := approval.NewGuard(approval.Config{Home: home, WriteRoots: []string{home}})
	if err != nil {
		t.Fatal(err)
	}
	p := newPerson()
	a, err := approval.New(approval.Options{Home: home, Guard: guard, Asker: p})
	if err != nil {
		t.Fatal(err)
	}
	decided := make(chan transfer.Decision, 2)
	for _, id := range []string{"1", "2"} {
		if _, pending := a.Ask(transfer.Request{Direction: transfer.Send, SessionID: id}, func(d transfer.Decision) { decided <- d }); pending == nil {
			t.Fatal("decided at once")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	p.next(t)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	for range 2 {
		if d := <-decided; d.Allow {
			t.Errorf("allowed %+v", d)
		}
	}
}

// TestApproverNotesOfAFloodAreFew: a remote that sends thousands of wrong passwords,
// or requests the policy refuses, adds a few lines to the screen, with their count and
// a word about guessing; a minute later the next one is said in full again.
func TestApproverNotesOfAFloodAreFew(t *testing.T) {
	f := newFixture(t, withPolicy(approval.PolicyDeny))
	for i := range 5000 {
		id := "g" + strconv.Itoa(i)
		if d := f.ask(transfer.Request{Direction: transfer.Send, SessionID: id, Bypass: bypass.EncodeSHA256(id, "guess")}).decision(t); d.Allow {
			t.Fatal("a wrong password allowed")
		}
		if d := f.ask(transfer.Request{Direction: transfer.Receive, SessionID: id}).decision(t); d.Allow {
			t.Fatal("allowed with policy deny")
		}
	}
	lines := strings.Split(strings.Trim(f.notes.String(), "\r\n"), "\r\n\r\n")
	want := []string{
		"xferterm: refused a send request: bypass: refused: wrong password",
		"xferterm: refused a receive request: the policy is deny",
		"xferterm: refused a send request: bypass: refused: wrong password (10 like this since 06:00:00; the remote may be guessing the password)",
		"xferterm: refused a receive request: the policy is deny (10 like this since 06:00:00)",
		"xferterm: refused a send request: bypass: refused: wrong password (100 like this since 06:00:00; the remote may be guessing the password)",
		"xferterm: refused a receive request: the policy is deny (100 like this since 06:00:00)",
		"xferterm: refused a send request: bypass: refused: wrong password (1000 like this since 06:00:00; the remote may be guessing the password)",
		"xferterm: refused a receive request: the policy is deny (1000 like this since 06:00:00)",
	}
	if !slices.Equal(lines, want) {
		t.Fatalf("notes:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	f.clock.Advance(time.Minute)
	f.ask(transfer.Request{Direction: transfer.Receive, SessionID: "later"}).decision(t)
	if got := f.notes.String(); !strings.HasSuffix(got, "\r\nxferterm: refused a receive request: the policy is deny\r\n") {
		t.Fatalf("a minute later: %q", got[len(got)-100:])
	}
}

// TestApproverDirectoryModes (finding 8): the permissions a remote asks for are never
// given to HOME, a write root or a directory above one; an existing directory is opened
// to group or others only when the user allows that change; a new directory, or one
// kept as private as it was, gets them without a question.
func TestApproverDirectoryModes(t *testing.T) {
	allow, deny := &reply{a: approval.Answer{Choice: approval.Allow}}, &reply{a: approval.Answer{Choice: approval.Deny}}
	for _, tc := range []struct {
		name    string
		path    string
		exists  bool
		mode    uint32
		perm    int64
		answer  *reply // nil: no question may be shown
		allow   bool
		setMode bool
		reason  string // of the question
	}{
		{name: "the temp directory keeps its mode", path: "/tmp", exists: true, mode: 0o1777, perm: 0, allow: true},
		{name: "HOME keeps its mode", path: "/home/u", exists: true, mode: 0o700, perm: 0o777, allow: true},
		{name: "a directory above HOME is asked about and keeps its mode", path: "/home", exists: true, mode: 0o755, perm: 0,
			answer: allow, allow: true, reason: "outside the allowed directories"},
		{name: "opening a private directory to others asks", path: "/home/u/work", exists: true, mode: 0o700, perm: 0o755,
			answer: allow, allow: true, setMode: true, reason: "opens an existing directory to group or others"},
		{name: "opening it refused refuses the entry", path: "/home/u/work", exists: true, mode: 0o700, perm: 0o770,
			answer: deny, reason: "opens an existing directory to group or others"},
		{name: "making a directory more private needs no question", path: "/home/u/work", exists: true, mode: 0o755, perm: 0o700,
			allow: true, setMode: true},
		{name: "a new directory gets what the remote asks", path: "/home/u/new", perm: 0o777, allow: true, setMode: true},
		{name: "a protected directory that would be opened names both reasons", path: "/home/u/.config/nvim", exists: true,
			mode: 0o700, perm: 0o777, answer: allow, allow: true, setMode: true,
			reason: "protected location ~/.config/nvim/; opens an existing directory to group or others"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.person.script = tc.answer
			r := transfer.Request{Direction: transfer.Send, SessionID: "s1", Home: f.home,
				File: &transfer.Item{Path: tc.path, Type: scanner.FileDirectory, Exists: tc.exists, Size: 4096, Files: -1,
					Mode: tc.mode, Perm: scanner.Some(tc.perm)}}
			d := f.ask(r).decision(t)
			if d.Allow != tc.allow || d.SetMode != tc.setMode {
				t.Errorf("decision = %+v, want allow=%v setMode=%v", d, tc.allow, tc.setMode)
			}
			if tc.answer == nil {
				f.person.nothingShown(t)
				return
			}
			if q := f.person.next(t).q; q.File == nil || q.File.Reason != tc.reason {
				t.Errorf("question = %+v, want one about %s for %q", q.File, tc.path, tc.reason)
			}
		})
	}
}

// TestApproverJudgesWhereLinksLead (finding 1): a spec is sensitive when where it
// really leads is (a link the remote planted cannot make ~/.ssh look like ~/photos),
// and an uploaded link whose data has arrived is a sensitive write when it points to a
// sensitive place or outside the write roots, even after a bypass.
func TestApproverJudgesWhereLinksLead(t *testing.T) {
	t.Run("reads", func(t *testing.T) {
		f := newFixture(t)
		f.person.script = &reply{a: approval.Answer{Choice: approval.Deny}}
		specs := []transfer.Item{
			{Name: "~/photos/", Path: "/home/u/photos/", Type: scanner.FileDirectory, Files: 2, Target: "/home/u/.ssh", TargetDir: true},
			{Name: "photos", Path: "/home/u/photos", Type: scanner.FileSymlink, Size: 4, Files: -1, Target: "/home/u/.ssh", TargetDir: true},
			{Name: "all", Path: "/home/u/all", Type: scanner.FileSymlink, Size: 1, Files: -1, Target: "/home/u", TargetDir: true},
			{Name: "cat", Path: "/home/u/cat", Type: scanner.FileSymlink, Size: 9, Files: -1, Target: "/home/u/Pictures/cat.jpg"},
		}
		c := transfer.Request{Direction: transfer.Receive, SessionID: "r1", Home: f.home, Bypass: bypass.EncodeSHA256("r1", testPassword), Items: specs}
		if d := f.ask(c).decision(t); d.Allow {
			t.Fatalf("allowed without a question: %+v", d)
		}
		q := f.person.next(t).q
		want := []string{"protected location ~/.ssh/", "protected location ~/.ssh/", "contains protected location ~/.ssh/", ""}
		for i, it := range q.Items {
			if it.Reason != want[i] || it.Sensitive != (want[i] != "") {
				t.Errorf("%s: sensitive %v %q, want %q", it.Name, it.Sensitive, it.Reason, want[i])
			}
		}
	})
	for _, tc := range []struct {
		target string
		dir    bool
		reason string // "": allowed without a question
	}{
		{"/home/u/.ssh", true, "link target: protected location ~/.ssh/"},
		{"/etc/passwd", false, "link target: outside the allowed directories"},
		{"/home/u/Documents/id_rsa", false, "link target: private key or credentials"},
		{"/home/u/Pictures/cat.jpg", false, ""},
		{"/tmp/x", false, ""},
	} {
		t.Run("a link to "+tc.target, func(t *testing.T) {
			f := newFixture(t)
			f.person.script = &reply{a: approval.Answer{Choice: approval.Deny}}
			r := transfer.Request{Direction: transfer.Send, SessionID: "s1", Home: f.home, File: &transfer.Item{
				Path: "/home/u/photos", Type: scanner.FileSymlink, Size: -1, Files: -1, Target: tc.target, TargetDir: tc.dir}}
			d := f.ask(r).decision(t)
			if d.Allow != (tc.reason == "") {
				t.Errorf("decision %+v", d)
			}
			if tc.reason == "" {
				f.person.nothingShown(t)
				return
			}
			if q := f.person.next(t).q; q.File == nil || q.File.Reason != tc.reason || q.File.Target != tc.target {
				t.Errorf("question %+v, want one for %q", q.File, tc.reason)
			}
		})
	}
}
