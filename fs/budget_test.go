package fs_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/rsync"
	"github.com/xferterm/xferterm/rsync/librsync"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
	"github.com/xferterm/xferterm/transfer"
)

// The tests of findings 3 and 4 of issue 16: what the engine holds for the remote is
// charged to one budget (Limits.MaxHeld), and every session gives back what it held.

// TestBudgetSpecNames: specs are charged their names; a session whose specs exceed the
// budget ends with "too many specs", and its memory is back for the next one. A name
// too long to be a path is kept cut and fails as ENAMETOOLONG without a look at the disk.
func TestBudgetSpecNames(t *testing.T) {
	h := newDLHarness(t, dlAllow, fs.Limits{MaxHeld: 1 << 20})
	name := strings.Repeat("n", 3000)
	cmds := []scanner.Command{receiveCmd("a", 1000)}
	for i := range 1000 {
		cmds = append(cmds, specCmd("a", strconv.Itoa(i), name))
	}
	if got := h.do(cmds...); len(got) != 1 || statusLine(got[0]) != ":"+scanner.StatusTooManySpecs {
		t.Fatalf("replies %q", statusLines(t, got, ""))
	}
	if n := fs.Held(h.e); n != 0 {
		t.Errorf("%d bytes still held after the session ended", n)
	}
	p := newPersonApprover(nil)
	h = newDLHarness(t, p, fs.Limits{})
	h.do(receiveCmd("b", 2), specCmd("b", "0", strings.Repeat("x", 200_000)), specCmd("b", "1", "ok.txt"))
	q := p.next(t)
	long := q.r.Items[0]
	if long.Err != "ENAMETOOLONG:Failed to read spec" || len(long.Name) > 300 || fs.Held(h.e) > 10_000 {
		t.Errorf("a 200 000-byte name: %q (%d bytes shown), %d bytes held", long.Err, len(long.Name), fs.Held(h.e))
	}
	q.answer(transfer.Decision{Allow: true})
	if got := statusLines(t, h.pull(), ""); !slices.Contains(got, "0:ENAMETOOLONG:Failed to read spec") {
		t.Errorf("listing %q", got)
	}
}

// TestBudgetFailedEntries: a failed upload entry is dropped but for its fid, so that
// later packets for it stay silent; the first failures are audited one by one, the
// rest as one summary per status when the session ends; entries the budget cannot
// hold fail with "too many files".
func TestBudgetFailedEntries(t *testing.T) {
	h := newUpHarness(t, withLimits(fs.Limits{MaxHeld: 256 << 10}))
	must(t, os.WriteFile(filepath.Join(h.home, "plain"), nil, 0o600))
	h.start("s")
	const n = 5000
	tooMany := 0
	for i := range n {
		got := h.do(fileCmd("s", strconv.Itoa(i), "plain/"+strings.Repeat("x", 100)))
		if len(got) != 1 {
			t.Fatalf("replies to entry %d: %s", i, h.show(got))
		}
		if got[0].Status == scanner.StatusTooManyFiles {
			tooMany++
		}
	}
	if tooMany == 0 || tooMany == n {
		t.Errorf("%d of %d entries refused for the budget", tooMany, n)
	}
	wantReplies(t, h, h.do(dataCmd("s", "0", []byte("x")))) // a failed entry: silence
	wantReplies(t, h, h.do(fileCmd("s", "0", "again")), fidStatus("0", scanner.StatusDuplicateFileID("0")))
	h.do(scanner.Command{Action: scanner.ActionCancel, ID: "s"})
	if held := fs.Held(h.e); held != 0 {
		t.Errorf("%d bytes held after the session ended", held)
	}
	evs := h.fileEvents()
	total := 0
	for _, ev := range evs {
		total += max(ev.Count, 1)
	}
	if len(evs) > 16+8 || total != n {
		t.Errorf("%d events standing for %d failures, want at most 24 for %d", len(evs), total, n)
	}
	if last := evs[len(evs)-1]; last.Count < 2 || !strings.HasPrefix(last.Path, h.home) {
		t.Errorf("last event %+v, want a summary naming one of them", last)
	}
}

// TestBudgetSignatureBecomesLiteral: a signature the budget cannot hold is dropped,
// and its file is sent as a delta of literal data, which patches into the file; a
// differ whose window does not fit does the same.
func TestBudgetSignatureBecomesLiteral(t *testing.T) {
	for _, tc := range []struct {
		name string
		bs   int
	}{{"a signature too large", 64}, {"a differ window too large", 1 << 20}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newDLHarness(t, dlAllow, fs.Limits{MaxHeld: 2 << 20})
			path, newData, old := rsyncFixture(t, h.home)
			l := h.approveAndList("t", "f")
			if len(l.entries) != 1 {
				t.Fatalf("listing %+v", l)
			}
			sig, err := io.ReadAll(rsync.NewSignatureReader(bytes.NewReader(bytes.Repeat(old, 8)), tc.bs))
			must(t, err)
			var out bytes.Buffer
			literalDelta(t, h, path, sig, newData, &out, rsync.NewPatcher(bytes.NewReader(old), int64(len(old)), tc.bs, &out))
		})
	}
}

