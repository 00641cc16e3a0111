package fs

import (
	"strconv"

	"github.com/xferterm/xferterm/transfer"
)

// DescribeSpecs exposes the pre-walk of a receive session's question, with a chosen
// budget of entries, so the cap can be tested without a tree of 100 000 files.
func DescribeSpecs(home string, names []string, budget int) []transfer.Item {
	specs := make([]spec, len(names))
	for i, n := range names {
		specs[i] = spec{name: n}
	}
	items, _ := describeSpecs(home, specs, budget)
	return items
}

// MaxDescribeEntries is the pre-walk's budget.
const MaxDescribeEntries = maxDescribeEntries

// Listing runs the listing walk of a receive session over the specs (fids 0, 1, …) with
// a cap of limit entries, and returns the payloads it would send.
func Listing(home string, names []string, limit int) []string {
	return ListingRacing(home, names, limit, nil)
}

// ListingRacing is Listing with readDir called each time the walk has read the names
// of a directory, before it looks at them: a test moves files under its feet there.
func ListingRacing(home string, names []string, limit int, readDir func(path string)) []string {
	specs := make([]spec, len(names))
	for i, n := range names {
		specs[i] = spec{fid: strconv.Itoa(i), name: n}
	}
	// Described first, as a session's specs are.
	items, keys := describeSpecs(home, specs, 0)
	for i := range specs {
		specs[i].err, specs[i].key = items[i].Err, keys[i]
	}
	d := &download{id: "t", errs: true, acct: account{b: &budget{limit: 1 << 62}}}
	l := newLister(home, specs, &d.acct)
	l.limit = limit
	l.readDir = readDir
	for !l.step(d) {
	}
	var out []string
	for _, seq := range d.out {
		out = append(out, string(seq))
	}
	return out
}

// Settle waits until the engine's background jobs (the description of a receive
// session's specs) have ended and handed their results back, so that a test sees the
// engine as it is once nothing is left to happen on its own.
func Settle(e *Engine) { e.work.Wait() }

// Held is what the engine holds of its budget for the remote (Limits.MaxHeld).
func Held(e *Engine) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.held.used
}
