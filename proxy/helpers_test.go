package proxy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/xferterm/xferterm/proxy"
	"github.com/xferterm/xferterm/scanner"
)

// helperEnv selects a helper child: the test binary re-executed as the command that
// runs under the proxy.
const helperEnv = "PROXYTEST_HELPER"

// waitTimeout is the watchdog of every wait in these tests.
const waitTimeout = 30 * time.Second

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	os.Exit(m.Run())
}

// helper runs the child side of a test and returns its exit code.
func helper(mode string) int {
	switch mode {
	case "keys":
		return helperKeys()
	case "flood":
		return helperFlood()
	case "strict-send":
		return helperStrictSend()
	case "block":
		fmt.Print("READY\n")
		_, _ = io.Copy(io.Discard, os.Stdin)
		return 0
	case "exit":
		n, _ := strconv.Atoi(os.Getenv("EXIT_CODE"))
		return n
	case "killself":
		_ = unix.Kill(os.Getpid(), unix.SIGKILL)
		select {}
	case "cat":
		_, _ = io.Copy(os.Stdout, os.Stdin)
		return 0
	case "print":
		// PRINT (hex) goes out as is, from raw mode so that nothing is translated.
		b, _ := hex.DecodeString(os.Getenv("PRINT"))
		if _, err := term.MakeRaw(0); err != nil {
			return 101
		}
		_, _ = os.Stdout.Write(b)
		return 0
	case "ask":
		// An OSC 5113 sequence between two words, then keystrokes as "keys" reports them.
		if _, err := term.MakeRaw(0); err != nil {
			return 101
		}
		_, _ = os.Stdout.WriteString("before\x1b]5113;ac=send;id=ask\x1b\\after\n")
		return helperKeys()
	case "run-panicking":
		// This process plays xferterm: Run with an engine that panics on the first
		// payload, on the terminal it was given.
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=ask")
		_, _ = proxy.Run(context.Background(), cmd, proxy.Config{Engine: panicEngine{}})
		return 0
	case "catfile":
		// CATFILE to stdout from raw mode: what a full-screen program or a client does.
		if _, err := term.MakeRaw(0); err != nil {
			return 101
		}
		f, err := os.Open(os.Getenv("CATFILE"))
		if err != nil {
			return 102
		}
		buf := make([]byte, 64<<10)
		if _, err := io.CopyBuffer(struct{ io.Writer }{os.Stdout}, f, buf); err != nil {
			return 103
		}
		return 0
	case "env":
		fmt.Printf("KEY=%q TERM=%q\n", os.Getenv("KITTY_PUBLIC_KEY"), os.Getenv("TERM"))
		return 0
	case "size":
		ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ)
		if err != nil {
			return 101
		}
		fmt.Printf("SIZE %d %d\n", ws.Row, ws.Col)
		return 0
	}
	fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
	return 100
}

// helperKeys reports every read of its raw stdin as a line "K<hex>"; on SIGUSR1 it
// writes "TICK" and then a byte to fd 3 (so the test knows TICK is in the pty). It
// exits when it reads a 'q'.
func helperKeys() int {
	if _, err := term.MakeRaw(0); err != nil {
		fmt.Println("raw:", err)
		return 101
	}
	var mu sync.Mutex
	out := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = os.Stdout.WriteString(s)
	}
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, unix.SIGUSR1)
	go func() {
		fd3 := os.NewFile(3, "fd3")
		for range usr1 {
			out("TICK\n")
			if fd3 != nil {
				_, _ = fd3.Write([]byte("t"))
			}
		}
	}()
	out(fmt.Sprintf("READY %d\n", os.Getpid()))
	buf := make([]byte, 4096)
	for {
		n, err := os.Stdin.Read(buf)
		if n > 0 {
			out("K" + hex.EncodeToString(buf[:n]) + "\n")
			if bytes.IndexByte(buf[:n], 'q') >= 0 {
				return 0
			}
		}
		if err != nil {
			return 102
		}
	}
}

// helperFlood writes FLOOD_OUT bytes of floodPattern without reading its input, then
// reads FLOOD_IN bytes of input and reports their SHA-256 as "\nIN <hex>\n".
func helperFlood() int {
	if _, err := term.MakeRaw(0); err != nil {
		return 101
	}
	nOut, _ := strconv.Atoi(os.Getenv("FLOOD_OUT"))
	nIn, _ := strconv.Atoi(os.Getenv("FLOOD_IN"))
	// Announce ourselves, as a client does once its tty is raw: only now may the
	// engine answer (input sent before raw mode would meet the canonical line limit).
	_, _ = os.Stdout.WriteString("\x1b]5113;ac=send;id=flood\x1b\\")
	chunk := bytes.Repeat([]byte(floodPattern), 32<<10/len(floodPattern))
	for left := nOut; left > 0; {
		n := min(left, len(chunk))
		if _, err := os.Stdout.Write(chunk[:n]); err != nil {
			return 102
		}
		left -= n
	}
	h := sha256.New()
	if _, err := io.CopyN(h, os.Stdin, int64(nIn)); err != nil {
		return 103
	}
	fmt.Printf("\nIN %x\n", h.Sum(nil))
	return 0
}

