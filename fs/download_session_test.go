package fs_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// TestDownloadDispatch covers §2's rules for a receive session.
func TestDownloadDispatch(t *testing.T) {
	spec := func(fid string) scanner.Command { return specCmd("s", fid, "dir") }
	for _, tc := range []struct {
		name    string
		approve transfer.Approver
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
		{name: "commands for another id are not this session's (a cancel of nothing is answered)",
			cmds: []scanner.Command{receiveCmd("s", 2), actionCmd("t", scanner.ActionCancel), actionCmd("t", scanner.ActionFinish)},
			want: []string{":" + scanner.StatusCanceled}, active: true},
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
		{name: "refused", approve: transfer.Fixed{Allow: false},
			cmds: []scanner.Command{receiveCmd("s", 1), spec("0")},
			want: []string{":" + scanner.StatusRefused}},
		{name: "refused, quiet 2: no reply", approve: transfer.Fixed{Allow: false}, quiet: 2,
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

// TestDownloadTooManySpecs: without sz, spec 8194 is one too many (§7.2).
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
	var asked []transfer.Request
	a := transfer.Func(func(r transfer.Request) transfer.Decision {
		asked = append(asked, r)
		return transfer.Decision{Allow: true, How: "bypass"}
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
	want := transfer.Request{Direction: transfer.Receive, SessionID: "s", Bypass: "kitty-1:xyz", Home: h.home,
		Items: []transfer.Item{
			{Name: "dir", Path: h.home + "/dir", Type: scanner.FileDirectory, Files: 2, Size: 3},
			{Name: "~/secret.txt", Path: h.home + "/secret.txt", Type: scanner.FileRegular, Size: int64(len(secretText)), Files: -1},
			{Name: "/nonexistent", Path: "/nonexistent", Err: "ENOENT:" + scanner.TextReadSpec, Size: -1, Files: -1},
		}}
	if fmt.Sprintf("%+v", r) != fmt.Sprintf("%+v", want) {
		t.Errorf("asked\n%+v\nwant\n%+v", r, want)
	}
	sessions := h.sessionEvents()
	if fmt.Sprint(sessions) != "[receive s bypass true]" {
		t.Errorf("session events %q", sessions)
	}
	h.do(requestCmd("s", "1", h.home+"/dir/a.txt", false))
	ev := h.fileEvents()
	if len(ev) != 1 || ev[0].Path != h.home+"/dir/a.txt" || ev[0].Bytes != 3 || ev[0].Result != "OK" || ev[0].Direction != transfer.Receive {
		t.Errorf("file events %+v", ev)
	}
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