// TestBudgetSignatureBecomesLiteral026: the same for kitty 0.26's librsync format: a
// signature dropped for the budget gives a librsync delta of literal data.
func TestBudgetSignatureBecomesLiteral026(t *testing.T) {
	h := newDLHarness(t, dlAllow, fs.Limits{MaxHeld: 512 << 10})
	path, newData, old := rsyncFixture(t, h.home)
	spec := specCmd("t", "0", "f")
	spec.Padded = true // the 0.26 client
	h.do(receiveCmd("t", 1), spec)
	sig, err := io.ReadAll(librsync.NewSignatureReader(bytes.NewReader(bytes.Repeat(old, 4)), librsync.Params{
		Magic: librsync.RKBlake2Magic, BlockLen: 64, StrongLen: 32}))
	must(t, err)
	var out bytes.Buffer
	literalDelta(t, h, path, sig, newData, &out, librsync.NewPatcher(bytes.NewReader(old), int64(len(old)), &out))
}

// literalDelta requests path with sig, and checks that the delta, fed to p (which
// writes out), rebuilds newData and is all literal data.
func literalDelta(t *testing.T, h *dlHarness, path string, sig, newData []byte, out *bytes.Buffer, p io.WriteCloser) {
	t.Helper()
	rq := requestCmd("t", "1", path, false)
	rq.Transmit = scanner.TransmitRsync
	delta := fileData(t, h.do(append([]scanner.Command{rq}, signaturePackets("t", "1", sig)...)...), "1", false)
	if _, err := p.Write(delta); err != nil || p.Close() != nil || !bytes.Equal(out.Bytes(), newData) {
		t.Fatalf("patching the delta: %v", err)
	}
	if len(delta) < len(newData) {
		t.Errorf("a delta of %d bytes for %d: not literal", len(delta), len(newData))
	}
}

// TestBudgetGivenBack: whatever a session held (specs, a listing, requests, upload
// entries, open files) is given back when it ends, however it ends.
func TestBudgetGivenBack(t *testing.T) {
	h := newDLHarness(t, dlAllow, fs.Limits{})
	must(t, os.MkdirAll(filepath.Join(h.home, "tree", "sub"), 0o700))
	for i := range 50 {
		must(t, os.WriteFile(filepath.Join(h.home, "tree", "sub", "f"+strconv.Itoa(i)), []byte("x"), 0o600))
	}
	l := h.approveAndList("d", "tree")
	if len(l.entries) != 52 || fs.Held(h.e) == 0 {
		t.Fatalf("%d entries, %d bytes held", len(l.entries), fs.Held(h.e))
	}
	h.do(requestCmd("d", "1", filepath.Join(h.home, "tree", "sub", "f1"), true), actionCmd("d", scanner.ActionFinish))
	if n := fs.Held(h.e); n != 0 {
		t.Errorf("receive: %d bytes held after finish", n)
	}
	u := newUpHarness(t)
	u.start("s")
	for i := range 20 {
		f := fileCmd("s", strconv.Itoa(i), "f"+strconv.Itoa(i))
		f.Compression = scanner.CompressionZlib
		u.do(f)
		u.do(dataCmd("s", strconv.Itoa(i), []byte{0x78}))
	}
	u.do(endCmd("s", "0", testdata.Zlib(t, []byte("x"))[1:]))
	if fs.Held(u.e) == 0 {
		t.Fatal("nothing held by an upload")
	}
	u.do(scanner.Command{Action: scanner.ActionFinish, ID: "s"})
	if n := fs.Held(u.e); n != 0 {
		t.Errorf("send: %d bytes held after finish", n)
	}
}

// TestBudgetSessionEndedByItsLastReply: a session that ends because the child does not
// read its replies (the outbox is full when its file completes) gives back all it held,
// and charges nothing afterwards.
func TestBudgetSessionEndedByItsLastReply(t *testing.T) {
	h := newUpHarness(t, withLimits(fs.Limits{MaxOutbox: 300}))
	h.start("s")
	name := strings.Repeat("n", 100)
	for _, c := range []scanner.Command{fileCmd("s", "1", name), endCmd("s", "1", []byte("data"))} {
		must(t, h.e.Handle(&c)) // not pulled: the replies pile up
	}
	if h.e.Active() || fs.Held(h.e) != 0 {
		t.Errorf("active %v, %d bytes held", h.e.Active(), fs.Held(h.e))
	}
	if readFile(t, filepath.Join(h.home, name)) != "data" {
		t.Error("the file was not written")
	}
}
