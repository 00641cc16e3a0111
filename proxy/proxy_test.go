package proxy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xferterm/xferterm/internal/ptytest"
	"github.com/xferterm/xferterm/proxy"
	"github.com/xferterm/xferterm/scanner"
)

func TestRunReportsTheChildsExitStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode string
		env  []string
		want int
	}{
		{"exit 0 is 0", "exit", []string{"EXIT_CODE=0"}, 0},
		{"exit 3 is 3", "exit", []string{"EXIT_CODE=3"}, 3},
		{"SIGKILL is 137", "killself", nil, 137},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startRun(t, t.Context(), tc.mode, proxy.Config{}, tc.env...)
			code, err := h.wait()
			if err != nil || code != tc.want {
				t.Errorf("Run = %d, %v; want %d, nil", code, err, tc.want)
			}
		})
	}
}

func TestRunReportsACommandThatCannotStart(t *testing.T) {
	slave := ptytest.NewTerminal(t).Slave
	for _, tc := range []struct {
		name string
		path string
		want int
	}{
		{"missing is 127", filepath.Join(t.TempDir(), "missing"), 127},
		{"not executable is 126", t.TempDir(), 126},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(tc.path)
			code, err := proxy.Run(t.Context(), cmd, proxy.Config{Console: proxy.NewConsole(slave, slave)})
			if code != tc.want || err == nil || !strings.HasPrefix(err.Error(), "proxy: ") {
				t.Errorf("Run = %d, %v; want %d and a proxy error", code, err, tc.want)
			}
		})
	}
}

func TestOSC5113IsRemovedAndEverythingElsePassesThrough(t *testing.T) {
	eng := newFakeEngine(t.TempDir())
	before := "a\x1b]0;title\x07b\x1b[31mred\x1b[0m é"
	seq := "\x1b]5113;ac=send;id=abc\x1b\\"
	after := "\x1b]51131;x\x07\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\END"
	h := startRun(t, t.Context(), "print", proxy.Config{Engine: eng}, "PRINT="+hex.EncodeToString([]byte(before+seq+after)))
	if code, err := h.wait(); code != 0 || err != nil {
		t.Fatalf("Run = %d, %v", code, err)
	}
	h.Out.WaitForString(t, "END")
	if got, want := string(h.Out.Bytes()), before+after; got != want {
		t.Errorf("output\n got %q\nwant %q", got, want)
	}
	if eng.payloads != 1 {
		t.Errorf("engine got %d payloads, want 1", eng.payloads)
	}
	if _, closes := eng.stats(); closes == 0 {
		t.Error("engine not closed")
	}
}

// TestPumpPassesTheClientsDialect: the pump follows the pass-through bytes with a
// scanner.Sniffer and gives the engine, with each payload, the dialect they point to:
// kitty's 0.26 client's terminal set-up marks its first command only, and the current
// client's (a push of keyboard flags 29) marks nothing. The set-up still reaches the
// terminal unchanged.
func TestPumpPassesTheClientsDialect(t *testing.T) {
	eng := newFakeEngine(t.TempDir())
	old := "\x1b F\x1b[?s\x1b[20l\x1b[4l\x1b[#P\x1b[*x\x1b[>31u"
	cur := "\x1b[?1004h\x1b[?2048h\x1b[>29u\x1b[?25l"
	seq := "\x1b]5113;ac=status;id=abc\x1b\\"
	all := old + seq + seq + cur + seq + "END"
	h := startRun(t, t.Context(), "print", proxy.Config{Engine: eng}, "PRINT="+hex.EncodeToString([]byte(all)))
	if code, err := h.wait(); code != 0 || err != nil {
		t.Fatalf("Run = %d, %v", code, err)
	}
	h.Out.WaitForString(t, "END")
	if got, want := string(h.Out.Bytes()), old+cur+"END"; got != want {
		t.Errorf("output\n got %q\nwant %q", got, want)
	}
	eng.mu.Lock()
	defer eng.mu.Unlock()
	if want := []scanner.Dialect{scanner.Dialect026, scanner.DialectCurrent, scanner.DialectCurrent}; !slices.Equal(eng.dialects, want) {
		t.Errorf("dialects %v, want %v", eng.dialects, want)
	}
}

func TestChildGetsTheConsoleSizeAndExtraEnv(t *testing.T) {
	t.Setenv("KITTY_PUBLIC_KEY", "inherited")
	t.Setenv("TERM", "xterm-test")
	h := startRun(t, t.Context(), "env", proxy.Config{Env: []string{"KITTY_PUBLIC_KEY=1:abc"}})
	if code, err := h.wait(); code != 0 || err != nil {
		t.Fatalf("Run = %d, %v", code, err)
	}
	h.Out.WaitForString(t, `KEY="1:abc" TERM="xterm-test"`)

	h = startRun(t, t.Context(), "size", proxy.Config{})
	if code, err := h.wait(); code != 0 || err != nil {
		t.Fatalf("Run = %d, %v", code, err)
	}
	h.Out.WaitForString(t, "SIZE 30 100")
}

