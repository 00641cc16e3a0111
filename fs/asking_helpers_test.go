package fs_test

import (
	"sync"
	"testing"
	"time"

	"github.com/xferterm/xferterm/transfer"
)

// personApprover leaves to a person (the test) every request for which atOnce reports
// false: it posts the question on asked and returns it as pending. The test answers
// with question.answer, from any goroutine, as the approval side would.
type personApprover struct {
	atOnce func(r transfer.Request) (transfer.Decision, bool) // nil: every request waits
	asked  chan *question
}

func newPersonApprover(atOnce func(r transfer.Request) (transfer.Decision, bool)) *personApprover {
	return &personApprover{atOnce: atOnce, asked: make(chan *question, 64)}
}

// Ask implements transfer.Approver.
func (p *personApprover) Ask(r transfer.Request, answer func(transfer.Decision)) (transfer.Decision, transfer.Pending) {
	if p.atOnce != nil {
		if d, ok := p.atOnce(r); ok {
			return d, nil
		}
	}
	q := &question{r: r, deliver: answer, gone: make(chan struct{})}
	p.asked <- q // Never blocks in these tests: a test asks far fewer than 64 questions.
	return transfer.Decision{}, q
}

// next returns the next question posted, or fails the test when none comes.
func (p *personApprover) next(t testing.TB) *question {
	t.Helper()
	select {
	case q := <-p.asked:
		return q
	case <-time.After(10 * time.Second):
		t.Fatal("no question was posted")
		return nil
	}
}

// none fails the test when a question is waiting.
func (p *personApprover) none(t testing.TB) {
	t.Helper()
	select {
	case q := <-p.asked:
		t.Fatalf("unexpected question %+v", q.r)
	default:
	}
}

// question is one posted question.
type question struct {
	r        transfer.Request
	deliver  func(transfer.Decision)
	withdraw sync.Once
	gone     chan struct{} // closed by Withdraw
}

// Withdraw implements transfer.Pending.
func (q *question) Withdraw() { q.withdraw.Do(func() { close(q.gone) }) }

// answer gives the person's answer. The engine handles it before answer returns.
func (q *question) answer(d transfer.Decision) { q.deliver(d) }

// withdrawn reports whether the engine took the question back.
func (q *question) withdrawn() bool {
	select {
	case <-q.gone:
		return true
	default:
		return false
	}
}

// sessionsAtOnce decides session requests at once (allowing them) and leaves every file
// request to a person.
func sessionsAtOnce(r transfer.Request) (transfer.Decision, bool) {
	return transfer.Decision{Allow: true, How: transfer.MethodBypass}, r.File == nil
}