// floodPattern is what helperFlood writes: no ESC, so it passes through untouched.
const floodPattern = "0123456789abcdefghijklmnopqrstuvwxyz\r\n"

// helperStrictSend plays a strict client sending SEND_SRC to the name SEND_DST, as
// reference-client.md §4.1 describes: send, wait OK, file, wait STARTED, data packets of
// 4096 bytes, end_data, wait OK, finish. It prints "DONE" on success.
func helperStrictSend() int {
	if _, err := term.MakeRaw(0); err != nil {
		return 101
	}
	src, err := os.ReadFile(os.Getenv("SEND_SRC"))
	if err != nil {
		fmt.Println("read:", err)
		return 102
	}
	const id, fid = "5e11d", "f1"
	replies := make(chan scanner.Command, 1024)
	go func() {
		sc := scanner.New(io.Discard, func(p []byte, err error) {
			if err != nil {
				return
			}
			if c, err := scanner.Parse(p); err == nil {
				replies <- c
			}
		}, 0)
		_, _ = io.Copy(sc, os.Stdin)
	}()
	send := func(c scanner.Command) { _, _ = os.Stdout.Write(c.AppendOSC(nil)) }
	expect := func(st string) error {
		for {
			select {
			case c := <-replies:
				if c.ID != id || c.Action != scanner.ActionStatus {
					return fmt.Errorf("unexpected reply %s", c.String())
				}
				if c.Status == scanner.StatusProgress {
					continue
				}
				if c.Status != st {
					return fmt.Errorf("got status %q, want %q", c.Status, st)
				}
				return nil
			case <-time.After(waitTimeout):
				return fmt.Errorf("no %s", st)
			}
		}
	}
	fail := func(err error) int {
		fmt.Printf("\nFAIL %v\n", err)
		return 1
	}
	send(scanner.Command{Action: scanner.ActionSend, ID: id})
	if err := expect(scanner.StatusOK); err != nil {
		return fail(err)
	}
	send(scanner.Command{Action: scanner.ActionFile, ID: id, FileID: fid, Name: os.Getenv("SEND_DST")})
	if err := expect(scanner.StatusStarted); err != nil {
		return fail(err)
	}
	for len(src) > 0 {
		n := min(len(src), 4096)
		send(scanner.Command{Action: scanner.ActionData, ID: id, FileID: fid, Data: src[:n]})
		src = src[n:]
	}
	send(scanner.Command{Action: scanner.ActionEndData, ID: id, FileID: fid})
	if err := expect(scanner.StatusOK); err != nil {
		return fail(err)
	}
	send(scanner.Command{Action: scanner.ActionFinish, ID: id})
	fmt.Print("\nDONE\n")
	return 0
}

// harness is one in-process Run whose console is a pty owned by the test, as a terminal
// emulator owns one.
type harness struct {
	t             *testing.T
	master, slave *os.File
	before        *unix.Termios // the console's settings before Run
	out           *outBuf
	cmd           *exec.Cmd

	done chan struct{} // closed when Run has returned
	code int
	err  error
}

// startRun runs helper mode under proxy.Run with cfg (its Console is set here).
func startRun(t *testing.T, ctx context.Context, mode string, cfg proxy.Config, env ...string) *harness {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 30, Col: 100}); err != nil {
		t.Fatal(err)
	}
	before, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, master: master, slave: slave, before: before, out: newOutBuf(), done: make(chan struct{})}
	go h.out.readFrom(master)
	cfg.Console = proxy.NewConsole(slave, slave)
	h.cmd = exec.Command(os.Args[0], "-test.run=^$")
	h.cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + mode, "GORACE=atexit_sleep_ms=0"}, env...)...)
	go func() {
		defer close(h.done)
		h.code, h.err = proxy.Run(ctx, h.cmd, cfg)
	}()
	t.Cleanup(func() {
		select {
		case <-h.done:
		case <-time.After(waitTimeout):
			t.Errorf("Run did not return")
		}
		_ = slave.Close()
		_ = master.Close()
	})
	return h
}