func TestChildGetsCOLUMNSAndLINESWithoutATerminal(t *testing.T) {
	for _, tc := range []struct {
		name, cols, lines, want string
	}{
		{"from the environment", "132", "43", "SIZE 43 132"},
		{"80x24 by default", "", "", "SIZE 24 80"},
		{"80x24 for zeros", "0", "0", "SIZE 24 80"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("COLUMNS", tc.cols)
			t.Setenv("LINES", tc.lines)
			out := runNoTerminal(t, "size", nil)
			if !strings.Contains(out, tc.want) {
				t.Errorf("output %q, want %q", out, tc.want)
			}
		})
	}
}

func TestStdinPipeEOFReachesTheChild(t *testing.T) {
	for _, tc := range []struct {
		name, in string
	}{
		{"after a full line", "hello\n"},
		{"after a partial line", "hello\nwor"},
		{"with nothing", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// "cat" exits only when it reads EOF.
			out := runNoTerminal(t, "cat", strings.NewReader(tc.in))
			for line := range strings.SplitSeq(strings.TrimSuffix(tc.in, "\n"), "\n") {
				if line != "" && strings.Count(out, line) < 2 { // the pty's echo, then cat
					t.Errorf("output %q lacks %q twice", out, line)
				}
			}
		})
	}
}

func TestSendSmallFile(t *testing.T) {
	dir := t.TempDir()
	srcPath, src := ptytest.SendSource(t, 100_000, 1)
	eng := newFakeEngine(dir)
	h := startRun(t, t.Context(), "strict-send", proxy.Config{Engine: eng}, "SEND_SRC="+srcPath, "SEND_DST=dst.bin")
	code, err := h.wait()
	if code != 0 || err != nil {
		t.Fatalf("Run = %d, %v; output %q", code, err, h.Out.Tail(500))
	}
	ptytest.CheckStrictSend(t, h.Out, filepath.Join(dir, "dst.bin"), src)
}

// A child that writes a lot while not reading its input, while the engine has replies
// for it: the pump must keep relaying, and every byte must arrive both ways.
func TestNoDeadlockWhenTheChildFloodsAndDoesNotRead(t *testing.T) {
	const nOut = 8 << 20
	eng := newFakeEngine(t.TempDir())
	h := sha256.New()
	rng := rand.New(rand.NewPCG(3, 4))
	var replies [][]byte
	nIn := 0
	for nIn < 2<<20 {
		seq := []byte(fmt.Sprintf("\x1b]5113;ac=status;id=x;st=%d\x1b\\", rng.Uint64()))
		replies = append(replies, seq)
		h.Write(seq)
		nIn += len(seq)
	}
	eng.onSend = func() {
		for _, seq := range replies {
			eng.queue(seq)
		}
	}
	run := startRun(t, t.Context(), "flood", proxy.Config{Engine: eng},
		"FLOOD_OUT="+strconv.Itoa(nOut), "FLOOD_IN="+strconv.Itoa(nIn))
	code, err := run.wait()
	if code != 0 || err != nil {
		t.Fatalf("Run = %d, %v; output %q", code, err, run.Out.Tail(300))
	}
	want := fmt.Sprintf("\nIN %x\n", h.Sum(nil))
	run.Out.WaitForString(t, want)
	out := run.Out.Bytes()
	body := out[:len(out)-len(want)]
	if len(body) != nOut {
		t.Fatalf("relayed %d bytes of output, want %d", len(body), nOut)
	}
	pattern := bytes.Repeat([]byte(floodPattern), 32<<10/len(floodPattern))
	for off := 0; off < len(body); off += len(pattern) {
		chunk := body[off:min(len(body), off+len(pattern))]
		if !bytes.Equal(chunk, pattern[:len(chunk)]) {
			t.Fatalf("output differs in the chunk at %d", off)
		}
	}
}

