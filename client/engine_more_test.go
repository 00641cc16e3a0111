package client_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xferterm/xferterm/client"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// Failures, cancels, deltas and modes against the real engine.

func TestEngineDenied(t *testing.T) {
	for _, dir := range []transfer.Direction{transfer.Send, transfer.Receive} {
		t.Run(dir.String(), func(t *testing.T) {
			local, home := sides(t)
			writeFile(t, local, "f", "x", 0o644)
			writeFile(t, home, "f", "x", 0o644)
			_, err := runEngine(t, home, transfer.Fixed{Allow: false}, client.Options{Direction: dir, Args: []string{"f", "g"}, Cwd: local}, nil)
			if !errors.Is(err, client.ErrPermissionDenied) || !strings.Contains(err.Error(), "permission denied") {
				t.Fatalf("Run: %v, want permission denied", err)
			}
			if _, err := os.Stat(filepath.Join(home, "g")); err == nil {
				t.Error("file written although denied")
			}
			if _, err := os.Stat(filepath.Join(local, "g")); err == nil {
				t.Error("file received although denied")
			}
		})
	}
}

// Ctrl+C while data flows cancels cleanly, and no partial file is left on either side,
// nor does it replace an existing good file.
func TestEngineCancelMidTransfer(t *testing.T) {
	for _, tc := range []struct {
		name string
		dir  transfer.Direction
		key  string
	}{
		{"send, legacy ctrl+c", transfer.Send, "\x03"},
		{"send, kitty keyboard ctrl+c", transfer.Send, "\x1b[99;5u"},
		{"receive, legacy ctrl+c", transfer.Receive, "\x03"},
		{"receive, kitty keyboard esc", transfer.Receive, "\x1b[27u"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			local, home := sides(t)
			big := randomData(3, 8<<20)
			writeFile(t, local, "big", big, 0o644)
			writeFile(t, home, "big", big, 0o644)
			writeFile(t, local, "good", "good", 0o644)
			writeFile(t, home, "good", "good", 0o644)
			var once sync.Once
			_, err := runEngine(t, home, allow, client.Options{Direction: tc.dir, Args: []string{"big", "good"}, Cwd: local},
				func(l *link) {
					l.onPayload = func(l *link, c scanner.Command) {
						// Send: after a few data packets. Receive: once the file is requested.
						if c.Action == scanner.ActionData && c.FileID == "1" || tc.dir == transfer.Receive && c.Action == scanner.ActionFile && c.FileID == "1" {
							once.Do(func() { l.inject(tc.key) })
						}
					}
				})
			if !errors.Is(err, client.ErrCanceled) {
				t.Fatalf("Run: %v, want canceled", err)
			}
			for _, p := range []string{filepath.Join(local, "good"), filepath.Join(home, "good")} {
				if mustRead(t, p) != "good" {
					t.Errorf("%s was replaced by a partial file", p)
				}
			}
			noTemps(t, local, home)
		})
	}
}

// A terminal that never answers gives a timeout error, not a hang.
func TestEngineNeverAnswers(t *testing.T) {
	local, home := sides(t)
	writeFile(t, local, "f", "x", 0o644)
	var never neverApprover
	for _, dir := range []transfer.Direction{transfer.Send, transfer.Receive} {
		t.Run(dir.String(), func(t *testing.T) {
			start := time.Now()
			_, err := runEngine(t, home, never, client.Options{Direction: dir, Args: []string{"f", "g"}, Cwd: local,
				Timeout: 200 * time.Millisecond, CancelWait: 100 * time.Millisecond}, nil)
			if !errors.Is(err, client.ErrTimeout) || !strings.Contains(err.Error(), "waiting for permission") {
				t.Fatalf("Run: %v, want a timeout waiting for permission", err)
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("took %v", el)
			}
		})
	}
}

// neverApprover posts every question for a person who never answers.
type neverApprover struct{}

func (neverApprover) Ask(transfer.Request, func(transfer.Decision)) (transfer.Decision, transfer.Pending) {
	return transfer.Decision{}, neverApprover{}
}

func (neverApprover) Withdraw() {}

