package fs_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
	"github.com/xferterm/xferterm/transfer"
)

// eventLog records the engine's events, in the harnesses of both directions. Its
// methods may be called concurrently.
type eventLog struct {
	mu     sync.Mutex // guards events
	events []transfer.Event
}

// record is the engine's Config.Events.
func (l *eventLog) record(ev transfer.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

// fileEvents returns the events of kind EventFile so far.
func (l *eventLog) fileEvents() []transfer.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var evs []transfer.Event
	for _, ev := range l.events {
		if ev.Kind == transfer.EventFile {
			evs = append(evs, ev)
		}
	}
	return evs
}

// sessionEvents describes the events of kind EventSession so far, each as
// "<direction> <session id> <how> <allowed>".
func (l *eventLog) sessionEvents() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var got []string
	for _, ev := range l.events {
		if ev.Kind == transfer.EventSession {
			got = append(got, fmt.Sprintf("%s %s %s %v", ev.Direction, ev.SessionID, ev.How, ev.Allowed))
		}
	}
	return got
}

// upHarness drives an Engine as the output pump and the pty writer would: one command
// at a time, then everything Pull has.
type upHarness struct {
	t     testing.TB
	e     *fs.Engine
	root  string // temporary directory holding home and outside
	home  string
	clock *testdata.Clock
	eventLog
}

type harnessOption func(*fs.Config)

func withApprover(a transfer.Approver) harnessOption { return func(c *fs.Config) { c.Approver = a } }
func withLimits(l fs.Limits) harnessOption           { return func(c *fs.Config) { c.Limits = l } }

var allowAll = transfer.Fixed{Allow: true, How: "test", ReadOld: true, SetMode: true}

func newUpHarness(t testing.TB, opts ...harnessOption) *upHarness {
	t.Helper()
	root := t.TempDir()
	h := &upHarness{
		t:     t,
		root:  root,
		home:  filepath.Join(root, "home"),
		clock: testdata.NewClock(time.Unix(1_800_000_000, 0)),
	}
	for _, d := range []string{h.home, filepath.Join(root, "outside")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := fs.Config{
		Home:     h.home,
		Approver: allowAll,
		Now:      h.clock.Now,
		Events:   h.record,
	}
	for _, o := range opts {
		o(&cfg)
	}
	e, err := fs.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.e = e
	t.Cleanup(func() {
		_ = e.Close()
		fs.Settle(e)
	})
	return h
}

// do handles a command built field by field.
func (h *upHarness) do(c scanner.Command) []scanner.Command {
	h.t.Helper()
	if err := h.e.Handle(&c); err != nil {
		h.t.Fatalf("Handle(%s): %v", c.String(), err)
	}
	return h.pull()
}

// pull drains the engine's output and parses it into commands.
func (h *upHarness) pull() []scanner.Command {
	h.t.Helper()
	out := h.e.Pull(nil, 1<<30)
	cmds, err := parseReplies(out)
	if err != nil {
		h.t.Fatal(err)
	}
	return cmds
}

// parseReplies splits the bytes for the child into escape sequences and decodes them
// (in both directions' tests). Anything else in the stream is an error: the engine
// writes only whole sequences, in canonical form.
func parseReplies(b []byte) ([]scanner.Command, error) {
	var cmds []scanner.Command
	for len(b) > 0 {
		if !bytes.HasPrefix(b, []byte("\x1b]5113;")) {
			return nil, fmt.Errorf("reply stream does not start with an OSC 5113: %.40q", b)
		}
		end := bytes.Index(b, []byte("\x1b\\"))
		if end < 0 {
			return nil, fmt.Errorf("unterminated reply: %.40q", b)
		}
		payload := b[len("\x1b]5113;"):end]
		c, err := scanner.Parse(payload)
		if err != nil {
			return nil, fmt.Errorf("reply %q: %v", payload, err)
		}
		// The reply must re-encode to the same bytes: fixed key order, no stray keys.
		if got := c.AppendTo(nil); !bytes.Equal(got[len(scanner.Prefix):], payload) {
			return nil, fmt.Errorf("reply %q is not in canonical form (%q)", payload, got)
		}
		c.Data = bytes.Clone(c.Data) // valid beyond b
		cmds = append(cmds, c)
		b = b[end+2:]
	}
	return cmds, nil
}

// show renders replies one per line, readably: "status fid=1 st=STARTED n=~/x sz=3".
func (h *upHarness) show(cmds []scanner.Command) string {
	var lines []string
	for _, c := range cmds {
		lines = append(lines, showCmd(c, h.home))
	}
	return strings.Join(lines, "\n")
}

func showCmd(c scanner.Command, home string) string {
	var b strings.Builder
	b.WriteString(c.Action.String())
	if c.Transmit != scanner.TransmitSimple {
		b.WriteString(" tt=" + c.Transmit.String())
	}
	if c.FileID != "" {
		b.WriteString(" fid=" + c.FileID)
	}
	if c.Status != "" {
		b.WriteString(" st=" + c.Status)
	}
	if c.Name != "" {
		n := c.Name
		if rest, ok := strings.CutPrefix(n, home); ok {
			n = "~" + rest
		}
		b.WriteString(" n=" + n)
	}
	if c.Size.Set {
		fmt.Fprintf(&b, " sz=%d", c.Size.Value)
	}
	if c.Data != nil {
		fmt.Fprintf(&b, " d=%dB", len(c.Data))
	}
	return b.String()
}

func wantReplies(t testing.TB, h *upHarness, got []scanner.Command, want ...string) {
	t.Helper()
	if g, w := h.show(got), strings.Join(want, "\n"); g != w {
		t.Errorf("replies:\n%s\nwant:\n%s", g, w)
	}
}

// Command builders.

func sendCmd(id string) scanner.Command {
	return scanner.Command{Action: scanner.ActionSend, ID: id}
}

func fileCmd(id, fid, name string) scanner.Command {
	return scanner.Command{Action: scanner.ActionFile, ID: id, FileID: fid, Name: name}
}

func dataCmd(id, fid string, d []byte) scanner.Command {
	return scanner.Command{Action: scanner.ActionData, ID: id, FileID: fid, Data: d}
}

func endCmd(id, fid string, d []byte) scanner.Command {
	return scanner.Command{Action: scanner.ActionEndData, ID: id, FileID: fid, Data: d}
}

// start opens an approved session and checks the OK.
func (h *upHarness) start(id string) {
	h.t.Helper()
	wantReplies(h.t, h, h.do(sendCmd(id)), "status st=OK")
}

// tree lists every entry below dir (relative, sorted), with a type mark: "d/", "l@".
func tree(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case info.IsDir():
			rel += "/"
		case info.Mode()&os.ModeSymlink != 0:
			rel += "@"
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// noDebris fails if a temporary file is left anywhere below dir.
func noDebris(t testing.TB, dir string) {
	t.Helper()
	for _, p := range tree(t, dir) {
		if strings.Contains(p, ".xferterm-") {
			t.Errorf("temporary file left behind: %s", p)
		}
	}
}

func readFile(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// approveFunc adapts a function of the request to an Approver.
func approveFunc(f func(r transfer.Request) transfer.Decision) transfer.Approver {
	return transfer.Func(func(r transfer.Request) transfer.Decision { return f(r) })
}
