package client_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xferterm/xferterm/client"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// kittyLike answers a send session like kitty's terminal side, without a disk: OK to
// send, STARTED or OK to each file, OK after each end_data, and CANCELED to cancel.
// misbehave, if set, may replace the answer to a command (returning true).
func kittyLike(misbehave func(tm *terminal, c scanner.Command) bool) func(tm *terminal, p []byte) {
	return func(tm *terminal, p []byte) {
		c, err := scanner.Parse(p)
		if err != nil {
			tm.t.Errorf("bad payload %q: %v", p, err)
			return
		}
		if misbehave != nil && misbehave(tm, c) {
			return
		}
		st := scanner.Command{Action: scanner.ActionStatus, ID: c.ID, FileID: c.FileID}
		switch c.Action {
		case scanner.ActionSend:
			st.Status = "OK"
		case scanner.ActionCancel:
			st.Status = "CANCELED"
		case scanner.ActionFile:
			st.Status, st.Name = "STARTED", "/home/x/"+c.Name
			if c.FileType == scanner.FileDirectory {
				st.Status = "OK"
			}
		case scanner.ActionEndData:
			st.Status = "OK" // No sz: the fake does not count what it received.
		default:
			return
		}
		tm.reply(st)
	}
}

// TestOKSizeChecked: an OK whose sz is not the number of bytes sent fails the file: whole
// packets lost on the way (a multiplexer drops what it passes through while it redraws) leave
// a short file that the terminal cannot tell from a complete one.
func TestOKSizeChecked(t *testing.T) {
	_, err := runWith(t, sendOpts(t, "data"), nil, kittyLike(func(tm *terminal, c scanner.Command) bool {
		if c.Action != scanner.ActionEndData {
			return false
		}
		tm.reply(scanner.Command{Action: scanner.ActionStatus, ID: c.ID, FileID: c.FileID, Status: "OK", Size: scanner.Some(1)})
		return true
	}))
	var failed *client.FailedError
	if !errors.As(err, &failed) || !strings.Contains(err.Error(), "the terminal wrote 1 bytes, 4 were sent") {
		t.Fatalf("Run: %v, want a FailedError saying 1 of 4 bytes were written", err)
	}
}

func sendOpts(t *testing.T, content string) client.Options {
	dir := t.TempDir()
	writeFile(t, dir, "f", content, 0o644)
	return client.Options{Args: []string{"f", "g"}, Cwd: dir, Timeout: 300 * time.Millisecond, CancelWait: 200 * time.Millisecond}
}

