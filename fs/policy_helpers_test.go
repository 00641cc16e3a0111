package fs_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/xferterm/xferterm/approval"
	"github.com/xferterm/xferterm/testdata"
	"github.com/xferterm/xferterm/transfer"
)

// policy is xferterm's own approval policy (package approval: the guard with its
// default write roots and protected places) over a test's home, with the person played
// by the test: choose answers every question, and the questions are recorded. It lets
// the engine's tests check what the real policy makes of the facts the engine reports.
type policy struct {
	a       *approval.Approver
	choose  func(q approval.Question) approval.Choice
	decided chan struct{} // a token for each answer the engine has applied

	mu    sync.Mutex // guards asked
	asked []approval.Question
}

// newPolicy returns a policy that the harness can take before its home exists; start
// it with the home before the first command.
func newPolicy(choose func(q approval.Question) approval.Choice) *policy {
	return &policy{choose: choose, decided: make(chan struct{}, 64)}
}

// start makes the policy for home, with tmp as the temporary directory (the other
// default write root), and runs its questions until the test ends.
func (p *policy) start(t *testing.T, home, tmp string) {
	t.Helper()
	paths := approval.Paths{Home: home, ConfigDir: filepath.Join(home, ".config", "xferterm"),
		StateDir: filepath.Join(home, ".local", "state", "xferterm"), TempDir: tmp}
	g, err := approval.NewGuard(approval.Defaults(paths), paths.ConfigDir, paths.StateDir)
	must(t, err)
	p.a, err = approval.New(approval.Options{Home: home, Guard: g, Asker: approval.AskerFunc(p.ask)})
	must(t, err)
	testdata.Background(t, func(ctx context.Context) {
		_ = p.a.Run(ctx) // Ends with ctx.
	})
}

func (p *policy) ask(_ context.Context, q approval.Question) (approval.Answer, error) {
	p.mu.Lock()
	p.asked = append(p.asked, q)
	p.mu.Unlock()
	return approval.Answer{Choice: p.choose(q)}, nil
}

// Ask implements transfer.Approver; a person's answer leaves a token on decided once
// the engine has applied it.
func (p *policy) Ask(r transfer.Request, answer func(transfer.Decision)) (transfer.Decision, transfer.Pending) {
	return p.a.Ask(r, func(d transfer.Decision) {
		answer(d)
		p.decided <- struct{}{}
	})
}

// await waits for n answers to have been applied.
func (p *policy) await(t testing.TB, n int) {
	t.Helper()
	for range n {
		select {
		case <-p.decided:
		case <-time.After(10 * time.Second):
			t.Fatal("no answer was applied")
		}
	}
}

// questions returns the file questions asked so far.
func (p *policy) questions() []transfer.Item {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []transfer.Item
	for _, q := range p.asked {
		if q.File != nil {
			out = append(out, *q.File)
		}
	}
	return out
}

// sessionPolicy allows a session (as its question's answer), and refuses every file
// question: what is written without a question is what the policy lets through.
func sessionPolicy(q approval.Question) approval.Choice {
	if q.File == nil {
		return approval.Allow
	}
	return approval.Deny
}