// The terminal can abort a transfer: CancelAll makes the engine send CANCELED.
func TestEngineCanceledByTerminal(t *testing.T) {
	local, home := sides(t)
	writeFile(t, local, "big", randomData(4, 4<<20), 0o644)
	var once sync.Once
	_, err := runEngine(t, home, allow, client.Options{Args: []string{"big", "big"}, Cwd: local}, func(l *link) {
		l.onPayload = func(l *link, c scanner.Command) {
			if c.Action == scanner.ActionData {
				once.Do(func() { go l.engine.CancelAll() })
			}
		}
	})
	if !errors.Is(err, client.ErrCanceledByTerminal) {
		t.Fatalf("Run: %v, want canceled by the terminal", err)
	}
	noTemps(t, home)
}

// One file the terminal cannot write fails; the others go through and the transfer
// ends instead of hanging.
func TestEngineOneFileFails(t *testing.T) {
	local, home := sides(t)
	writeFile(t, local, "a", "aaa", 0o644)
	writeFile(t, local, "b", "bbb", 0o644)
	writeFile(t, home, "dest/b/blocker", "", 0o644) // dest/b is a non-empty directory
	_, err := runEngine(t, home, allow, client.Options{Args: []string{"a", "b", "dest/"}, Cwd: local}, nil)
	var fe *client.FailedError
	if !errors.As(err, &fe) || fe.Failed != 1 || fe.Total != 2 {
		t.Fatalf("Run: %v, want 1 of 2 failed", err)
	}
	if mustRead(t, filepath.Join(home, "dest/a")) != "aaa" {
		t.Error("the good file did not arrive")
	}
}

// The only file failing must not hang (the real client does, reference-client.md §4.1).
func TestEngineOnlyFileFails(t *testing.T) {
	local, home := sides(t)
	writeFile(t, local, "b", "bbb", 0o644)
	writeFile(t, home, "b/blocker", "", 0o644)
	_, err := runEngine(t, home, allow, client.Options{Args: []string{"b", "b"}, Cwd: local}, nil)
	var fe *client.FailedError
	if !errors.As(err, &fe) || fe.Failed != 1 {
		t.Fatalf("Run: %v, want the file to fail", err)
	}
}

func TestEngineReceiveMissingSpec(t *testing.T) {
	local, home := sides(t)
	_, err := runEngine(t, home, allow, client.Options{Direction: transfer.Receive, Args: []string{"nope", "x"}, Cwd: local}, nil)
	if err == nil || !strings.Contains(err.Error(), "file not found: nope") {
		t.Fatalf("Run: %v, want file not found", err)
	}
}

// modify returns content with a few bytes changed and some inserted.
func modify(content string) string {
	b := []byte(content)
	for i := 1000; i < len(b); i += len(b) / 7 {
		b[i] ^= 0xff
	}
	mid := len(b) / 2
	return string(b[:mid]) + "INSERTED" + string(b[mid:])
}

