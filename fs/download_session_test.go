package fs_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
)

// statusLines renders the status replies of cmds with statusLine, and fails on data
// packets carrying secret.
func statusLines(t testing.TB, cmds []scanner.Command, secret string) []string {
	t.Helper()
	var out []string
	for _, c := range cmds {
		if secret != "" && bytes.Contains(c.Data, []byte(secret)) {
			t.Fatalf("secret content sent: %s", c.String())
		}
		if c.Action == scanner.ActionStatus {
			out = append(out, statusLine(c))
		}
	}
	return out
}

const secretText = "TOP-SECRET"

// hostileHome is a home with dir/a.txt, dir/sub/ and secret.txt, of which only dir is
// listed by the tests.
func hostileHome(t testing.TB, home string) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Join(home, "dir", "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(home, "dir", "a.txt"), []byte("aaa"), 0o644))
	must(t, os.WriteFile(filepath.Join(home, "secret.txt"), []byte(secretText), 0o644))
}

func TestDownloadHostileRequests(t *testing.T) {
	data := func(fid string, d string, end bool) scanner.Command {
		c := scanner.Command{Action: scanner.ActionData, ID: "s", FileID: fid, Data: []byte(d)}
		if end {
			c.Action = scanner.ActionEndData
		}
		return c
	}
	rsyncReq := func(fid, path string) scanner.Command {
		c := requestCmd("s", fid, path, false)
		c.Transmit = scanner.TransmitRsync
		return c
	}
	canceled := ":" + scanner.StatusCanceled
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, home string)
		cmds  func(home string) []scanner.Command
		want  []string
	}{
		{
			name: "an unlisted path is refused",
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{requestCmd("s", "1", home+"/secret.txt", false)}
			},
			want: []string{"1:" + scanner.StatusNotListed, canceled},
		},
		{
			name: "a path outside home is refused",
			cmds: func(string) []scanner.Command { return []scanner.Command{requestCmd("s", "1", "/etc/passwd", false)} },
			want: []string{"1:" + scanner.StatusNotListed, canceled},
		},
		{
			name: "a relative path is not resolved: requests name listed paths verbatim",
			cmds: func(string) []scanner.Command { return []scanner.Command{requestCmd("s", "1", "dir/a.txt", false)} },
			want: []string{"1:" + scanner.StatusNotListed, canceled},
		},
		{
			name: "a path with .. is not the listed path",
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{requestCmd("s", "1", home+"/dir/../secret.txt", false)}
			},
			want: []string{"1:" + scanner.StatusNotListed, canceled},
		},
		{
			name: "a listed directory is refused",
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{requestCmd("s", "1", home+"/dir/sub", false)}
			},
			want: []string{"1:" + scanner.StatusSendDirectory, canceled},
		},
		{
			name: "an unlisted request after a good one: the good one is sent, then the error",
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{requestCmd("s", "1", home+"/dir/a.txt", false), requestCmd("s", "2", home+"/secret.txt", false)}
			},
			want: []string{"2:" + scanner.StatusNotListed, canceled},
		},
		{
			name:  "a listed file that vanished",
			setup: func(t *testing.T, home string) { must(t, os.Remove(home+"/dir/a.txt")) },
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{requestCmd("s", "1", home+"/dir/a.txt", false)}
			},
			want: []string{"1:ENOENT:" + scanner.TextAddSendFile, canceled},
		},
		{
			name: "a listed file that became a directory",
			setup: func(t *testing.T, home string) {
				must(t, os.Remove(home+"/dir/a.txt"))
				must(t, os.Mkdir(home+"/dir/a.txt", 0o755))
			},
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{requestCmd("s", "1", home+"/dir/a.txt", false)}
			},
			want: []string{"1:" + scanner.StatusSendDirectory, canceled},
		},
		{
			name: "a listed file that became a symlink to the secret",
			setup: func(t *testing.T, home string) {
				must(t, os.Remove(home+"/dir/a.txt"))
				must(t, os.Symlink(home+"/secret.txt", home+"/dir/a.txt"))
			},
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{requestCmd("s", "1", home+"/dir/a.txt", false)}
			},
			want: []string{"1:" + scanner.StatusFileChanged, canceled},
		},
		{
			name: "signature data for an unknown fid",
			cmds: func(string) []scanner.Command { return []scanner.Command{data("9", "x", false)} },
			want: []string{":" + scanner.StatusSignatureUnknownFile("9"), canceled},
		},
		{
			name: "signature data for a plain request",
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{requestCmd("s", "1", home+"/dir/a.txt", false), data("1", "x", true)}
			},
			want: []string{":" + scanner.StatusSignatureNotRsync("1"), canceled},
		},
		{
			name: "a corrupt signature",
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{rsyncReq("1", home+"/dir/a.txt"), data("1", "not a signature", true)}
			},
			want: []string{"1:" + scanner.StatusBadSignature, canceled},
		},
		{
			name: "signature data after its end_data",
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{rsyncReq("1", home+"/dir/a.txt"), rsyncReq("2", home+"/dir/a.txt"),
					data("1", string(make([]byte, 12)), true), data("1", "more", false)}
			},
			want: []string{"1:" + scanner.StatusBadSignature, canceled},
		},
		{
			name: "a duplicate fid",
			cmds: func(home string) []scanner.Command {
				return []scanner.Command{rsyncReq("1", home+"/dir/a.txt"), requestCmd("s", "1", home+"/dir/a.txt", false)}
			},
			want: []string{"1:" + scanner.StatusDuplicateFileID("1"), canceled},
		},
		{
			name: "more than 32768 queued requests",
			cmds: func(home string) []scanner.Command {
				var cmds []scanner.Command
				for i := range 32769 {
					cmds = append(cmds, requestCmd("s", fmt.Sprint(i+1), home+"/dir/a.txt", false))
				}
				return cmds
			},
			want: []string{":" + scanner.StatusTooManyQueued, canceled},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newDLHarness(t, dlAllow, fs.Limits{})
			hostileHome(t, h.home)
			h.approveAndList("s", "dir")
			if tc.setup != nil {
				tc.setup(t, h.home)
			}
			got := h.do(tc.cmds(h.home)...)
			if st := statusLines(t, got, secretText); fmt.Sprint(st) != fmt.Sprint(tc.want) {
				t.Errorf("statuses %q, want %q\n%s", st, tc.want, h.show(got))
			}
			if h.e.Active() {
				t.Error("the session is still active")
			}
			if n := len(got); n > 0 && statusLine(got[n-1]) != canceled {
				t.Errorf("last reply %s, want CANCELED", got[n-1].String())
			}
		})
	}
}