func TestCtrlCCancelsATransferAndIsNotForwarded(t *testing.T) {
	for _, tc := range []struct {
		name    string
		running bool
		keys    string
		want    string // what the child receives, before "q"
		cancels int
	}{
		{"legacy 0x03 during a session cancels", true, "a\x03b", "ab", 1},
		{"kitty CSI 99;5u during a session cancels", true, "a\x1b[99;5ub", "ab", 1},
		{"kitty press with event type and caps lock cancels", true, "\x1b[99;69:1u", "", 1},
		{"kitty release is forwarded", true, "\x1b[99;5:3u", "\x1b[99;5:3u", 0},
		{"ctrl+shift+c is forwarded", true, "\x1b[99;6u", "\x1b[99;6u", 0},
		{"0x03 without a running transfer is forwarded", false, "a\x03b", "a\x03b", 0},
		{"kitty ctrl+c without a running transfer is forwarded", false, "\x1b[99;5u", "\x1b[99;5u", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng := newFakeEngine(t.TempDir())
			eng.setRunning(tc.running)
			h := startRun(t, t.Context(), "keys", proxy.Config{Engine: eng})
			h.Out.WaitForString(t, "READY")
			h.Type(t, tc.keys)
			if tc.cancels > 0 {
				// The child may see nothing from this unit; wait for the cancel.
				ptytest.Receive(t, eng.canceled, "no CancelAll")
			}
			h.Type(t, "q")
			if code, err := h.wait(); code != 0 || err != nil {
				t.Fatalf("Run = %d, %v", code, err)
			}
			h.Out.WaitFor(t, "q at the child", func(b []byte) bool { return strings.HasSuffix(keysReceived(b), "q") })
			if got := keysReceived(h.Out.Bytes()); got != tc.want+"q" {
				t.Errorf("child received %q, want %q", got, tc.want+"q")
			}
			if c, _ := eng.stats(); c != tc.cancels {
				t.Errorf("CancelAll called %d times, want %d", c, tc.cancels)
			}
		})
	}
}

// Cancelling Run's context hangs the child up; the pump, blocked in a read of the ptmx,
// is interrupted (creack/pty issues 88, 114, 162).
func TestCancelHangsUpTheChildAndUnblocksThePump(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	eng := newFakeEngine(t.TempDir())
	// "hold", not "block": a child that reads stdin may see the hangup's EIO and exit 0
	// before the SIGHUP kills it.
	h := startRun(t, ctx, "hold", proxy.Config{Engine: eng})
	h.Out.WaitForString(t, "READY")
	cancel()
	code, err := h.wait()
	if code != 129 || !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %d, %v; want 129, context.Canceled", code, err)
	}
	if _, closes := eng.stats(); closes == 0 {
		t.Error("engine not closed")
	}
}

func TestTickIsCalledWhileRunning(t *testing.T) {
	eng := newFakeEngine(t.TempDir())
	h := startRun(t, t.Context(), "block", proxy.Config{Engine: eng, TickInterval: time.Millisecond})
	ptytest.Receive(t, eng.ticked, "no Tick")
	h.Out.WaitForString(t, "READY")
	h.Type(t, "\x04") // cooked mode: ^D is EOF, and "block" exits
	if code, err := h.wait(); code != 0 || err != nil {
		t.Errorf("Run = %d, %v", code, err)
	}
}

// A panic in one of the proxy's goroutines restores the terminal before the process
// dies. The process under test is this binary running proxy.Run (helper
// "run-panicking") on a pty owned by the test.
func TestPanicRestoresTheTerminal(t *testing.T) {
	tm := ptytest.NewTerminal(t)
	var stderr bytes.Buffer
	cmd := ptytest.Command("run-panicking")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tm.Slave, tm.Slave, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if !ptytest.WaitExit(cmd) {
		t.Fatal("no panic")
	}
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(stderr.String(), "panic: engine bug") {
		t.Errorf("exit %d, stderr %q; want a panic", code, stderr.String())
	}
	tm.CheckRestored(t)
}

// A background process that keeps the pty open does not keep Run waiting: once the
// child has exited and the output has gone quiet, Run returns (and closing the ptmx
// hangs the background process up).
func TestRunReturnsWhenABackgroundProcessHoldsThePTY(t *testing.T) {
	h := startRun(t, t.Context(), "orphan", proxy.Config{})
	if code, err := h.wait(); code != 0 || err != nil {
		t.Fatalf("Run = %d, %v", code, err)
	}
	h.Out.WaitForString(t, "ORPHAN ")
}

// Input from a pipe reaches a raw child byte for byte, control characters included.
func TestStdinPipeInputArrivesIntact(t *testing.T) {
	in := make([]byte, 4<<20)
	rng := rand.New(rand.NewPCG(11, 12))
	for i := range in {
		in[i] = byte(rng.Uint32())
	}
	sum := sha256.Sum256(in)
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer inR.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	out := ptytest.NewOutput()
	go out.Collect(outR)
	cmd := ptytest.Command("hashin", "IN="+strconv.Itoa(len(in)))
	done := make(chan error, 1)
	go func() {
		code, err := proxy.Run(t.Context(), cmd, proxy.Config{Console: proxy.NewConsole(inR, outW)})
		if err == nil && code != 0 {
			err = fmt.Errorf("exit status %d", code)
		}
		_ = outW.Close()
		done <- err
	}()
	// Only once the child is raw: before, the line discipline would edit the input.
	out.WaitForString(t, "READY")
	if _, err := inW.Write(in); err != nil {
		t.Fatal(err)
	}
	_ = inW.Close()
	waitRun(t, done)
	out.WaitForString(t, fmt.Sprintf("IN %x\n", sum))
}
