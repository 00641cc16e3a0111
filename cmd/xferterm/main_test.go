package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// These tests drive the xferterm binary the way a terminal emulator does: the test owns
// a pty, runs xferterm on its slave, reads the master and writes keystrokes into it. The
// command xferterm runs is this test binary again, in a helper mode (helperEnv).

const (
	helperEnv   = "XFERTERM_TEST_HELPER"
	waitTimeout = 30 * time.Second
)

// xferterm is the binary under test, built by TestMain.
var xferterm string

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	dir, err := os.MkdirTemp("", "xferterm-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	xferterm = filepath.Join(dir, "xferterm")
	build := exec.Command("go", "build", "-o", xferterm, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building xferterm:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir) // Best effort.
	os.Exit(code)
}

func helper(mode string) int {
	switch mode {
	case "gen":
		// GEN_BYTES of genStream, from raw mode so the pty translates nothing.
		n, _ := strconv.Atoi(os.Getenv("GEN_BYTES"))
		if _, err := term.MakeRaw(1); err != nil {
			return 101
		}
		s := newStream()
		buf := make([]byte, 64<<10)
		for n > 0 {
			k := min(n, len(buf))
			s.fill(buf[:k])
			if _, err := os.Stdout.Write(buf[:k]); err != nil {
				return 102
			}
			n -= k
		}
		return 0
	case "exit":
		n, _ := strconv.Atoi(os.Getenv("EXIT_CODE"))
		return n
	case "killself":
		_ = unix.Kill(os.Getpid(), unix.SIGKILL)
		select {}
	case "size":
		// Reports its size at start and after each SIGWINCH; exits at 'q'.
		if _, err := term.MakeRaw(0); err != nil {
			return 101
		}
		winch := make(chan os.Signal, 8)
		signal.Notify(winch, unix.SIGWINCH)
		var mu sync.Mutex
		report := func() {
			mu.Lock()
			defer mu.Unlock()
			ws, _ := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ)
			fmt.Printf("SIZE %d %d\r\n", ws.Row, ws.Col)
		}
		report()
		go func() {
			for range winch {
				report()
			}
		}()
		b := make([]byte, 1)
		for {
			if _, err := os.Stdin.Read(b); err != nil || b[0] == 'q' {
				return 0
			}
		}
	case "block":
		fmt.Print("READY\n")
		_, _ = io.Copy(io.Discard, os.Stdin)
		return 0
	case "strict-send":
		return helperStrictSend()
	case "read-all":
		b, _ := io.ReadAll(os.Stdin)
		fmt.Printf("GOT %q\n", b)
		return 0
	}
	fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
	return 100
}

// run is one xferterm process on a pty owned by the test.
type proc struct {
	t             *testing.T
	master, slave *os.File
	before        unix.Termios
	cmd           *exec.Cmd
	stderr        bytes.Buffer
	out           *outBuf
}

// start runs `xferterm -- <this binary>` in helper mode with stdin from in (nil: the
// pty) and stdout on the pty.
func start(t *testing.T, mode string, in *os.File, env ...string) *proc {
	t.Helper()
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	r := &proc{t: t, master: master, slave: slave, out: newOutBuf()}
	t.Cleanup(func() {
		if r.cmd != nil && r.cmd.ProcessState == nil {
			_ = r.cmd.Process.Kill() // Best effort: the test failed.
			_ = r.cmd.Wait()
		}
		_ = slave.Close()
		_ = master.Close()
	})
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 30, Col: 100}); err != nil {
		t.Fatal(err)
	}
	before, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	r.before = *before
	go r.out.readFrom(master)

	if mode == "" {
		return r // just the pty
	}
	r.cmd = exec.Command(xferterm, "--", os.Args[0], "-test.run=^$")
	r.cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + mode, "GORACE=atexit_sleep_ms=0"}, env...)...)
	r.cmd.Stdin, r.cmd.Stdout, r.cmd.Stderr = slave, slave, &r.stderr
	ctty := 0
	if in != nil {
		r.cmd.Stdin, ctty = in, 1
	}
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: ctty}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return r
}

