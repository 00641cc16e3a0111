package fs_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zlib"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
	"github.com/xferterm/xferterm/transfer"
)

// dlHarness drives an Engine the way the proxy does, for receive sessions: commands
// in, then Pull until nothing is left, replies parsed back.
type dlHarness struct {
	t     testing.TB
	e     *fs.Engine
	home  string
	clock *testdata.Clock
	eventLog
	max    int                 // Pull size
	sent   []scanner.Command   // every command handled, in order
	notify chan transfer.Event // every event, when it has room
}

func newDLHarness(t testing.TB, a transfer.Approver, limits fs.Limits) *dlHarness {
	t.Helper()
	h := &dlHarness{t: t, home: t.TempDir(), clock: testdata.NewClock(time.Unix(1_800_000_000, 0)), max: 64 << 10,
		notify: make(chan transfer.Event, 256)}
	e, err := fs.NewEngine(fs.Config{
		Home:     h.home,
		Approver: a,
		Now:      h.clock.Now,
		Limits:   limits,
		Events: func(ev transfer.Event) {
			h.record(ev)
			select {
			case h.notify <- ev:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = e.Close()
		fs.Settle(e) // No walk of the disk outlives the test's directories.
	})
	h.e = e
	return h
}

var dlAllow = transfer.Fixed{Allow: true, How: "test"}

// do handles the commands, then pulls every reply.
func (h *dlHarness) do(cmds ...scanner.Command) []scanner.Command {
	h.t.Helper()
	for i := range cmds {
		c := cmds[i]
		c.Data = bytes.Clone(c.Data)
		h.sent = append(h.sent, c)
		if err := h.e.Handle(&cmds[i]); err != nil {
			h.t.Fatalf("Handle(%s): %v", cmds[i].String(), err)
		}
	}
	return h.pull()
}

// pull lets background jobs end (fs.Settle), then calls Pull until it returns nothing
// and parses what it returned. Every call must return whole sequences.
func (h *dlHarness) pull() []scanner.Command {
	h.t.Helper()
	fs.Settle(h.e)
	var out []scanner.Command
	for i := 0; ; i++ {
		b := h.e.Pull(nil, h.max)
		if len(b) == 0 {
			select {
			case <-h.e.Ready():
				continue // more work (a listing walk) may follow
			default:
			}
			break
		}
		cmds, err := parseReplies(b)
		if err != nil {
			h.t.Fatalf("Pull returned %q: %v", b, err)
		}
		out = append(out, cmds...)
		if i > 10_000_000 {
			h.t.Fatal("Pull never stops")
		}
	}
	return out
}

// lastRequest returns the last `ac=file` handled with fid, and the signature data sent
// for that fid after it.
func (h *dlHarness) lastRequest(fid string) (scanner.Command, []byte) {
	var req scanner.Command
	var sig []byte
	for _, c := range h.sent {
		switch {
		case c.FileID != fid:
		case c.Action == scanner.ActionFile:
			req, sig = c, nil
		case c.Action == scanner.ActionData || c.Action == scanner.ActionEndData:
			sig = append(sig, c.Data...)
		}
	}
	return req, sig
}

func receiveCmd(id string, specs int) scanner.Command {
	c := scanner.Command{Action: scanner.ActionReceive, ID: id}
	if specs >= 0 {
		c.Size = scanner.Some(int64(specs))
	}
	return c
}

func specCmd(id, fid, name string) scanner.Command {
	return scanner.Command{Action: scanner.ActionFile, ID: id, FileID: fid, Name: name}
}

func requestCmd(id, fid, path string, zip bool) scanner.Command {
	c := scanner.Command{Action: scanner.ActionFile, ID: id, FileID: fid, Name: path}
	if zip {
		c.Compression = scanner.CompressionZlib
	}
	return c
}

// rsyncFixture writes a 1 MiB file f in home and returns its path, its bytes, and the
// client's older copy of it (an overwrite and a deletion in the middle).
func rsyncFixture(t testing.TB, home string) (path string, newData, old []byte) {
	t.Helper()
	path = filepath.Join(home, "f")
	writeBigFile(t, path, 1<<20, 3)
	newData, err := os.ReadFile(path)
	must(t, err)
	old = bytes.Clone(newData)
	copy(old[1000:], "the client's copy is a little different here")
	return path, newData, append(old[:600<<10], old[600<<10+5000:]...)
}

// signaturePackets is a client's signature for request fid: data packets of 4000 bytes,
// then an end_data without data.
func signaturePackets(id, fid string, sig []byte) []scanner.Command {
	var cmds []scanner.Command
	for off := 0; off < len(sig); off += 4000 {
		cmds = append(cmds, scanner.Command{Action: scanner.ActionData, ID: id, FileID: fid, Data: sig[off:min(off+4000, len(sig))]})
	}
	return append(cmds, scanner.Command{Action: scanner.ActionEndData, ID: id, FileID: fid})
}

func actionCmd(id string, a scanner.Action) scanner.Command {
	return scanner.Command{Action: a, ID: id}
}

// show renders replies one per line, with the home directory as ~, for error messages.
func (h *dlHarness) show(cmds []scanner.Command) string {
	var sb strings.Builder
	for _, c := range cmds {
		d := c.Data
		c.Data = nil
		c.Name = strings.ReplaceAll(c.Name, h.home, "~")
		fmt.Fprintf(&sb, "  %s st=%q n=%q", c.String(), c.Status, c.Name)
		if len(d) > 0 {
			fmt.Fprintf(&sb, " d=%d bytes", len(d))
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// statusLine renders a status reply as "fid:status" (fid empty when absent).
func statusLine(c scanner.Command) string {
	if c.Action != scanner.ActionStatus {
		return "<" + c.Action.String() + ">"
	}
	return c.FileID + ":" + c.Status
}

// listing is a parsed listing: the replies between the permission OK and the final OK.
type listing struct {
	errors  []scanner.Command // statuses with fid
	entries []scanner.Command // ac=file
	home    string            // n of the final OK
}

// approveAndList starts session id with the specs and returns the listing; it fails the
// test unless the replies are OK, the listing, and the final OK.
func (h *dlHarness) approveAndList(id string, specs ...string) listing {
	h.t.Helper()
	cmds := []scanner.Command{receiveCmd(id, len(specs))}
	for i, s := range specs {
		cmds = append(cmds, specCmd(id, fmt.Sprint(i), s))
	}
	got := h.do(cmds...)
	if len(got) < 2 || statusLine(got[0]) != ":OK" || statusLine(got[len(got)-1]) != ":OK" {
		h.t.Fatalf("want OK, listing, OK; got\n%s", h.show(got))
	}
	var l listing
	l.home = got[len(got)-1].Name
	seenEntry := false
	for _, c := range got[1 : len(got)-1] {
		switch {
		case c.Action == scanner.ActionFile:
			seenEntry = true
			l.entries = append(l.entries, c)
		case c.Action == scanner.ActionStatus && c.FileID != "" && !seenEntry:
			l.errors = append(l.errors, c)
		default:
			h.t.Fatalf("unexpected reply in the listing: %s\n%s", c.String(), h.show(got))
		}
	}
	return l
}

// fileData collects the data packets of one file from replies: it checks that they
// belong to fid, that only the last is end_data, that none exceeds MaxDataPacket, and
// returns the payload (inflated when zip).
func fileData(t testing.TB, cmds []scanner.Command, fid string, zip bool) []byte {
	t.Helper()
	var raw []byte
	ended := false
	for _, c := range cmds {
		if c.FileID != fid || (c.Action != scanner.ActionData && c.Action != scanner.ActionEndData) {
			continue
		}
		if ended {
			t.Fatalf("fid %s: packet after end_data", fid)
		}
		if len(c.Data) > fs.MaxDataPacket {
			t.Fatalf("fid %s: packet of %d bytes", fid, len(c.Data))
		}
		raw = append(raw, c.Data...)
		ended = c.Action == scanner.ActionEndData
	}
	if !ended {
		t.Fatalf("fid %s: no end_data", fid)
	}
	if !zip {
		return raw
	}
	return inflate(t, raw)
}

func inflate(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("zlib header: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("zlib stream: %v", err)
	}
	return out
}
