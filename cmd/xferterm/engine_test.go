package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/term"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/proxy"
	"github.com/xferterm/xferterm/scanner"
)

// TestSendSmallFileThroughTheRealEngine runs a strict client (helperStrictSend) under
// proxy.Run with the real fs engine and an approver that allows everything: the file
// must arrive intact, and no protocol byte may reach the terminal.
func TestSendSmallFileThroughTheRealEngine(t *testing.T) {
	home := t.TempDir()
	src := make([]byte, 300_000)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	srcPath := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(srcPath, src, 0o600); err != nil {
		t.Fatal(err)
	}
	eng, err := fs.NewEngine(fs.Config{Home: home, Approver: fs.FixedApprover{Allow: true, How: "policy"}})
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, "", nil) // only its pty: Run is in-process here
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=strict-send", "GORACE=atexit_sleep_ms=0",
		"SEND_SRC="+srcPath, "SEND_DST=received/file.bin")
	console := proxy.NewConsole(r.slave, r.slave)
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
			t.Fatalf("Run = %d, %v; output %q", res.code, res.err, r.out.tail(500))
		}
	case <-time.After(waitTimeout):
		t.Fatalf("Run did not return; output %q", r.out.tail(500))
	}
	r.out.waitForString(t, "DONE")
	got, err := os.ReadFile(filepath.Join(home, "received/file.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, src) {
		t.Errorf("received %d bytes that differ from the %d sent", len(got), len(src))
	}
	if out := r.out.bytes(); bytes.Contains(out, []byte("5113")) {
		t.Errorf("protocol bytes reached the terminal: %q", tailOf(out, 300))
	}
}

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
		fmt.Printf("\r\nFAIL %v\r\n", strings.ReplaceAll(err.Error(), "\x1b", "^["))
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
	fmt.Print("\r\nDONE\r\n")
	return 0
}
