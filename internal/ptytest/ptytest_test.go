package ptytest_test

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/xferterm/xferterm/internal/ptytest"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(ptytest.HelperEnv); mode != "" {
		os.Exit(ptytest.Helper(mode))
	}
	os.Exit(m.Run())
}

func TestHelperExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode string
		env  []string
		want int
	}{
		{"exit passes EXIT_CODE on", "exit", []string{"EXIT_CODE=3"}, 3},
		{"an unknown mode is 100", "no-such-mode", nil, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := ptytest.Command(tc.mode, tc.env...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if !ptytest.WaitExit(cmd) {
				t.Fatal("the helper did not exit")
			}
			if got := cmd.ProcessState.ExitCode(); got != tc.want {
				t.Errorf("exit code %d, want %d", got, tc.want)
			}
		})
	}
}

// The helper "block" on a Terminal: its output is collected, it reads what is typed,
// and once it has exited and the test's slave is closed, Drain sees the end.
func TestTerminalRunsAHelper(t *testing.T) {
	tm := ptytest.NewTerminal(t)
	cmd := ptytest.Command("block")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tm.Slave, tm.Slave, tm.Slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tm.Out.WaitForString(t, "READY")
	tm.Type(t, "typed\n\x04") // cooked mode: the line, then EOF
	if !ptytest.WaitExit(cmd) {
		t.Fatal("the helper did not exit")
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d", code)
	}
	tm.CheckRestored(t)
	if out := string(tm.Drain(t)); !strings.HasPrefix(out, "READY\r\n") || !strings.Contains(out, "typed") {
		t.Errorf("the terminal shows %q, want READY and the echo of the typed line", out)
	}
}

func TestTail(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abcdef", 2, "ef"},
		{"ab", 5, "ab"},
		{"", 1, ""},
	} {
		if got := string(ptytest.Tail([]byte(tc.in), tc.n)); got != tc.want {
			t.Errorf("Tail(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