func TestFakeTerminal(t *testing.T) {
	tests := []struct {
		name      string
		misbehave func(tm *terminal, c scanner.Command) bool
		want      error
		wantText  string
	}{
		{name: "a well-behaved terminal", want: nil},
		{name: "no acknowledgement after the data times out",
			misbehave: func(tm *terminal, c scanner.Command) bool { return c.Action == scanner.ActionEndData },
			want:      client.ErrTimeout, wantText: "acknowledge"},
		{name: "no STARTED times out",
			misbehave: func(tm *terminal, c scanner.Command) bool { return c.Action == scanner.ActionFile },
			want:      client.ErrTimeout},
		{name: "OK before the data is a protocol error",
			misbehave: func(tm *terminal, c scanner.Command) bool {
				if c.Action == scanner.ActionFile {
					tm.reply(scanner.Command{Action: scanner.ActionStatus, ID: c.ID, FileID: c.FileID, Status: "OK"})
					return true
				}
				return false
			},
			want: client.ErrProtocol, wantText: "unexpected OK"},
		{name: "data the client did not ask for is a protocol error",
			misbehave: func(tm *terminal, c scanner.Command) bool {
				if c.Action == scanner.ActionFile {
					tm.reply(scanner.Command{Action: scanner.ActionStatus, ID: c.ID, FileID: c.FileID, Status: "STARTED"})
					tm.reply(scanner.Command{Action: scanner.ActionData, ID: c.ID, FileID: c.FileID, Data: []byte("sig")})
					return true
				}
				return false
			},
			want: client.ErrProtocol},
		{name: "a status for an unknown file is a protocol error",
			misbehave: func(tm *terminal, c scanner.Command) bool {
				if c.Action == scanner.ActionFile {
					tm.reply(scanner.Command{Action: scanner.ActionStatus, ID: c.ID, FileID: "99", Status: "STARTED"})
					return true
				}
				return false
			},
			want: client.ErrProtocol, wantText: "unknown file id"},
		{name: "replies for another session are ignored",
			misbehave: func(tm *terminal, c scanner.Command) bool {
				tm.reply(scanner.Command{Action: scanner.ActionStatus, ID: "other", Status: "EPERM:no"})
				return false
			},
			want: nil},
		{name: "an error status from the terminal is shown sanitized",
			misbehave: func(tm *terminal, c scanner.Command) bool {
				if c.Action == scanner.ActionSend {
					tm.reply(scanner.Command{Action: scanner.ActionStatus, ID: c.ID, Status: "EPERM:no\x1b[2J"})
					return true
				}
				return false
			},
			want: client.ErrPermissionDenied, wantText: `EPERM:no\x1b[2J`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm, err := runWith(t, sendOpts(t, "data"), nil, kittyLike(tt.misbehave))
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("Run: %v, want %v containing %q", err, tt.want, tt.wantText)
			}
			if strings.Contains(err.Error(), "\x1b") {
				t.Errorf("error %q carries an escape", err)
			}
			// After the session started, a failure cancels it.
			p := tm.Payloads()
			if !errors.Is(tt.want, client.ErrPermissionDenied) && !strings.Contains(p[len(p)-1], "ac=cancel") {
				t.Errorf("last payload %q, want a cancel", p[len(p)-1])
			}
		})
	}
}

// Without KITTY_PUBLIC_KEY the password is never sent: Run refuses before writing.
func TestPasswordNeverInTheClear(t *testing.T) {
	for _, dir := range []transfer.Direction{transfer.Send, transfer.Receive} {
		opts := sendOpts(t, "x")
		opts.Direction = dir
		opts.Password = "hunter2"
		tm, err := runWith(t, opts, nil, kittyLike(nil))
		if !errors.Is(err, client.ErrNoPublicKey) {
			t.Fatalf("Run: %v, want ErrNoPublicKey", err)
		}
		if p := tm.Payloads(); len(p) != 0 {
			t.Errorf("payloads written: %q", p)
		}
	}
	opts := sendOpts(t, "x")
	opts.Password, opts.PublicKey = "hunter2", "1:garbage"
	opts.EncodeBypass = func(string, string, string, time.Time) (string, error) { return "", errors.New("bad key") }
	if tm, err := runWith(t, opts, nil, kittyLike(nil)); err == nil || len(tm.Payloads()) != 0 {
		t.Errorf("Run with a bad key: %v, %d payloads; want an error before anything is written", err, len(tm.Payloads()))
	}
}

// Cancelling the context (SIGINT, SIGTERM) cancels the transfer cleanly.
func TestContextCancel(t *testing.T) {
	opts := sendOpts(t, "data")
	opts.Timeout = time.Minute
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	tm, err := runWithContext(t, ctx, opts, nil, kittyLike(func(tm *terminal, c scanner.Command) bool {
		if c.Action == scanner.ActionSend {
			cancel() // and never answer the send
			return true
		}
		return false
	}))
	if !errors.Is(err, client.ErrCanceled) {
		t.Fatalf("Run: %v, want ErrCanceled", err)
	}
	if p := tm.Payloads(); len(p) != 2 || !strings.Contains(p[1], "ac=cancel") {
		t.Errorf("payloads %q, want send then cancel", p)
	}
}

// The tty display redraws in place and leaves a summary line.
func TestTTYDisplay(t *testing.T) {
	opts := sendOpts(t, textData(20000))
	opts.Progress = client.ProgressTTY
	tm, err := runWith(t, opts, nil, kittyLike(nil))
	if err != nil {
		t.Fatal(err)
	}
	text := string(tm.text)
	if !strings.HasSuffix(text, "\r\n") || !strings.Contains(text, "sent 1 file(s), 19.5 KiB") {
		t.Errorf("tty text %q lacks the summary", text)
	}
	if strings.Contains(text, "\x1b[?1049h") {
		t.Error("alternate screen used")
	}
}

