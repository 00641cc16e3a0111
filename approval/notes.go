package approval

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// noteWindow is how long notes of one kind are counted before the next one is said in
// full again.
const noteWindow = time.Minute

// notes writes the Approver's lines to the user's screen at a bounded rate: the first
// note of a kind is said at once; more of the same kind within noteWindow only when
// their count reaches 10, 100, 1000 and so on, with that count. So a remote that makes
// thousands of requests fail adds a handful of lines, and the user still learns how
// many there were. The kind is the note's format: a fixed string of ours.
type notes struct {
	w   io.Writer        // read-only; nil: nothing is said
	now func() time.Time // read-only

	mu    sync.Mutex // guards kinds; never held while writing
	kinds map[string]*noteRun
}

// noteRun counts the notes of one kind since start.
type noteRun struct {
	start time.Time
	count int
}

func newNotes(w io.Writer, now func() time.Time) *notes {
	return &notes{w: w, now: now, kinds: make(map[string]*noteRun)}
}

// say writes the note fmt.Sprintf(format, args...), framed for a terminal in raw mode,
// unless its kind was said moments ago (see notes). repeated is added to the notes
// that give a count.
func (n *notes) say(repeated, format string, args ...any) {
	if n.w == nil {
		return
	}
	now := n.now()
	n.mu.Lock()
	r := n.kinds[format]
	if r == nil || now.Sub(r.start) >= noteWindow {
		r = &noteRun{start: now}
		n.kinds[format] = r
	}
	r.count++
	count, start := r.count, r.start
	n.mu.Unlock()
	if count == 1 {
		fmt.Fprintf(n.w, "\r\nxferterm: "+format+"\r\n", args...)
		return
	}
	if !powerOfTen(count) {
		return
	}
	fmt.Fprintf(n.w, "\r\nxferterm: "+format+" (%d like this since %s%s)\r\n",
		append(args, count, start.Format("15:04:05"), repeated)...)
}

// powerOfTen reports whether n is 10, 100, 1000, …
func powerOfTen(n int) bool {
	for n >= 10 && n%10 == 0 {
		n /= 10
	}
	return n == 1
}
