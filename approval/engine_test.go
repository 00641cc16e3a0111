package approval_test

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xferterm/xferterm/approval"
	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
	"github.com/xferterm/xferterm/transfer"
)

// engineRig is the real engine asking the real Approver, whose person is the test.
type engineRig struct {
	*fixture
	e       *fs.Engine
	clock   *testdata.Clock
	decided chan transfer.Event // the engine's session events: a decision took effect
}

func newEngineRig(t *testing.T) *engineRig {
	t.Helper()
	r := &engineRig{fixture: newFixture(t), clock: testdata.NewClock(time.Unix(1_800_000_000, 0)),
		decided: make(chan transfer.Event, 16)}
	e, err := fs.NewEngine(fs.Config{Home: t.TempDir(), Approver: r.a, Now: r.clock.Now, Events: func(ev transfer.Event) {
		r.a.Record(ev)
		if ev.Kind == transfer.EventSession {
			r.decided <- ev
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	r.e = e
	return r
}

// waitDecided waits until the engine has applied the decision about session id.
func (r *engineRig) waitDecided(t testing.TB, id string) transfer.Event {
	t.Helper()
	select {
	case ev := <-r.decided:
		if ev.SessionID != id {
			t.Fatalf("decided %+v, want session %s", ev, id)
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatalf("session %s was never decided", id)
		return transfer.Event{}
	}
}

func (r *engineRig) handle(t testing.TB, c scanner.Command) {
	if err := r.e.Handle(&c); err != nil {
		t.Error(err)
	}
}

// replies returns the statuses the engine has for the child, as "st" strings.
func (r *engineRig) replies(t testing.TB) []string {
	t.Helper()
	var out []string
	sc := scanner.New(io.Discard, func(p []byte, err error) {
		c, perr := scanner.Parse(p)
		if err != nil || perr != nil {
			t.Errorf("a broken reply: %v %v", err, perr)
			return
		}
		out = append(out, c.Status)
	}, 0)
	if _, err := sc.Write(r.e.Pull(nil, 1<<20)); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSessionDiesWhileItsQuestionIsShown: a session cancelled, expired, replaced or
// ended while its question is on the screen takes the question down (the Asker's
// context ends), is gone from the engine, gets no reply it should not, and the next
// question is shown.
func TestSessionDiesWhileItsQuestionIsShown(t *testing.T) {
	for _, tc := range []struct {
		name    string
		kill    func(t *testing.T, r *engineRig)
		replies string
	}{
		{"cancel", func(t *testing.T, r *engineRig) {
			r.handle(t, scanner.Command{Action: scanner.ActionCancel, ID: "s"})
		}, "[]"},
		{"expiry", func(t *testing.T, r *engineRig) {
			r.clock.Advance(fs.DefaultIdleTimeout + time.Second)
			r.e.Tick()
		}, "[]"},
		{"send again", func(t *testing.T, r *engineRig) {
			r.handle(t, scanner.Command{Action: scanner.ActionSend, ID: "s"})
		}, "[]"},
		{"Ctrl+C", func(t *testing.T, r *engineRig) { r.e.CancelAll() }, "[CANCELED]"},
		{"the end of the program", func(t *testing.T, r *engineRig) { _ = r.e.Close() }, "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newEngineRig(t)
			r.handle(t, scanner.Command{Action: scanner.ActionSend, ID: "s"})
			shown := r.person.next(t)
			if shown.q.SessionID != "s" {
				t.Fatalf("shown %+v", shown.q)
			}
			tc.kill(t, r)
			select {
			case <-shown.ctx.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("the question of a dead session is still on the screen")
			}
			if got := fmt.Sprint(r.replies(t)); got != tc.replies {
				t.Errorf("replies %s, want %s", got, tc.replies)
			}
			if r.e.Active() {
				t.Error("the session is still in the engine")
			}
			if !strings.Contains(r.audit.String(), "withdrawn") {
				t.Errorf("audit log %q", r.audit.String())
			}
			if tc.name == "the end of the program" {
				return
			}
			// The next session's question is shown: nothing is stuck.
			r.handle(t, scanner.Command{Action: scanner.ActionSend, ID: "next"})
			if next := r.person.next(t); next.q.SessionID != "next" {
				t.Fatalf("then shown %+v", next.q)
			}
			r.person.say(t, approval.Answer{Choice: approval.Allow})
			if ev := r.waitDecided(t, "next"); !ev.Allowed {
				t.Errorf("next: %+v", ev)
			}
			if got := fmt.Sprint(r.replies(t)); got != "[OK]" || !r.e.Running() {
				t.Errorf("next: replies %s, running %v", got, r.e.Running())
			}
		})
	}
}

// TestQuestionAnsweredWhileItsSessionIsCancelled races the person's answer against the
// client's cancel, each on its own goroutine as in xferterm (the Approver's Run, the
// output pump). Either the answer wins (the session is allowed: OK, then its cancel
// is acknowledged) or the cancel does (the question is withdrawn and nothing is
// replied); the engine is left with nothing running either way.
func TestQuestionAnsweredWhileItsSessionIsCancelled(t *testing.T) {
	for i := range 50 {
		r := newEngineRig(t)
		r.handle(t, scanner.Command{Action: scanner.ActionSend, ID: "s"})
		shown := r.person.next(t)
		var wg sync.WaitGroup
		answered := false
		wg.Go(func() {
			select {
			case r.person.replies <- reply{a: approval.Answer{Choice: approval.Allow}}:
				answered = true
			case <-shown.ctx.Done():
			}
		})
		wg.Go(func() { r.handle(t, scanner.Command{Action: scanner.ActionCancel, ID: "s"}) })
		wg.Wait()
		if answered {
			// The person answered; the Approver hands the answer on (or drops it,
			// when the cancel withdrew the question first) on its own goroutine.
			select {
			case <-r.decided:
			case <-shown.ctx.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("the answer went nowhere")
			}
		}
		got := fmt.Sprint(r.replies(t))
		if got != "[]" && got != "[OK CANCELED]" {
			t.Fatalf("run %d: replies %s", i, got)
		}
		if r.e.Active() || r.e.Running() {
			t.Fatalf("run %d: a session is left", i)
		}
	}
}