// wait waits for Run to return and checks the console was restored.
func (h *harness) wait() (int, error) {
	h.t.Helper()
	select {
	case <-h.done:
	case <-time.After(waitTimeout):
		h.t.Fatalf("Run did not return; output so far:\n%q", h.out.tail(2000))
	}
	after, err := unix.IoctlGetTermios(int(h.slave.Fd()), unix.TCGETS)
	if err != nil {
		h.t.Fatal(err)
	}
	if *after != *h.before {
		h.t.Errorf("console not restored:\nbefore %+v\nafter  %+v", *h.before, *after)
	}
	return h.code, h.err
}

// send writes keystrokes into the console, as the user typing.
func (h *harness) send(s string) {
	h.t.Helper()
	if _, err := h.master.Write([]byte(s)); err != nil {
		h.t.Fatal(err)
	}
}

// keys returns what the "keys" helper has reported receiving so far.
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

// outBuf collects what the console shows.
type outBuf struct {
	mu   sync.Mutex
	cond *sync.Cond
	b    []byte
	err  error // why reading stopped
}

func newOutBuf() *outBuf {
	o := &outBuf{}
	o.cond = sync.NewCond(&o.mu)
	return o
}

func (o *outBuf) readFrom(r io.Reader) {
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		o.mu.Lock()
		o.b = append(o.b, buf[:n]...)
		if err != nil {
			o.err = err
		}
		o.cond.Broadcast()
		o.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// waitFor waits until cond holds for the output so far, or fails the test.
func (o *outBuf) waitFor(t *testing.T, what string, cond func([]byte) bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	timer := time.AfterFunc(waitTimeout, func() {
		o.mu.Lock()
		o.cond.Broadcast()
		o.mu.Unlock()
	})
	defer timer.Stop()
	o.mu.Lock()
	defer o.mu.Unlock()
	for !cond(o.b) {
		if o.err != nil || time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v; output so far:\n%q", what, o.err, tail(o.b, 2000))
		}
		o.cond.Wait()
	}
}

func (o *outBuf) waitForString(t *testing.T, s string) {
	t.Helper()
	o.waitFor(t, strconv.Quote(s), func(b []byte) bool { return bytes.Contains(b, []byte(s)) })
}

func (o *outBuf) bytes() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return bytes.Clone(o.b)
}

func (o *outBuf) tail(n int) []byte { return tail(o.bytes(), n) }

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// fakeEngine is an Engine whose state the test sets and inspects. As a receiver it
// serves one strict send session into dir (enough for helperStrictSend).
type fakeEngine struct {
	dir    string
	ready  chan struct{}
	onSend func() // if set, called on `ac=send` instead of answering OK

	mu       sync.Mutex
	outbox   [][]byte
	active   bool
	cancels  int
	closes   int
	payloads int
	file     []byte
	name     string
	finished chan struct{} // closed at `finish`
	canceled chan struct{} // closed at the first CancelAll
	ticked   chan struct{} // a token per Tick, when there is room

	// onPayload, if set, is called by HandlePayload before anything else; returning
	// true ends the handling.
	onPayload func(c scanner.Command) bool
}

// panicEngine panics on the first payload.
type panicEngine struct{}

func (panicEngine) HandlePayload([]byte) error    { panic("engine bug") }
func (panicEngine) Pull(dst []byte, _ int) []byte { return dst }
func (panicEngine) Ready() <-chan struct{}        { return nil }
func (panicEngine) Active() bool                  { return false }
func (panicEngine) CancelAll() bool               { return false }
func (panicEngine) Tick()                         {}
func (panicEngine) Close() error                  { return nil }

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

func (e *fakeEngine) HandlePayload(p []byte) error {
	c, err := scanner.Parse(p)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.payloads++
	e.mu.Unlock()
	if e.onPayload != nil && e.onPayload(c) {
		return nil
	}
	switch c.Action {
	case scanner.ActionSend:
		e.setActive(true)
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
		e.setActive(false)
		close(e.finished)
	}
	return nil
}

func (e *fakeEngine) setActive(a bool) {
	e.mu.Lock()
	e.active = a
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

func (e *fakeEngine) Active() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.active
}

func (e *fakeEngine) CancelAll() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cancels++
	if e.cancels == 1 {
		close(e.canceled)
	}
	was := e.active
	e.active = false
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

// openConsolePTY opens a pty to serve as a console, closed at the end of the test.
func openConsolePTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 30, Col: 100}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = slave.Close()
		_ = master.Close()
	})
	return master, slave
}

func execCommand(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }

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
	o := newOutBuf()
	go o.readFrom(outR)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "GORACE=atexit_sleep_ms=0")
	code, err := proxy.Run(t.Context(), cmd, proxy.Config{Console: proxy.NewConsole(in, outW)})
	_ = outW.Close()
	if code != 0 || err != nil {
		t.Fatalf("Run = %d, %v; output %q", code, err, o.tail(500))
	}
	o.waitFor(t, "EOF", func([]byte) bool { return o.err != nil })
	return string(o.bytes())
}