// wait waits for xferterm to exit, checks the terminal was restored, and returns the exit
// status as a shell reports it.
func (r *proc) wait() int {
	r.t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		_ = r.cmd.Process.Kill()
		<-done
		r.t.Fatalf("xferterm did not exit; stderr %q; output %q", r.stderr.String(), r.out.tail(500))
	}
	after, err := unix.IoctlGetTermios(int(r.slave.Fd()), unix.TCGETS)
	if err != nil {
		r.t.Fatal(err)
	}
	if *after != r.before {
		r.t.Errorf("terminal not restored:\nbefore %+v\nafter  %+v", r.before, *after)
	}
	ws := r.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// drain closes the test's slave once xferterm has exited, so that the master reaches
// EIO, and returns everything the terminal received.
func (r *proc) drain() []byte {
	r.t.Helper()
	_ = r.slave.Close()
	r.out.waitFor(r.t, "EOF", func([]byte) bool { return r.out.err != nil })
	return r.out.bytes()
}

func TestPassThroughIsByteExact(t *testing.T) {
	const n = 64 << 20
	r := start(t, "gen", nil, "GEN_BYTES="+strconv.Itoa(n))
	r.out.grow(n)
	if code := r.wait(); code != 0 {
		t.Fatalf("exit status %d; stderr %q", code, r.stderr.String())
	}
	got := r.drain()
	want := make([]byte, n)
	newStream().fill(want)
	if !bytes.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Fatalf("output differs at byte %d of %d (got %d bytes): got %q, want %q", i, n, len(got),
			got[i:min(len(got), i+40)], want[i:min(len(want), i+40)])
	}
}

func TestExitStatusAndRestore(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode string
		env  []string
		want int
	}{
		{"exit 0", "exit", []string{"EXIT_CODE=0"}, 0},
		{"exit 3", "exit", []string{"EXIT_CODE=3"}, 3},
		{"killed by SIGKILL", "killself", nil, 137},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := start(t, tc.mode, nil, tc.env...)
			if code := r.wait(); code != tc.want {
				t.Errorf("exit status %d, want %d; stderr %q", code, tc.want, r.stderr.String())
			}
		})
	}
}

func TestSignalsToXferterm(t *testing.T) {
	for _, sig := range []unix.Signal{unix.SIGHUP, unix.SIGTERM, unix.SIGINT, unix.SIGQUIT} {
		t.Run(unix.SignalName(sig), func(t *testing.T) {
			r := start(t, "block", nil)
			r.out.waitForString(t, "READY")
			if err := r.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code, want := r.wait(), 128+int(sig); code != want {
				t.Errorf("exit status %d, want %d; stderr %q", code, want, r.stderr.String())
			}
		})
	}
}

func TestResizeReachesTheChild(t *testing.T) {
	r := start(t, "size", nil)
	r.out.waitForString(t, "SIZE 30 100")
	for _, ws := range []unix.Winsize{{Row: 40, Col: 120}, {Row: 12, Col: 33}} {
		if err := unix.IoctlSetWinsize(int(r.master.Fd()), unix.TIOCSWINSZ, &ws); err != nil {
			t.Fatal(err)
		}
		r.out.waitForString(t, fmt.Sprintf("SIZE %d %d", ws.Row, ws.Col))
	}
	if _, err := r.master.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(); code != 0 {
		t.Errorf("exit status %d; stderr %q", code, r.stderr.String())
	}
}

func TestStdinNotATerminal(t *testing.T) {
	t.Run("/dev/null", func(t *testing.T) {
		null, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer null.Close()
		r := start(t, "read-all", null)
		if code := r.wait(); code != 0 {
			t.Fatalf("exit status %d; stderr %q", code, r.stderr.String())
		}
		if out := r.drain(); !bytes.Contains(out, []byte(`GOT ""`)) {
			t.Errorf("output %q", out)
		}
	})
	t.Run("a pipe", func(t *testing.T) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		r := start(t, "read-all", pr)
		if _, err := pw.WriteString("hello\nworld"); err != nil {
			t.Fatal(err)
		}
		_ = pw.Close()
		if code := r.wait(); code != 0 {
			t.Fatalf("exit status %d; stderr %q", code, r.stderr.String())
		}
		if out := r.drain(); !bytes.Contains(out, []byte(`GOT "hello\nworld"`)) {
			t.Errorf("output %q", out)
		}
	})
}

