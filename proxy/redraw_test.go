package proxy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xferterm/xferterm/internal/ptytest"
	"github.com/xferterm/xferterm/proxy"
	"github.com/xferterm/xferterm/scanner"
)

// TestRedrawAfterBorrow: a borrow over the child's alternate screen (whose content the
// terminal loses) is followed, once no transfer is running, by a one-column resize of the
// child's pty and, after the child's next output, by its real size again: a child such as
// tmux redraws its screen. A child on the normal screen is left alone, and nothing happens
// while a transfer runs.
func TestRedrawAfterBorrow(t *testing.T) {
	for _, tc := range []struct {
		name string
		alt  bool
		want string // the child's size reports after the borrow
	}{
		{"the alternate screen", true, "WINCH 30 99\nWINCH 30 100\n"},
		{"the normal screen", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), ptytest.WaitTimeout)
			defer cancel()
			eng := newFakeEngine(t.TempDir())
			eng.setRunning(true) // The transfer the request started runs.
			var console *proxy.Console
			borrowed := make(chan error, 1)
			eng.onPayload = func(scanner.Command) bool {
				_, _, release, err := console.Borrow(ctx)
				if err == nil {
					release()
				}
				borrowed <- err
				return true
			}
			tm := ptytest.NewTerminal(t) // 100x30
			console = proxy.NewConsole(tm.Slave, tm.Slave)
			env := []string{}
			if tc.alt {
				env = append(env, "ALT=1")
			}
			done := goRun(ctx, ptytest.Command("winch", env...), proxy.Config{Console: console, Engine: eng, TickInterval: 5 * time.Millisecond})
			if err := ptytest.Receive(t, borrowed, "no borrow"); err != nil {
				t.Fatal(err)
			}
			tm.Out.WaitForString(t, "ASKED")
			// Ticks while the transfer runs: no resize.
			for range 3 { // After the second, a nudge the first would start has ended.
				ptytest.Receive(t, eng.ticked, "no tick")
			}
			if strings.Contains(string(tm.Out.Bytes()), "WINCH") {
				t.Fatalf("the child was resized while a transfer ran:\n%q", tm.Out.Bytes())
			}
			eng.setRunning(false)
			for range 3 { // After the second, a nudge the first started has ended.
				ptytest.Receive(t, eng.ticked, "no tick")
			}
			if tc.want != "" {
				tm.Out.WaitFor(t, "the size back", func(b []byte) bool { return strings.Contains(string(b), "WINCH 30 100\n") })
			}
			if _, err := tm.Master.Write([]byte("q")); err != nil {
				t.Fatal(err)
			}
			waitRun(t, done)
			out := string(tm.Out.Bytes())
			var got strings.Builder
			for line := range strings.SplitSeq(out, "\n") {
				if i := strings.Index(line, "WINCH"); i >= 0 {
					got.WriteString(line[i:] + "\n")
				}
			}
			if got.String() != tc.want {
				t.Errorf("size changes %q, want %q", got.String(), tc.want)
			}
		})
	}
}
