package approval_test

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/xferterm/xferterm/approval"
	"github.com/xferterm/xferterm/bypass"
	"github.com/xferterm/xferterm/testdata"
	"github.com/xferterm/xferterm/transfer"
)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// syncBuffer is a bytes.Buffer for writers on several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const testPassword = "correct horse battery staple"

// person is an Asker played by the test: each question shown is sent on shown, and the
// person's reply is read from replies (or, when script is set, given at once).
type person struct {
	shown   chan shownQuestion
	replies chan reply
	script  *reply // when set: answered at once with it
}

type shownQuestion struct {
	q   approval.Question
	ctx context.Context // ends when the question is withdrawn
}

type reply struct {
	a   approval.Answer
	err error
}

func newPerson() *person {
	return &person{shown: make(chan shownQuestion, 64), replies: make(chan reply)}
}

func (p *person) Ask(ctx context.Context, q approval.Question) (approval.Answer, error) {
	p.shown <- shownQuestion{q, ctx}
	if p.script != nil {
		return p.script.a, p.script.err
	}
	select {
	case r := <-p.replies:
		return r.a, r.err
	case <-ctx.Done():
		return approval.Answer{}, context.Cause(ctx)
	}
}

// next returns the next question shown, or fails the test when none comes.
func (p *person) next(t testing.TB) shownQuestion {
	t.Helper()
	select {
	case s := <-p.shown:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no question was shown")
		return shownQuestion{}
	}
}

// nothingShown fails the test when a question is on the screen.
func (p *person) nothingShown(t testing.TB) {
	t.Helper()
	select {
	case s := <-p.shown:
		t.Fatalf("a question was shown: %+v", s.q)
	default:
	}
}

// say gives the reply to the question on the screen.
func (p *person) say(t testing.TB, a approval.Answer) {
	t.Helper()
	select {
	case p.replies <- reply{a: a}:
	case <-time.After(10 * time.Second):
		t.Fatal("no question waits for an answer")
	}
}

// fixture is an Approver with a test person, its notes and audit log, a fake clock,
// and its Run goroutine (stopped at the end of the test).
type fixture struct {
	a      *approval.Approver
	person *person
	notes  *syncBuffer
	audit  *syncBuffer
	log    *approval.AuditLog // writes to audit
	clock  *testdata.Clock
	home   string
	key    *bypass.KeyPair
}

type fixtureOption func(*approval.Options)

func withPolicy(p approval.Policy) fixtureOption { return func(o *approval.Options) { o.Policy = p } }
func withNobody() fixtureOption                  { return func(o *approval.Options) { o.Asker = nil } }
func withLimits(l approval.Limits) fixtureOption { return func(o *approval.Options) { o.Limits = l } }

// newGuard returns the default Guard for home, with the temp dir tmp.
func newGuard(tb testing.TB, home, tmp string) *approval.Guard {
	tb.Helper()
	paths := approval.Paths{Home: home, ConfigDir: filepath.Join(home, ".config/xferterm"),
		StateDir: filepath.Join(home, ".local/state/xferterm"), TempDir: tmp}
	guard, err := approval.NewGuard(approval.Defaults(paths), paths.ConfigDir, paths.StateDir)
	if err != nil {
		tb.Fatal(err)
	}
	return guard
}

func newFixture(t *testing.T, opts ...fixtureOption) *fixture {
	t.Helper()
	home := "/home/u"
	guard := newGuard(t, home, "/tmp")
	key, err := bypass.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{person: newPerson(), notes: new(syncBuffer), audit: new(syncBuffer),
		clock: testdata.NewClock(time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)), home: home, key: key}
	f.log = approval.NewAuditLog(f.audit, f.clock.Now)
	o := approval.Options{
		Home:     home,
		Guard:    guard,
		Verifier: bypass.NewVerifier(key, bypass.NewSecret(testPassword), time.Now),
		Asker:    f.person,
		Audit:    f.log,
		Notes:    f.notes,
		Now:      f.clock.Now,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if f.a, err = approval.New(o); err != nil {
		t.Fatal(err)
	}
	testdata.Background(t, func(ctx context.Context) {
		_ = f.a.Run(ctx) // Ends with ctx.
	})
	return f
}

// asked is one request put to the Approver: the decision when it was made at once, or
// else what arrives on decided.
type asked struct {
	d       transfer.Decision
	pending transfer.Pending
	decided chan transfer.Decision
}

func (f *fixture) ask(r transfer.Request) *asked {
	a := &asked{decided: make(chan transfer.Decision, 1)}
	a.d, a.pending = f.a.Ask(r, func(d transfer.Decision) { a.decided <- d })
	return a
}

// decision waits for the decision of a pending request.
func (a *asked) decision(t testing.TB) transfer.Decision {
	t.Helper()
	if a.pending == nil {
		return a.d
	}
	select {
	case d := <-a.decided:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("no decision")
		return transfer.Decision{}
	}
}

// undecided fails the test when a decision has arrived.
func (a *asked) undecided(t testing.TB) {
	t.Helper()
	select {
	case d := <-a.decided:
		t.Fatalf("decided %+v", d)
	default:
	}
}

func (f *fixture) kitty1(t testing.TB, id, password string) string {
	t.Helper()
	v, err := bypass.EncodeKitty1(f.key.PublicKeyEnv(), id, password, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return v
}
