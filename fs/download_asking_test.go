package fs_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// startAskingFromTick makes session s ask its question from Tick (the spec timeout),
// with one spec of the two it announced, and returns the question posted.
func startAskingFromTick(t *testing.T, h *dlHarness, p *personApprover) *question {
	t.Helper()
	h.do(receiveCmd("s", 2), specCmd("s", "0", "dir"))
	p.none(t)
	h.clock.Advance(fs.DefaultSpecTimeout)
	h.e.Tick() // Returns at once: the question waits on its own.
	fs.Settle(h.e)
	q := p.next(t)
	if q.r.Direction != transfer.Receive || len(q.r.Items) != 1 {
		t.Fatalf("question %+v", q.r)
	}
	return q
}

// TestDownloadWhileAsking covers commands that arrive while a person decides (see
// handleAsking): the answer is applied only to the session that asked, and only if the
// specs it saw are still all there is; a session that dies withdraws its question.
func TestDownloadWhileAsking(t *testing.T) {
	t.Run("a late spec spoils the question", func(t *testing.T) {
		p := newPersonApprover(nil)
		h := newDLHarness(t, p, fs.Limits{})
		hostileHome(t, h.home)
		q := startAskingFromTick(t, h, p)
		got := h.do(specCmd("s", "1", "secret.txt"))
		q.answer(transfer.Decision{Allow: true})
		got = append(got, h.pull()...)
		if st := statusLines(t, got, secretText); fmt.Sprint(st) != fmt.Sprint([]string{":" + scanner.StatusLateSpec}) {
			t.Errorf("statuses %q", st)
		}
		if h.e.Active() {
			t.Error("still active")
		}
	})
	t.Run("cancel withdraws the question and destroys silently", func(t *testing.T) {
		p := newPersonApprover(nil)
		h := newDLHarness(t, p, fs.Limits{})
		hostileHome(t, h.home)
		q := startAskingFromTick(t, h, p)
		got := h.do(actionCmd("s", scanner.ActionCancel))
		if !q.withdrawn() {
			t.Fatal("the question was not withdrawn")
		}
		q.answer(transfer.Decision{Allow: true}) // Too late: ignored.
		if got = append(got, h.pull()...); len(got) != 0 || h.e.Active() {
			t.Errorf("replies %s, active %v", h.show(got), h.e.Active())
		}
	})
	t.Run("the answer for a replaced session is dropped", func(t *testing.T) {
		p := newPersonApprover(nil)
		h := newDLHarness(t, p, fs.Limits{})
		hostileHome(t, h.home)
		q := startAskingFromTick(t, h, p)
		// receive again destroys the asking session; a third creates a new one.
		got := h.do(receiveCmd("s", 2), receiveCmd("s", 2))
		if !q.withdrawn() {
			t.Error("the question was not withdrawn")
		}
		q.answer(transfer.Decision{Allow: true})
		if got = append(got, h.pull()...); len(got) != 0 || !h.e.Active() {
			t.Errorf("replies %s, active %v", h.show(got), h.e.Active())
		}
	})
	t.Run("CancelAll answers CANCELED", func(t *testing.T) {
		p := newPersonApprover(nil)
		h := newDLHarness(t, p, fs.Limits{})
		hostileHome(t, h.home)
		q := startAskingFromTick(t, h, p)
		if !h.e.CancelAll() {
			t.Error("CancelAll found no session")
		}
		if !q.withdrawn() {
			t.Error("the question was not withdrawn")
		}
		if st := statusLines(t, h.pull(), ""); fmt.Sprint(st) != "[:CANCELED]" {
			t.Errorf("statuses %q", st)
		}
	})
	t.Run("Close withdraws the question", func(t *testing.T) {
		p := newPersonApprover(nil)
		h := newDLHarness(t, p, fs.Limits{})
		hostileHome(t, h.home)
		q := startAskingFromTick(t, h, p)
		must(t, h.e.Close())
		if !q.withdrawn() {
			t.Error("the question was not withdrawn")
		}
		q.answer(transfer.Decision{Allow: true}) // After Close: dropped.
	})
	t.Run("expiry during the question", func(t *testing.T) {
		p := newPersonApprover(nil)
		h := newDLHarness(t, p, fs.Limits{})
		hostileHome(t, h.home)
		q := startAskingFromTick(t, h, p)
		h.clock.Advance(fs.DefaultIdleTimeout + time.Second)
		h.do(actionCmd("other", scanner.ActionFinish)) // Handle prunes expired sessions
		if !q.withdrawn() {
			t.Error("the question was not withdrawn")
		}
		q.answer(transfer.Decision{Allow: true})
		if got := h.pull(); len(got) != 0 || h.e.Active() {
			t.Errorf("replies %s, active %v", h.show(got), h.e.Active())
		}
	})
	t.Run("the engine goes on while the question is up", func(t *testing.T) {
		p := newPersonApprover(func(r transfer.Request) (transfer.Decision, bool) {
			return transfer.Decision{Allow: true}, r.SessionID != "s"
		})
		h := newDLHarness(t, p, fs.Limits{})
		hostileHome(t, h.home)
		q := startAskingFromTick(t, h, p)
		// Another session is decided, listed and served while s waits.
		got := h.do(receiveCmd("t", 1), specCmd("t", "0", "dir/a.txt"))
		if st := statusLines(t, got, ""); len(st) != 2 || st[0] != ":OK" || st[1] != ":OK" {
			t.Fatalf("the other session: %s", h.show(got))
		}
		if h.e.Running() != true {
			t.Error("Running is false while t is listed")
		}
		q.answer(transfer.Decision{Allow: true})
		if st := statusLines(t, h.pull(), ""); len(st) < 1 || st[0] != ":OK" {
			t.Errorf("s after the answer: %q", st)
		}
	})
}