func TestDownloadThousandsOfRequests(t *testing.T) {
	h := newDLHarness(t, dlAllow, fs.Limits{})
	hostileHome(t, h.home)
	h.approveAndList("s", "dir")
	var cmds []scanner.Command
	const n = 3000
	for i := range n {
		cmds = append(cmds, requestCmd("s", fmt.Sprint(i+1), h.home+"/dir/a.txt", i%10 == 0))
	}
	got := h.do(cmds...)
	if len(got) != n {
		t.Fatalf("%d replies, want %d", len(got), n)
	}
	for i, c := range got {
		if c.Action != scanner.ActionEndData || c.FileID != fmt.Sprint(i+1) {
			t.Fatalf("reply %d: %s", i, c.String())
		}
	}
	if d := fileData(t, got, "2", false); string(d) != "aaa" {
		t.Errorf("data %q", d)
	}
	if d := fileData(t, got, "1", true); string(d) != "aaa" {
		t.Errorf("data %q", d)
	}
}

// TestDownloadReadErrors: a file that cannot be opened or read ends the session with
// its errno, then CANCELED.
func TestDownloadReadErrors(t *testing.T) {
	t.Run("unreadable file", func(t *testing.T) {
		h := newDLHarness(t, dlAllow, fs.Limits{})
		var spec, path string
		if os.Geteuid() != 0 {
			must(t, os.Mkdir(filepath.Join(h.home, "d"), 0o755))
			path = filepath.Join(h.home, "d", "secret")
			must(t, os.WriteFile(path, []byte("s"), 0o000))
			spec = "d"
		} else {
			// Mode bits do not stop root; the kernel refuses to read a write-only sysctl
			// even to root. Children of a spec are listed without an access check (§7.2).
			spec, path = "/proc/sys/vm", "/proc/sys/vm/compact_memory"
			if f, err := os.Open(path); err == nil {
				_ = f.Close()
				t.Skip("running as root and " + path + " is readable: no way to make an unreadable file")
			}
		}
		h.approveAndList("s", spec)
		got := h.do(requestCmd("s", "1", path, false))
		want := []string{"1:EACCES:" + scanner.TextAddSendFile, ":CANCELED"}
		if st := statusLines(t, got, ""); fmt.Sprint(st) != fmt.Sprint(want) {
			t.Errorf("statuses %q, want %q", st, want)
		}
	})
	t.Run("read error", func(t *testing.T) {
		// /proc/self/mem is a regular file of size 0 whose first byte cannot be read:
		// the check for bytes beyond the size meets EIO.
		const path = "/proc/self/mem"
		if _, err := os.Stat(path); err != nil {
			t.Skip(err)
		}
		h := newDLHarness(t, dlAllow, fs.Limits{})
		h.approveAndList("s", path)
		got := h.do(requestCmd("s", "1", path, false))
		want := []string{"1:EIO:" + scanner.TextReadData, ":CANCELED"}
		if st := statusLines(t, got, ""); fmt.Sprint(st) != fmt.Sprint(want) {
			t.Errorf("statuses %q, want %q", st, want)
		}
		if ev := h.fileEvents(); len(ev) != 1 || ev[0].Result != "EIO:"+scanner.TextReadData {
			t.Errorf("events %+v", ev)
		}
	})
}

