package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/internal/ptytest"
)

// These tests drive the xferterm binary the way a terminal emulator does: the test owns
// a pty, runs xferterm on its slave, reads the master and writes keystrokes into it. The
// command xferterm runs is this test binary again, in a helper mode (ptytest.HelperEnv).

// xferterm is the binary under test, built by TestMain.
var xferterm string

// goBuildEnv is the environment for tests that run `go build`: TestMain moves HOME, and
// with it the default Go caches, so it records the real ones here first.
var goBuildEnv []string

func TestMain(m *testing.M) {
	if mode := os.Getenv(ptytest.HelperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	dir, err := os.MkdirTemp("", "xferterm-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	xferterm = filepath.Join(dir, "xferterm")
	// Built as releases are: static (without cgo), with -trimpath.
	build := exec.Command("go", "build", "-buildvcs=auto", "-trimpath", "-o", xferterm, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building xferterm:", err)
		os.Exit(1)
	}
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "go env:", err)
		os.Exit(1)
	}
	goBuildEnv = append(os.Environ(), "CGO_ENABLED=0")
	for i, v := range strings.Fields(string(out)) {
		goBuildEnv = append(goBuildEnv, []string{"GOCACHE", "GOMODCACHE", "GOPATH"}[i]+"="+v)
	}
	// xferterm keeps its key pair, config and audit log under HOME and the XDG
	// directories: keep the tests' out of the user's. (After the build, which keeps
	// using the user's Go caches.)
	for _, k := range []string{"HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"} {
		_ = os.Setenv(k, filepath.Join(dir, "home")) // Cannot fail for these names.
	}
	_ = os.Unsetenv("XFERTERM_PASSWORD") // Cannot fail.
	code := m.Run()
	_ = os.RemoveAll(dir) // Best effort.
	os.Exit(code)
}

// helper runs the child side of a test and returns its exit code; the modes of
// ptytest.Helper are there too.
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
	case "hostile-spellings":
		return hostileSpellings()
	case "hostile-memory":
		return hostileMemory()
	case "read-all":
		b, _ := io.ReadAll(os.Stdin)
		fmt.Printf("GOT %q\n", b)
		return 0
	}
	if scenario, ok := remoteScenarios[mode]; ok {
		return runRemote(scenario)
	}
	return ptytest.Helper(mode)
}

// proc is one xferterm process on a terminal owned by the test.
type proc struct {
	t *testing.T
	*ptytest.Terminal
	cmd    *exec.Cmd
	stderr bytes.Buffer
}

// start runs `xferterm -- <this binary>` in helper mode with stdin from in (nil: the
// terminal) and stdout on the terminal.
func start(t *testing.T, mode string, in *os.File, env ...string) *proc {
	t.Helper()
	return startWith(t, nil, mode, in, env...)
}

// startWith is start with xferterm flags.
func startWith(t *testing.T, flags []string, mode string, in *os.File, env ...string) *proc {
	t.Helper()
	r := &proc{t: t, Terminal: ptytest.NewTerminal(t)}
	r.cmd = ptytest.CommandUnder(append(append([]string{xferterm}, flags...), "--"), mode, env...)
	r.cmd.Stdin, r.cmd.Stdout, r.cmd.Stderr = r.Slave, r.Slave, &r.stderr
	ctty := 0
	if in != nil {
		r.cmd.Stdin, ctty = in, 1
	}
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: ctty}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			_ = r.cmd.Process.Kill() // Best effort: the test failed.
			_ = r.cmd.Wait()
		}
	})
	return r
}

// wait waits for xferterm to exit, checks the terminal was restored, and returns the exit
// status as a shell reports it.
func (r *proc) wait() int {
	r.t.Helper()
	if !ptytest.WaitExit(r.cmd) {
		r.t.Fatalf("xferterm did not exit; stderr %q; output %q", r.stderr.String(), r.Out.Tail(500))
	}
	r.CheckRestored(r.t)
	ws := r.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

func TestPassThroughIsByteExact(t *testing.T) {
	const n = 64 << 20
	r := start(t, "gen", nil, "GEN_BYTES="+strconv.Itoa(n))
	r.Out.Grow(n)
	if code := r.wait(); code != 0 {
		t.Fatalf("exit status %d; stderr %q", code, r.stderr.String())
	}
	got := r.Drain(t)
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
			r.Out.WaitForString(t, "READY")
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
	r.Out.WaitForString(t, "SIZE 30 100")
	for _, ws := range []unix.Winsize{{Row: 40, Col: 120}, {Row: 12, Col: 33}} {
		if err := unix.IoctlSetWinsize(int(r.Master.Fd()), unix.TIOCSWINSZ, &ws); err != nil {
			t.Fatal(err)
		}
		r.Out.WaitForString(t, fmt.Sprintf("SIZE %d %d", ws.Row, ws.Col))
	}
	if _, err := r.Master.Write([]byte("q")); err != nil {
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
		if out := r.Drain(t); !bytes.Contains(out, []byte(`GOT ""`)) {
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
		if out := r.Drain(t); !bytes.Contains(out, []byte(`GOT "hello\nworld"`)) {
			t.Errorf("output %q", out)
		}
	})
}

func TestStdoutFailureRestoresAndEnds(t *testing.T) {
	tm := ptytest.NewTerminal(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	_ = pr.Close() // stdout is a pipe nobody reads: the first write fails with EPIPE.
	var stderr bytes.Buffer
	cmd := ptytest.CommandUnder([]string{xferterm, "--"}, "gen", "GEN_BYTES=1000000")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tm.Slave, pw, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = pw.Close()
	if !ptytest.WaitExit(cmd) {
		t.Fatal("xferterm did not exit")
	}
	if cmd.ProcessState.ExitCode() == 0 || !strings.Contains(stderr.String(), "proxy: write to terminal") {
		t.Errorf("exit %v, stderr %q; want a failure naming the terminal write", cmd.ProcessState, stderr.String())
	}
	tm.CheckRestored(t)
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
		if code := run(tc.args, fs.DefaultUmask, os.Stdin, os.Stdout, &stderr, os.Getenv); code != tc.want || !strings.Contains(stderr.String(), "usage: xferterm") {
			t.Errorf("run(%q) = %d, stderr %q; want %d and the usage", tc.args, code, stderr.String(), tc.want)
		}
	}
}