// TestDownloadAskingRacesAnswer is the race of a question that is answered while its
// session is cancelled, expires or is replaced, each on its own goroutine as in the
// proxy (the pump, the ticker, the approval side). Whatever wins, the engine ends
// consistent: a session whose teardown came first withdrew its question and got no
// reply after it; one whose answer came first was allowed and then torn down; nothing
// is left running.
func TestDownloadAskingRacesAnswer(t *testing.T) {
	for _, tc := range []struct {
		name string
		kill func(h *dlHarness)
	}{
		{"cancel", func(h *dlHarness) { handleOff(h, actionCmd("s", scanner.ActionCancel)) }},
		{"expiry", func(h *dlHarness) {
			h.clock.Advance(fs.DefaultIdleTimeout + time.Second)
			h.e.Tick()
		}},
		{"receive again", func(h *dlHarness) { handleOff(h, receiveCmd("s", 2)) }},
		{"CancelAll", func(h *dlHarness) { h.e.CancelAll() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 50 {
				p := newPersonApprover(nil)
				h := newDLHarness(t, p, fs.Limits{})
				hostileHome(t, h.home)
				q := startAskingFromTick(t, h, p)
				var wg sync.WaitGroup
				wg.Go(func() { q.answer(transfer.Decision{Allow: true}) })
				wg.Go(func() { tc.kill(h) })
				wg.Wait()
				got := h.pull()
				if q.withdrawn() {
					// The teardown came first: the answer was dropped.
					for _, c := range got {
						if c.Action != scanner.ActionStatus || c.Status != scanner.StatusCanceled {
							t.Fatalf("after the question was withdrawn: %s", h.show(got))
						}
					}
				}
				if h.e.Active() || h.e.Running() {
					t.Fatalf("left running: %s", h.show(got))
				}
				must(t, h.e.Close())
			}
		})
	}
}

// handleOff is Handle for a goroutine other than the test's.
func handleOff(h *dlHarness, c scanner.Command) {
	if err := h.e.Handle(&c); err != nil {
		h.t.Error(err)
	}
}

// TestDownloadConcurrent runs the engine as the proxy does: Handle on one goroutine,
// Pull on another (waiting on Ready), Tick on a third, with several sessions at once.
// Each session's replies keep their order and every file arrives whole.
func TestDownloadConcurrent(t *testing.T) {
	h := newDLHarness(t, dlAllow, fs.Limits{})
	const files = 4
	for i := range files {
		writeBigFile(t, filepath.Join(h.home, fmt.Sprint("f", i)), 300<<10, uint64(10+i))
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pulled := make(chan []scanner.Command, 1)
	go func() { // the pty writer
		var out []scanner.Command
		defer func() { pulled <- out }()
		for {
			select {
			case <-ctx.Done():
				return
			case <-h.e.Ready():
			}
			for {
				b := h.e.Pull(nil, 8<<10)
				if len(b) == 0 {
					break
				}
				cmds, err := parseReplies(b)
				if err != nil {
					t.Error(err)
					return
				}
				out = append(out, cmds...)
			}
		}
	}()
	go func() { // the proxy's timer
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				h.e.Tick()
			}
		}
	}()
	ids := []string{"a", "b", "c"}
	handle := func(cmds []scanner.Command) {
		for i := range cmds {
			must(t, h.e.Handle(&cmds[i]))
		}
	}
	for _, id := range ids {
		cmds := []scanner.Command{receiveCmd(id, files)}
		for i := range files {
			cmds = append(cmds, specCmd(id, fmt.Sprint(i), fmt.Sprint("f", i)))
		}
		handle(cmds)
	}
	// The client waits for the permission OK before it asks for data
	// (reference-client.md §4.2); the decision follows the description of the specs.
	fs.Settle(h.e)
	for _, id := range ids {
		var cmds []scanner.Command
		for i := range files {
			cmds = append(cmds, requestCmd(id, fmt.Sprint(10+i), filepath.Join(h.home, fmt.Sprint("f", i)), i%2 == 1))
		}
		handle(cmds)
	}
	// Wait until every session has sent all its files, then stop the writer: it
	// drains what Pull has before it looks at ctx again.
	deadline := time.After(20 * time.Second)
	for sent := 0; sent < files*len(ids); {
		select {
		case ev := <-h.notify:
			if ev.Kind == transfer.EventFile && ev.Result == "OK" {
				sent++
			}
		case <-deadline:
			t.Fatalf("only %d files sent", sent)
		}
	}
	cancel()
	out := <-pulled
	for _, id := range ids {
		var mine []scanner.Command
		for _, c := range out {
			if c.ID == id {
				mine = append(mine, c)
			}
		}
		// OK, files entries, final OK, then the data.
		if len(mine) < files+2 || statusLine(mine[0]) != ":OK" || statusLine(mine[files+1]) != ":OK" {
			t.Fatalf("session %s: %s", id, h.show(mine[:min(len(mine), files+2)]))
		}
		for i := range files {
			fid := fmt.Sprint(10 + i)
			got := fileData(t, mine, fid, i%2 == 1)
			if want := localContent(t, filepath.Join(h.home, fmt.Sprint("f", i))); !bytes.Equal(got, want) {
				t.Errorf("session %s file %d differs", id, i)
			}
		}
	}
}
