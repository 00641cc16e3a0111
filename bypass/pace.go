package bypass

import "time"

// Pacing of failed checks: see "Guessing" in the package doc.
const (
	// FreeFailures is how many failed checks in a row are not paced: a person's typos
	// and a script with a stale password never wait.
	FreeFailures = 100

	// FailuresPerSecond is how many failed checks a second are made once FreeFailures
	// are spent: Backoff keeps the stream from going faster. It bounds the guesses a
	// remote can make (86 million a day), and the CPU it can burn on kitty-1
	// decryption (an X25519 and an AES-GCM each, a few percent of a core at this rate).
	FailuresPerSecond = 1000

	// failureInterval is the time one failed check costs once FreeFailures are spent.
	failureInterval = time.Second / FailuresPerSecond
)

// pacer accounts for failed checks with the generic cell rate algorithm: each failure
// moves the time at which the budget is whole again (due) one failureInterval further;
// when due lies more than FreeFailures intervals ahead, the surplus is the backoff.
// Not safe for concurrent use: Verifier.mu guards it.
type pacer struct {
	due time.Time // when the budget is whole again; zero or past: it is whole
}

// fail accounts for one failed check at now.
func (p *pacer) fail(now time.Time) {
	if p.due.Before(now) {
		p.due = now
	}
	// At most twice the free budget ahead: pacing that nobody pays for (no Backoff
	// caller) must not pile up.
	p.due = minTime(p.due.Add(failureInterval), now.Add(2*FreeFailures*failureInterval))
}

// backoff returns how long the caller should wait at now before the next check.
func (p *pacer) backoff(now time.Time) time.Duration {
	if !p.due.After(now) {
		return 0
	}
	return max(0, p.due.Sub(now)-FreeFailures*failureInterval)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
