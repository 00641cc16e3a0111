package proxy_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/internal/ptytest"
	"github.com/xferterm/xferterm/proxy"
	"github.com/xferterm/xferterm/scanner"
)

// harness is one in-process Run whose console is a pty owned by the test, as a terminal
// emulator owns one.
type harness struct {
	t *testing.T
	*ptytest.Terminal
	cmd *exec.Cmd

	done chan struct{} // closed when Run has returned
	code int
	err  error
}

// startRun runs helper mode under proxy.Run with cfg (its Console is set here).
func startRun(t *testing.T, ctx context.Context, mode string, cfg proxy.Config, env ...string) *harness {
	t.Helper()
	h := &harness{t: t, Terminal: ptytest.NewTerminal(t), done: make(chan struct{})}
	cfg.Console = proxy.NewConsole(h.Slave, h.Slave)
	h.cmd = ptytest.Command(mode, env...)
	go func() {
		defer close(h.done)
		h.code, h.err = proxy.Run(ctx, h.cmd, cfg)
	}()
	t.Cleanup(func() {
		select {
		case <-h.done:
		case <-time.After(ptytest.WaitTimeout):
			t.Errorf("Run did not return")
		}
	})
	return h
}

// wait waits for Run to return and checks the console was restored.
func (h *harness) wait() (int, error) {
	h.t.Helper()
	select {
	case <-h.done:
	case <-time.After(ptytest.WaitTimeout):
		h.t.Fatalf("Run did not return; output so far:\n%q", h.Out.Tail(2000))
	}
	h.CheckRestored(h.t)
	return h.code, h.err
}

// goRun runs cmd under proxy.Run with cfg and returns where its result arrives: an
// exit status other than 0 is an error too.
func goRun(ctx context.Context, cmd *exec.Cmd, cfg proxy.Config) <-chan error {
	done := make(chan error, 1)
	go func() {
		code, err := proxy.Run(ctx, cmd, cfg)
		if err == nil && code != 0 {
			err = fmt.Errorf("exit status %d", code)
		}
		done <- err
	}()
	return done
}

// waitRun waits for the result of goRun and fails the test on an error.
func waitRun(t *testing.T, done <-chan error) {
	t.Helper()
	if err := ptytest.Receive(t, done, "Run did not return"); err != nil {
		t.Fatal(err)
	}
}

// keysReceived returns what the "keys" helper has reported receiving so far.
func keysReceived(out []byte) string {
	var got []byte
	for line := range strings.SplitSeq(string(out), "\n") {
		if hx, ok := strings.CutPrefix(line, "K"); ok {
			b, err := hex.DecodeString(hx)
			if err == nil {
				got = append(got, b...)
			}
		}
	}
	return string(got)
}

// fakeEngine is an Engine whose state the test sets and inspects. As a receiver it
// serves one strict send session into dir (enough for ptytest.StrictSend).
type fakeEngine struct {
	dir    string
	ready  chan struct{}
	onSend func() // if set, called on `ac=send` instead of answering OK

	mu       sync.Mutex
	outbox   [][]byte
	running  bool
	cancels  int
	closes   int
	payloads int
	dialects []scanner.Dialect // of each payload, as the pump passed them
	file     []byte
	name     string
	finished chan struct{} // closed at `finish`
	canceled chan struct{} // closed at the first CancelAll
	ticked   chan struct{} // a token per Tick, when there is room

	// onPayload, if set, is called by HandlePayloadFrom before anything else; returning
	// true ends the handling.
	onPayload func(c scanner.Command) bool
}

// panicEngine panics on the first payload.
type panicEngine struct{}

func (panicEngine) HandlePayloadFrom([]byte, scanner.Dialect) error { panic("engine bug") }
func (panicEngine) Pull(dst []byte, _ int) []byte                   { return dst }
func (panicEngine) Ready() <-chan struct{}                          { return nil }
func (panicEngine) Running() bool                                   { return false }
func (panicEngine) CancelAll() bool                                 { return false }
func (panicEngine) Tick()                                           {}
func (panicEngine) Close() error                                    { return nil }

func newFakeEngine(dir string) *fakeEngine {
	return &fakeEngine{dir: dir, ready: make(chan struct{}, 1), finished: make(chan struct{}), canceled: make(chan struct{}), ticked: make(chan struct{}, 1)}
}