// TestDownloadDispatch covers §2's rules for a receive session.
func TestDownloadDispatch(t *testing.T) {
	spec := func(fid string) scanner.Command { return specCmd("s", fid, "dir") }
	for _, tc := range []struct {
		name    string
		approve fs.Approver
		quiet   int
		cmds    []scanner.Command
		tick    bool // advance the clock past SpecTimeout and Tick
		want    []string
		active  bool
	}{
		{name: "receive again while collecting: destroyed silently",
			cmds: []scanner.Command{receiveCmd("s", 2), spec("0"), receiveCmd("s", 2)}},
		{name: "status while collecting: destroyed silently",
			cmds: []scanner.Command{receiveCmd("s", 2), actionCmd("s", scanner.ActionStatus)}},
		{name: "finish while collecting: destroyed silently",
			cmds: []scanner.Command{receiveCmd("s", 2), actionCmd("s", scanner.ActionFinish)}},
		{name: "cancel while collecting: destroyed silently",
			cmds: []scanner.Command{receiveCmd("s", 2), spec("0"), actionCmd("s", scanner.ActionCancel)}},
		{name: "signature data while collecting: unknown file_id",
			cmds: []scanner.Command{receiveCmd("s", 2), {Action: scanner.ActionData, ID: "s", FileID: "0"}},
			want: []string{":" + scanner.StatusSignatureUnknownFile("0")}},
		{name: "commands for another id are not this session's",
			cmds:   []scanner.Command{receiveCmd("s", 2), actionCmd("t", scanner.ActionCancel), actionCmd("t", scanner.ActionFinish)},
			active: true},
		{name: "no sz: the specs are taken after the spec timeout",
			cmds: []scanner.Command{receiveCmd("s", -1), spec("0")}, tick: true,
			want: []string{":OK", ":OK"}, active: true},
		{name: "fewer specs than announced: asked after the spec timeout",
			cmds: []scanner.Command{receiveCmd("s", 3), spec("0")}, tick: true,
			want: []string{":OK", ":OK"}, active: true},
		{name: "sz=0: no files found",
			cmds: []scanner.Command{receiveCmd("s", 0)},
			want: []string{":OK", ":" + scanner.StatusNoFiles}},
		{name: "no sz and no spec: no files found after the timeout",
			cmds: []scanner.Command{receiveCmd("s", -1)}, tick: true,
			want: []string{":OK", ":" + scanner.StatusNoFiles}},
		{name: "refused", approve: fs.FixedApprover{Allow: false},
			cmds: []scanner.Command{receiveCmd("s", 1), spec("0")},
			want: []string{":" + scanner.StatusRefused}},
		{name: "refused, quiet 2: no reply", approve: fs.FixedApprover{Allow: false}, quiet: 2,
			cmds: []scanner.Command{receiveCmd("s", 1), spec("0")}},
		{name: "cancel after approval: CANCELED",
			cmds: []scanner.Command{receiveCmd("s", 1), spec("0"), actionCmd("s", scanner.ActionCancel)},
			want: []string{":OK", ":OK", ":CANCELED"}},
		{name: "cancel after approval, quiet 1: no OK, no CANCELED", quiet: 1,
			cmds: []scanner.Command{receiveCmd("s", 1), spec("0"), actionCmd("s", scanner.ActionCancel)},
			want: []string{":OK"}},
		{name: "status after approval: destroyed silently",
			cmds: []scanner.Command{receiveCmd("s", 1), spec("0"), actionCmd("s", scanner.ActionStatus)},
			want: []string{":OK", ":OK"}},
		{name: "a send for the same id is not the download's business",
			cmds:   []scanner.Command{receiveCmd("s", 1), spec("0"), {Action: scanner.ActionSend, ID: "s"}},
			want:   []string{":OK", ":OK", ":OK"}, // the upload's permission OK
			active: true},
		{name: "receive again after approval: destroyed silently",
			cmds: []scanner.Command{receiveCmd("s", 1), spec("0"), receiveCmd("s", 1)},
			want: []string{":OK", ":OK"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.approve
			if a == nil {
				a = dlAllow
			}
			h := newDLHarness(t, a, fs.Limits{})
			hostileHome(t, h.home)
			for i := range tc.cmds {
				tc.cmds[i].Quiet = tc.quiet
			}
			var got []scanner.Command
			for _, c := range tc.cmds { // the pty writer keeps up
				got = append(got, h.do(c)...)
			}
			if tc.tick {
				h.e.Tick()
				if len(h.pull()) != 0 {
					t.Error("replies before the spec timeout")
				}
				h.clock.Advance(fs.DefaultSpecTimeout)
				h.e.Tick()
				got = append(got, h.pull()...)
			}
			if st := statusLines(t, got, ""); fmt.Sprint(st) != fmt.Sprint(tc.want) {
				t.Errorf("statuses %q, want %q\n%s", st, tc.want, h.show(got))
			}
			if h.e.Active() != tc.active {
				t.Errorf("active = %v, want %v", h.e.Active(), tc.active)
			}
		})
	}
}