// A receive where the terminal reports a per-file error after the listing: that file
// fails, the other arrives, finish is sent, and nothing hangs.
func TestFakeReceiveOneFileFails(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a", "old a", 0o644)
	opts := client.Options{Direction: transfer.Receive, Args: []string{"src", "out"}, Cwd: dir,
		Timeout: 2 * time.Second, CancelWait: 200 * time.Millisecond}
	tm, err := runWith(t, opts, nil, func(tm *terminal, p []byte) {
		c, _ := scanner.Parse(p)
		st := func(fid, status string) scanner.Command {
			return scanner.Command{Action: scanner.ActionStatus, ID: c.ID, FileID: fid, Status: status}
		}
		switch {
		case c.Action == scanner.ActionFile && c.FileID == "0":
			tm.reply(st("", "OK"))
			tm.reply(scanner.Command{Action: scanner.ActionFile, ID: c.ID, FileID: "0", Name: "/h/src", Status: "0", FileType: scanner.FileDirectory})
			tm.reply(scanner.Command{Action: scanner.ActionFile, ID: c.ID, FileID: "0", Name: "/h/src/a", Status: "1", Parent: "0", Size: scanner.Some(3)})
			tm.reply(scanner.Command{Action: scanner.ActionFile, ID: c.ID, FileID: "0", Name: "/h/src/b", Status: "2", Parent: "0", Size: scanner.Some(3)})
			tm.reply(scanner.Command{Action: scanner.ActionStatus, ID: c.ID, Name: "/h", Status: "OK"})
		case c.Action == scanner.ActionFile && c.Name == "/h/src/a":
			tm.reply(scanner.Command{Action: scanner.ActionData, ID: c.ID, FileID: c.FileID, Data: []byte("ne")})
			tm.reply(st(c.FileID, "EIO:Failed to read data from file"))
		case c.Action == scanner.ActionFile && c.Name == "/h/src/b":
			tm.reply(scanner.Command{Action: scanner.ActionEndData, ID: c.ID, FileID: c.FileID, Data: []byte("bbb")})
		}
	})
	var fe *client.FailedError
	if !errors.As(err, &fe) || fe.Failed != 1 || !strings.Contains(err.Error(), "EIO:Failed to read data") {
		t.Fatalf("Run: %v, want one failed file", err)
	}
	if got := mustRead(t, filepath.Join(dir, "out/b")); got != "bbb" {
		t.Errorf("out/b = %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "out/a")); err == nil {
		t.Error("a partial out/a was left")
	}
	if p := tm.Payloads(); !strings.Contains(p[len(p)-1], "ac=finish") {
		t.Errorf("last payload %q, want finish", p[len(p)-1])
	}
	noTemps(t, dir)
}

// A listing that would write outside the destination is refused.
func TestFakeReceiveHostileNames(t *testing.T) {
	for _, name := range []string{"/h/..", "/", "/h/src/.."} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			opts := client.Options{Direction: transfer.Receive, Args: []string{"src", "out/"}, Cwd: dir,
				Timeout: 2 * time.Second, CancelWait: 50 * time.Millisecond}
			_, err := runWith(t, opts, nil, func(tm *terminal, p []byte) {
				c, _ := scanner.Parse(p)
				if c.Action == scanner.ActionFile && c.FileID == "0" {
					tm.reply(scanner.Command{Action: scanner.ActionStatus, ID: c.ID, Status: "OK"})
					tm.reply(scanner.Command{Action: scanner.ActionFile, ID: c.ID, FileID: "0", Name: name, Status: "0", Size: scanner.Some(1)})
					tm.reply(scanner.Command{Action: scanner.ActionStatus, ID: c.ID, Name: "/h", Status: "OK"})
				}
			})
			if !errors.Is(err, client.ErrProtocol) || !strings.Contains(err.Error(), "unsafe name") {
				t.Fatalf("Run: %v, want an unsafe name error", err)
			}
		})
	}
}
