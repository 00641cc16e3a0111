package fs_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
)

// blockingApprover lets a test hold the Approver's answer.
type blockingApprover struct {
	asked  chan context.Context // receives the ctx of each question
	answer chan fs.Decision
}

func newBlockingApprover() *blockingApprover {
	return &blockingApprover{asked: make(chan context.Context, 1), answer: make(chan fs.Decision, 1)}
}

func (b *blockingApprover) Approve(ctx context.Context, _ fs.Request) fs.Decision {
	b.asked <- ctx
	select {
	case d := <-b.answer:
		return d
	case <-ctx.Done():
		return fs.Decision{Allow: false, Reason: "canceled"}
	}
}

// startAskingFromTick makes session s ask its question from Tick (the spec timeout), so
// that Handle can deliver commands while the Approver decides. It returns the
// question's context and a channel closed when Tick returns.
func startAskingFromTick(t *testing.T, h *dlHarness, b *blockingApprover) (context.Context, chan struct{}) {
	t.Helper()
	h.do(receiveCmd("s", 2), specCmd("s", "0", "dir"))
	h.clock.Advance(fs.DefaultSpecTimeout)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.e.Tick()
	}()
	select {
	case ctx := <-b.asked:
		return ctx, done
	case <-time.After(10 * time.Second):
		t.Fatal("the Approver was never asked")
	}
	return nil, nil
}

func waitClosed(t *testing.T, c chan struct{}) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(10 * time.Second):
		t.Fatal("Tick did not return")
	}
}

// TestDownloadWhileAsking covers commands that arrive while the Approver decides (see
// handleAsking): the answer is applied only to the session that asked, and only if the
// specs it saw are still all there is.
func TestDownloadWhileAsking(t *testing.T) {
	t.Run("a late spec spoils the question", func(t *testing.T) {
		b := newBlockingApprover()
		h := newDLHarness(t, b, fs.Limits{})
		hostileHome(t, h.home)
		_, done := startAskingFromTick(t, h, b)
		got := h.do(specCmd("s", "1", "secret.txt")) // Handle must not block meanwhile
		b.answer <- fs.Decision{Allow: true}
		waitClosed(t, done)
		got = append(got, h.pull()...)
		if st := statusLines(t, got, secretText); fmt.Sprint(st) != fmt.Sprint([]string{":" + scanner.StatusLateSpec}) {
			t.Errorf("statuses %q", st)
		}
		if h.e.Active() {
			t.Error("still active")
		}
	})
	t.Run("cancel takes the question down and destroys silently", func(t *testing.T) {
		b := newBlockingApprover()
		h := newDLHarness(t, b, fs.Limits{})
		hostileHome(t, h.home)
		ctx, done := startAskingFromTick(t, h, b)
		got := h.do(actionCmd("s", scanner.ActionCancel))
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("the question's context was not cancelled")
		}
		waitClosed(t, done)
		if got = append(got, h.pull()...); len(got) != 0 || h.e.Active() {
			t.Errorf("replies %s, active %v", h.show(got), h.e.Active())
		}
	})
	t.Run("the answer for a replaced session is dropped", func(t *testing.T) {
		b := newBlockingApprover()
		h := newDLHarness(t, b, fs.Limits{})
		hostileHome(t, h.home)
		_, done := startAskingFromTick(t, h, b)
		// receive again destroys the asking session; a third creates a new one.
		got := h.do(receiveCmd("s", 2), receiveCmd("s", 2))
		b.answer <- fs.Decision{Allow: true}
		waitClosed(t, done)
		if got = append(got, h.pull()...); len(got) != 0 || !h.e.Active() {
			t.Errorf("replies %s, active %v", h.show(got), h.e.Active())
		}
	})
	t.Run("CancelAll answers CANCELED", func(t *testing.T) {
		b := newBlockingApprover()
		h := newDLHarness(t, b, fs.Limits{})
		hostileHome(t, h.home)
		ctx, done := startAskingFromTick(t, h, b)
		if !h.e.CancelAll() {
			t.Error("CancelAll found no session")
		}
		<-ctx.Done()
		waitClosed(t, done)
		if st := statusLines(t, h.pull(), ""); fmt.Sprint(st) != "[:CANCELED]" {
			t.Errorf("statuses %q", st)
		}
	})
	t.Run("Close ends the question", func(t *testing.T) {
		b := newBlockingApprover()
		h := newDLHarness(t, b, fs.Limits{})
		hostileHome(t, h.home)
		ctx, done := startAskingFromTick(t, h, b)
		must(t, h.e.Close())
		<-ctx.Done()
		waitClosed(t, done)
	})
	t.Run("expiry during the question", func(t *testing.T) {
		b := newBlockingApprover()
		h := newDLHarness(t, b, fs.Limits{})
		hostileHome(t, h.home)
		_, done := startAskingFromTick(t, h, b)
		h.clock.Advance(fs.DefaultIdleTimeout + time.Second)
		h.do(actionCmd("other", scanner.ActionFinish)) // Handle prunes expired sessions
		b.answer <- fs.Decision{Allow: true}
		waitClosed(t, done)
		if got := h.pull(); len(got) != 0 || h.e.Active() {
			t.Errorf("replies %s, active %v", h.show(got), h.e.Active())
		}
	})
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
	for _, id := range ids {
		var cmds []scanner.Command
		cmds = append(cmds, receiveCmd(id, files))
		for i := range files {
			cmds = append(cmds, specCmd(id, fmt.Sprint(i), fmt.Sprint("f", i)))
		}
		for i := range files {
			cmds = append(cmds, requestCmd(id, fmt.Sprint(10+i), filepath.Join(h.home, fmt.Sprint("f", i)), i%2 == 1))
		}
		for i := range cmds {
			must(t, h.e.Handle(&cmds[i]))
		}
	}
	// Wait until every session has sent all its files, then stop the writer: it
	// drains what Pull has before it looks at ctx again.
	deadline := time.After(20 * time.Second)
	for sent := 0; sent < files*len(ids); {
		select {
		case ev := <-h.notify:
			if ev.Kind == fs.EventFile && ev.Result == "OK" {
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