func TestEngineRsync(t *testing.T) {
	old := randomData(5, 2<<20)
	newer := modify(old)
	for _, dir := range []transfer.Direction{transfer.Send, transfer.Receive} {
		t.Run(dir.String(), func(t *testing.T) {
			local, home := sides(t)
			srcDir, dstDir := local, home
			if dir == transfer.Receive {
				srcDir, dstDir = home, local
			}
			writeFile(t, srcDir, "f.bin", newer, 0o644)
			writeFile(t, dstDir, "f.bin", old, 0o644)
			l, err := runEngine(t, home, allow, client.Options{Direction: dir, TransmitDeltas: true,
				Args: []string{"f.bin", "f.bin"}, Cwd: local}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if mustRead(t, filepath.Join(dstDir, "f.bin")) != newer {
				t.Fatal("patched file differs")
			}
			wire := l.c2t.Load() + l.t2c.Load()
			if wire > int64(len(newer)/4) {
				t.Errorf("%d bytes on the wire for a %d-byte file with small changes: deltas not used?", wire, len(newer))
			}
			noTemps(t, local, home)
		})
	}
}

// The display shows up on the tty and leaves a summary; lines mode writes plain lines.
func TestEngineProgress(t *testing.T) {
	local, home := sides(t)
	writeFile(t, local, "f", textData(50000), 0o644)
	var lines bytes.Buffer
	_, err := runEngine(t, home, allow, client.Options{Args: []string{"f", "g"}, Cwd: local,
		Progress: client.ProgressLines, Stdout: &lines}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(lines.String(), "sent 1 file(s)") {
		t.Errorf("lines output %q has no summary", lines.String())
	}
}

func TestEngineMirror(t *testing.T) {
	local, home := sides(t)
	writeFile(t, local, "docs/sent.txt", "to the terminal", 0o644)
	writeFile(t, home, "docs/kept.txt", "from the terminal", 0o644)
	if _, err := runEngine(t, home, allow, client.Options{Mode: client.Mirror, Args: []string{"docs/sent.txt"},
		Cwd: local, Home: local}, nil); err != nil {
		t.Fatal(err)
	}
	if mustRead(t, filepath.Join(home, "docs/sent.txt")) != "to the terminal" {
		t.Error("send: not mirrored under the terminal's home")
	}
	if _, err := runEngine(t, home, allow, client.Options{Direction: transfer.Receive, Mode: client.Mirror,
		Args: []string{filepath.Join(local, "docs/kept.txt")}, Cwd: "/", Home: local}, nil); err != nil {
		t.Fatal(err)
	}
	if mustRead(t, filepath.Join(local, "docs/kept.txt")) != "from the terminal" {
		t.Error("receive: not mirrored under our home")
	}
}

// TestEngineLostPacket: a data packet lost between the client and the terminal (a multiplexer
// redrawing) fails that file on the terminal's side, because the client announced its size:
// the original stays as it was, no temporary file is left, the other file arrives, and the
// client says that data was lost.
func TestEngineLostPacket(t *testing.T) {
	local, home := sides(t)
	data := randomData(9, 64<<10+77)
	writeFile(t, local, "d/big", data, 0o644)
	writeFile(t, local, "d/small", "small", 0o644)
	writeFile(t, home, "d/big", "the original", 0o644)
	packets := 0
	_, err := runEngine(t, home, allow, client.Options{Args: []string{"d", "."}, Cwd: local, Compress: client.CompressNever},
		func(l *link) {
			l.drop = func(cmd scanner.Command) bool {
				if cmd.Action != scanner.ActionData {
					return false
				}
				packets++
				return packets == 3
			}
		})
	var failed *client.FailedError
	if !errors.As(err, &failed) || failed.Failed != 1 {
		t.Fatalf("Run: %v, want one failed file", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "EIO:Received 61517 bytes, the client announced 65613: data was lost on the way") {
		t.Errorf("the error does not say what the terminal found: %s", msg)
	}
	if got := mustRead(t, filepath.Join(home, "d/big")); got != "the original" {
		t.Errorf("the destination was replaced by a short copy (%d bytes)", len(got))
	}
	if got := mustRead(t, filepath.Join(home, "d/small")); got != "small" {
		t.Errorf("the other file: %q", got)
	}
	noTemps(t, home)
}

// TestEngineFileChangesWhileSent: a file is sent at the size it had when the client scanned
// it: one that grew meanwhile arrives as it was (the size announced), one that shrank fails on
// the client's side and leaves nothing on the terminal's.
func TestEngineFileChangesWhileSent(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  string // what the file holds once scanned
		wantErr string
	}{
		{"grew", strings.Repeat("x", 20000) + "more", ""},
		{"shrank", strings.Repeat("x", 100), "shrank while it was being sent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			local, home := sides(t)
			p := writeFile(t, local, "f", strings.Repeat("x", 20000), 0o644)
			changed := false
			_, err := runEngine(t, home, allow, client.Options{Args: []string{"f", "g"}, Cwd: local, Compress: client.CompressNever},
				func(l *link) {
					// Before the engine answers the file command, so before the client reads.
					l.drop = func(cmd scanner.Command) bool {
						if cmd.Action == scanner.ActionFile && !changed {
							changed = true
							if err := os.WriteFile(p, []byte(tc.change), 0o644); err != nil {
								t.Error(err)
							}
						}
						return false
					}
				})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if got := mustRead(t, filepath.Join(home, "g")); got != strings.Repeat("x", 20000) {
					t.Errorf("the copy has %d bytes, want the 20000 scanned", len(got))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Run: %v, want %q", err, tc.wantErr)
			}
			if _, err := os.Stat(filepath.Join(home, "g")); err == nil {
				t.Error("a copy was written")
			}
			noTemps(t, home)
		})
	}
}
