package ptytest

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/xferterm/xferterm/scanner"
)

// HelperEnv selects a helper: when it is set, TestMain runs the mode it names instead
// of the tests, and exits with the mode's exit code.
const HelperEnv = "XFERTERM_PTYTEST_HELPER"

// Command returns the command that runs this test binary as the helper mode, with env
// added to the environment.
func Command(mode string, env ...string) *exec.Cmd {
	return CommandUnder(nil, mode, env...)
}

// CommandUnder is Command run by another program: prog is its name and arguments, to
// which the helper's command line is appended (e.g. {"xferterm", "--"}).
func CommandUnder(prog []string, mode string, env ...string) *exec.Cmd {
	args := append(prog[:len(prog):len(prog)], os.Args[0], "-test.run=^$")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), append([]string{HelperEnv + "=" + mode, "GORACE=atexit_sleep_ms=0"}, env...)...)
	return cmd
}

// Helper runs a helper mode that proxy and cmd/xferterm both use and returns its exit
// code; for any other mode it says so on stderr and returns 100. The modes:
//   - "block": writes "READY\n", then reads stdin to EOF;
//   - "hold": writes "READY\n", then waits until a signal ends it (a hangup, unlike an EOF
//     on stdin, can then only end it by SIGHUP);
//   - "exit": exits with EXIT_CODE;
//   - "killself": kills itself with SIGKILL;
//   - "catfile": copies CATFILE to stdout from raw mode, as a full-screen program or a
//     client writes its stream;
//   - "strict-send": a strict client, see [StrictSend].
func Helper(mode string) int {
	switch mode {
	case "block":
		fmt.Print("READY\n")
		_, _ = io.Copy(io.Discard, os.Stdin)
		return 0
	case "hold":
		fmt.Print("READY\n")
		for {
			time.Sleep(time.Hour)
		}
	case "exit":
		n, _ := strconv.Atoi(os.Getenv("EXIT_CODE"))
		return n
	case "killself":
		_ = unix.Kill(os.Getpid(), unix.SIGKILL)
		select {}
	case "catfile":
		if _, err := term.MakeRaw(0); err != nil {
			return 101
		}
		f, err := os.Open(os.Getenv("CATFILE"))
		if err != nil {
			return 102
		}
		buf := make([]byte, 64<<10)
		// Hide WriterTo and ReaderFrom: write in 64 KiB pieces, as a program does.
		if _, err := io.CopyBuffer(struct{ io.Writer }{os.Stdout}, f, buf); err != nil {
			return 103
		}
		return 0
	case "strict-send":
		return StrictSend()
	}
	fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
	return 100
}

// SendSource writes n random bytes (a stream fixed by seed) to a new file for
// StrictSend to send, and returns its path and content.
func SendSource(t testing.TB, n int, seed uint64) (path string, content []byte) {
	t.Helper()
	content = make([]byte, n)
	rng := rand.New(rand.NewPCG(seed, seed+1))
	for i := range content {
		content[i] = byte(rng.Uint32())
	}
	path = filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, content
}

// CheckStrictSend checks the end of a StrictSend whose terminal output is out: it
// waits for its "DONE", then checks that the file at path holds the bytes sent and
// that no protocol byte reached the terminal.
func CheckStrictSend(t testing.TB, out *Output, path string, sent []byte) {
	t.Helper()
	out.WaitForString(t, "DONE")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, sent) {
		t.Errorf("received %d bytes that differ from the %d sent", len(got), len(sent))
	}
	if shown := out.Bytes(); bytes.Contains(shown, []byte("5113")) {
		t.Errorf("protocol bytes reached the terminal: %q", Tail(shown, 300))
	}
}

// StrictSend plays a strict client sending SEND_SRC to the name SEND_DST, as
// reference-client.md §4.1 describes: send, wait OK, file, wait STARTED, data packets of
// 4096 bytes, end_data, wait OK, finish. It prints "DONE" on success, and "FAIL" with
// the reason (its escape characters shown as ^[) on failure. It is the helper mode
// "strict-send".
func StrictSend() int {
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
			case <-time.After(WaitTimeout):
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