func (e *fakeEngine) queue(seq []byte) {
	e.mu.Lock()
	e.outbox = append(e.outbox, seq)
	e.mu.Unlock()
	e.signal()
}

func (e *fakeEngine) signal() {
	select {
	case e.ready <- struct{}{}:
	default:
	}
}

func (e *fakeEngine) reply(c scanner.Command) {
	c.Action = scanner.ActionStatus
	e.queue(c.AppendOSC(nil))
}

func (e *fakeEngine) HandlePayloadFrom(p []byte, d scanner.Dialect) error {
	c, err := scanner.Parse(p)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.payloads++
	e.dialects = append(e.dialects, d)
	e.mu.Unlock()
	if e.onPayload != nil && e.onPayload(c) {
		return nil
	}
	switch c.Action {
	case scanner.ActionSend:
		e.setRunning(true)
		if e.onSend != nil {
			e.onSend()
			return nil
		}
		e.reply(scanner.Command{ID: c.ID, Status: scanner.StatusOK})
	case scanner.ActionFile:
		e.mu.Lock()
		e.name = c.Name
		e.mu.Unlock()
		e.reply(scanner.Command{ID: c.ID, FileID: c.FileID, Name: c.Name, Status: scanner.StatusStarted})
	case scanner.ActionData, scanner.ActionEndData:
		e.mu.Lock()
		e.file = append(e.file, c.Data...)
		size := len(e.file)
		e.mu.Unlock()
		if c.Action == scanner.ActionEndData {
			e.mu.Lock()
			name, data := e.name, e.file
			e.mu.Unlock()
			if err := os.WriteFile(e.dir+"/"+name, data, 0o600); err != nil {
				e.reply(scanner.Command{ID: c.ID, FileID: c.FileID, Status: "EIO:" + err.Error()})
				return nil
			}
			e.reply(scanner.Command{ID: c.ID, FileID: c.FileID, Size: scanner.Some(int64(size)), Name: name, Status: scanner.StatusOK})
		}
	case scanner.ActionFinish:
		e.setRunning(false)
		close(e.finished)
	}
	return nil
}

func (e *fakeEngine) setRunning(a bool) {
	e.mu.Lock()
	e.running = a
	e.mu.Unlock()
}

func (e *fakeEngine) Pull(dst []byte, max int) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	start := len(dst)
	for len(e.outbox) > 0 && (len(dst) == start || len(dst)-start+len(e.outbox[0]) <= max) {
		dst = append(dst, e.outbox[0]...)
		e.outbox = e.outbox[1:]
	}
	if len(e.outbox) > 0 {
		e.signal()
	}
	return dst
}

func (e *fakeEngine) Ready() <-chan struct{} { return e.ready }

func (e *fakeEngine) Running() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.running
}

func (e *fakeEngine) CancelAll() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cancels++
	if e.cancels == 1 {
		close(e.canceled)
	}
	was := e.running
	e.running = false
	return was
}

func (e *fakeEngine) Tick() {
	select {
	case e.ticked <- struct{}{}:
	default:
	}
}

func (e *fakeEngine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closes++
	return nil
}

func (e *fakeEngine) stats() (cancels, closes int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cancels, e.closes
}

func unixKill(pid int, sig string) error {
	if pid <= 0 {
		return fmt.Errorf("bad pid %d", pid)
	}
	return unix.Kill(pid, unix.SignalNum("SIG"+sig))
}

// runNoTerminal runs helper mode under proxy.Run with pipes (or /dev/null for a nil
// stdin) instead of a terminal, and returns the output. The child must exit 0.
func runNoTerminal(t *testing.T, mode string, stdin io.Reader) string {
	t.Helper()
	var in *os.File
	if stdin == nil {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		in = f
	} else {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		in = r
		go func() {
			_, _ = io.Copy(w, stdin)
			_ = w.Close()
		}()
	}
	defer in.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	o := ptytest.NewOutput()
	go o.Collect(outR)
	code, err := proxy.Run(t.Context(), ptytest.Command(mode), proxy.Config{Console: proxy.NewConsole(in, outW)})
	_ = outW.Close()
	if code != 0 || err != nil {
		t.Fatalf("Run = %d, %v; output %q", code, err, o.Tail(500))
	}
	o.WaitEOF(t)
	return string(o.Bytes())
}