func TestDownloadTooManySpecs(t *testing.T) {
	h := newDLHarness(t, dlAllow, fs.Limits{})
	cmds := []scanner.Command{receiveCmd("s", -1)}
	for i := range 8194 {
		cmds = append(cmds, specCmd("s", fmt.Sprint(i), "x"))
	}
	got := h.do(cmds...)
	if st := statusLines(t, got, ""); fmt.Sprint(st) != fmt.Sprint([]string{":" + scanner.StatusTooManySpecs}) || h.e.Active() {
		t.Errorf("statuses %q, active %v", st, h.e.Active())
	}
}

// TestDownloadRequest checks what the Approver is asked, and the audit events.
func TestDownloadRequest(t *testing.T) {
	var asked []fs.Request
	a := fs.ApproverFunc(func(_ context.Context, r fs.Request) fs.Decision {
		asked = append(asked, r)
		return fs.Decision{Allow: true, How: "bypass"}
	})
	h := newDLHarness(t, a, fs.Limits{})
	hostileHome(t, h.home)
	rc := receiveCmd("s", 3)
	rc.Bypass = "kitty-1:xyz"
	h.do(rc, specCmd("s", "0", "dir"), specCmd("s", "1", "~/secret.txt"), specCmd("s", "2", "/nonexistent"))
	if len(asked) != 1 {
		t.Fatalf("asked %d times", len(asked))
	}
	r := asked[0]
	want := fs.Request{Kind: fs.KindSession, Direction: fs.DirectionReceive, SessionID: "s", Bypass: "kitty-1:xyz", Home: h.home,
		Specs: []fs.SpecInfo{
			{Name: "dir", Path: h.home + "/dir", Type: scanner.FileDirectory, Files: 2, Size: 3},
			{Name: "~/secret.txt", Path: h.home + "/secret.txt", Type: scanner.FileRegular, Size: int64(len(secretText))},
			{Name: "/nonexistent", Path: "/nonexistent", Err: "ENOENT:" + scanner.TextReadSpec},
		}}
	if fmt.Sprintf("%+v", r) != fmt.Sprintf("%+v", want) {
		t.Errorf("asked\n%+v\nwant\n%+v", r, want)
	}
	var sessions []string
	for _, ev := range h.events {
		if ev.Kind == fs.EventSession {
			sessions = append(sessions, fmt.Sprintf("%s %s %s %v", ev.Direction, ev.SessionID, ev.How, ev.Allowed))
		}
	}
	if fmt.Sprint(sessions) != "[receive s bypass true]" {
		t.Errorf("session events %q", sessions)
	}
	h.do(requestCmd("s", "1", h.home+"/dir/a.txt", false))
	ev := h.fileEvents()
	if len(ev) != 1 || ev[0].Path != h.home+"/dir/a.txt" || ev[0].Bytes != 3 || ev[0].Result != "OK" || ev[0].Direction != fs.DirectionReceive {
		t.Errorf("file events %+v", ev)
	}
}

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