func TestStdoutFailureRestoresAndEnds(t *testing.T) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer slave.Close()
	go func() { _, _ = io.Copy(io.Discard, master) }()
	before, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	_ = pr.Close() // stdout is a pipe nobody reads: the first write fails with EPIPE.
	var stderr bytes.Buffer
	cmd := exec.Command(xferterm, "--", os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=gen", "GEN_BYTES=1000000", "GORACE=atexit_sleep_ms=0")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, pw, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = pw.Close()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("xferterm did not exit")
	}
	if cmd.ProcessState.ExitCode() == 0 || !strings.Contains(stderr.String(), "proxy: write to terminal") {
		t.Errorf("exit %v, stderr %q; want a failure naming the terminal write", cmd.ProcessState, stderr.String())
	}
	after, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if *after != *before {
		t.Errorf("terminal not restored")
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"-h"}, 0},
		{[]string{"-no-such-flag"}, 2},
	} {
		var stderr bytes.Buffer
		if code := run(tc.args, os.Stdin, os.Stdout, &stderr, os.Getenv); code != tc.want || !strings.Contains(stderr.String(), "usage: xferterm") {
			t.Errorf("run(%q) = %d, stderr %q; want %d and the usage", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// streamBlock is the size of the block a stream repeats: generating all of a large
// stream would be slow under the race detector. It is odd, so that block boundaries fall
// everywhere relative to the 64 KiB writes.
const streamBlock = 1<<20 + 4099

// stream repeats one block of gen output.
type stream struct {
	block []byte
	off   int
}

func newStream() *stream {
	b := make([]byte, streamBlock)
	newGen(1).fill(b)
	return &stream{block: b}
}

func (s *stream) fill(p []byte) {
	for len(p) > 0 {
		n := copy(p, s.block[s.off:])
		p, s.off = p[n:], (s.off+n)%len(s.block)
	}
}

// gen produces a deterministic stream of terminal-like output: text, UTF-8, CSI, OSC
// other than 5113 (titles, hyperlinks, clipboard, 5112, near misses of 5113), DCS and
// raw bytes. It never contains an OSC 5113 introducer.
type gen struct {
	rng  *rand.Rand
	pend []byte
}

func newGen(seed uint64) *gen { return &gen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

func (g *gen) fill(p []byte) {
	for len(p) > 0 {
		if len(g.pend) == 0 {
			g.pend = g.piece()
		}
		n := copy(p, g.pend)
		p, g.pend = p[n:], g.pend[n:]
	}
}

func (g *gen) piece() []byte {
	r := g.rng
	switch r.IntN(12) {
	case 0, 1, 2:
		return fmt.Appendf(nil, "line %d of plain text, some words here and there\r\n", r.IntN(1e6))
	case 3:
		return []byte("héllo wörld ✓ 日本語 🙂 ñ\r\n")
	case 4:
		return fmt.Appendf(nil, "\x1b[%d;%dm", r.IntN(108), r.IntN(50))
	case 5:
		return fmt.Appendf(nil, "\x1b[%d;%dH\x1b[K\x1b[?25l\x1b[?2026h", r.IntN(50), r.IntN(200))
	case 6:
		return fmt.Appendf(nil, "\x1b]0;title %d\x07\x1b]8;;https://example.com/%d\x1b\\link\x1b]8;;\x1b\\", r.IntN(100), r.IntN(100))
	case 7:
		return fmt.Appendf(nil, "\x1b]52;c;%x\x07", r.Uint64())
	case 8:
		// Near misses: another code, a longer code, no ';', a cut introducer.
		return []byte("\x1b]5112;x=y\x1b\\\x1b]51130;a\x07\x1b]5113x\x07\x1b]511\x1b[0m\x1b]")
	case 9:
		return []byte("\x1bP+q544e\x1b\\\x1b_Gf=100;AAAA\x1b\\")
	case 10:
		b := make([]byte, 64)
		for i := range b {
			if b[i] = byte(r.Uint32()); b[i] == 0x1b {
				b[i] = 'x'
			}
		}
		return b
	default:
		return []byte(strings.Repeat("─", r.IntN(40)) + "\r\n")
	}
}

// outBuf collects what the terminal shows.
type outBuf struct {
	mu   sync.Mutex
	cond *sync.Cond
	b    []byte
	err  error
}

func newOutBuf() *outBuf {
	o := &outBuf{}
	o.cond = sync.NewCond(&o.mu)
	return o
}

func (o *outBuf) grow(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.b = append(make([]byte, 0, n+64<<10), o.b...)
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
			t.Fatalf("waiting for %s: %v; output so far %q", what, o.err, tailOf(o.b, 500))
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
	return o.b
}

func (o *outBuf) tail(n int) []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return bytes.Clone(tailOf(o.b, n))
}

func tailOf(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
