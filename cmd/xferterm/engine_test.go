package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/internal/ptytest"
	"github.com/xferterm/xferterm/proxy"
	"github.com/xferterm/xferterm/transfer"
)

// TestSendSmallFileThroughTheRealEngine runs a strict client (ptytest.StrictSend) under
// proxy.Run with the real fs engine and an approver that allows everything: the file
// must arrive intact, and no protocol byte may reach the terminal.
func TestSendSmallFileThroughTheRealEngine(t *testing.T) {
	home := t.TempDir()
	srcPath, src := ptytest.SendSource(t, 300_000, 5)
	eng, err := fs.NewEngine(fs.Config{Home: home, Approver: transfer.Fixed{Allow: true, How: "policy"}})
	if err != nil {
		t.Fatal(err)
	}
	tm := ptytest.NewTerminal(t) // Run is in-process here
	cmd := ptytest.Command("strict-send", "SEND_SRC="+srcPath, "SEND_DST=received/file.bin")
	console := proxy.NewConsole(tm.Slave, tm.Slave)
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := proxy.Run(t.Context(), cmd, proxy.Config{Console: console, Engine: eng})
		done <- result{code, err}
	}()
	select {
	case res := <-done:
		if res.code != 0 || res.err != nil {
			t.Fatalf("Run = %d, %v; output %q", res.code, res.err, tm.Out.Tail(500))
		}
	case <-time.After(ptytest.WaitTimeout):
		t.Fatalf("Run did not return; output %q", tm.Out.Tail(500))
	}
	ptytest.CheckStrictSend(t, tm.Out, filepath.Join(home, "received/file.bin"), src)
}