// TestDownloadAbort: the user's Ctrl+C in the middle of a file.
func TestDownloadAbort(t *testing.T) {
	h := newDLHarness(t, dlAllow, fs.Limits{})
	writeBigFile(t, filepath.Join(h.home, "f"), 1<<20, 4)
	h.approveAndList("s", "f")
	req := requestCmd("s", "1", h.home+"/f", false)
	must(t, h.e.Handle(&req))
	h.pullSome(2)
	if !h.e.CancelAll() {
		t.Fatal("no session to cancel")
	}
	got := h.pull()
	if st := statusLines(t, got, ""); fmt.Sprint(st) != "[:CANCELED]" || len(got) != 1 {
		t.Errorf("after CancelAll: %s", h.show(got))
	}
	ev := h.fileEvents()
	if len(ev) != 1 || ev[0].Result != scanner.StatusCanceled || ev[0].Bytes == 0 {
		t.Errorf("events %+v", ev)
	}
	if h.e.Active() {
		t.Error("still active")
	}
	if strings.Contains(h.show(got), "end_data") {
		t.Error("end_data after abort")
	}
}

// TestDownloadExpiry: a session being served is active even though the client says
// nothing; a session left collecting expires.
func TestDownloadExpiry(t *testing.T) {
	h := newDLHarness(t, dlAllow, fs.Limits{})
	writeBigFile(t, filepath.Join(h.home, "f"), 1<<20, 5)
	h.approveAndList("s", "f")
	h.do(receiveCmd("t", 2)) // never sends its specs
	req := requestCmd("s", "1", h.home+"/f", false)
	must(t, h.e.Handle(&req))
	var got []scanner.Command
	for range 4 {
		got = append(got, h.pullSome(20)...)
		h.clock.Advance(fs.DefaultIdleTimeout / 2)
		h.e.Tick()
	}
	got = append(got, h.pull()...)
	if d := fileData(t, got, "1", false); len(d) != 1<<20 {
		t.Fatalf("got %d bytes", len(d))
	}
	if !h.e.Active() {
		t.Fatal("the session being served expired")
	}
	// Session t expired long ago; s goes once idle for longer than the limit.
	h.clock.Advance(fs.DefaultIdleTimeout + time.Second)
	h.e.Tick()
	if h.e.Active() {
		t.Error("idle sessions did not expire")
	}
	if got := h.pull(); len(got) != 0 {
		t.Errorf("expiry replied %s", h.show(got))
	}
}

// TestDownloadQuietErrors: with q=2 a failing request ends the session without a word.
func TestDownloadQuietErrors(t *testing.T) {
	h := newDLHarness(t, dlAllow, fs.Limits{})
	hostileHome(t, h.home)
	rc := receiveCmd("s", 2)
	rc.Quiet = 2
	got := h.do(rc, specCmd("s", "0", "dir"), specCmd("s", "1", "missing"))
	// No permission OK, no spec error; the listing and its final OK are not gated.
	if st := statusLines(t, got, ""); fmt.Sprint(st) != "[:OK]" || got[0].Action != scanner.ActionFile {
		t.Fatalf("listing with q=2:\n%s", h.show(got))
	}
	got = h.do(requestCmd("s", "1", h.home+"/secret.txt", false))
	if len(got) != 0 || h.e.Active() {
		t.Errorf("replies %s, active %v", h.show(got), h.e.Active())
	}
}
