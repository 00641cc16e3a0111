package client_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xferterm/xferterm/client"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// The client handles the data packets of a received file on its tty reader's goroutine
// (the session loop hears of them only when something changes what it sends). These
// tests pin what the loop must still see: the idle timeout, a file that fails mid-way,
// and the order of replies.

// oneFileTerminal answers a receive of one regular file of size bytes (receiveTerminal).
func oneFileTerminal(t *testing.T, size int64, data func(tm *terminal, id, fid string)) func(tm *terminal, p []byte) {
	return receiveTerminal(t, []int64{size}, data)
}

// receiveTerminal answers a receive of regular files, one per spec with the sizes
// given, like the terminal side: OK, the listing (an entry per spec, the final OK after
// the last), then, for each request, data(tm, id, fid) on a goroutine of its own (the
// terminal must go on reading) to write the file's data. Finish gets no answer.
func receiveTerminal(t *testing.T, sizes []int64, data func(tm *terminal, id, fid string)) func(tm *terminal, p []byte) {
	listed := false // the specs and the requests both come as ac=file
	return func(tm *terminal, p []byte) {
		c, err := scanner.Parse(p)
		if err != nil {
			t.Errorf("bad payload %q: %v", p, err)
			return
		}
		switch {
		case c.Action == scanner.ActionReceive:
			tm.reply(scanner.Command{Action: scanner.ActionStatus, ID: c.ID, Status: "OK"})
		case c.Action == scanner.ActionFile && !listed:
			k, err := strconv.Atoi(c.FileID)
			if err != nil || k >= len(sizes) {
				t.Errorf("spec %q", c.FileID)
				return
			}
			tm.reply(scanner.Command{Action: scanner.ActionFile, ID: c.ID, FileID: c.FileID, Status: strconv.Itoa(k + 1),
				Name: "/home/x/" + c.Name, FileType: scanner.FileRegular, Size: scanner.Some(sizes[k]),
				Permissions: scanner.Some(int64(0o644))})
			if k == len(sizes)-1 {
				tm.reply(scanner.Command{Action: scanner.ActionStatus, ID: c.ID, Status: "OK", Name: "/home/x"})
				listed = true
			}
		case c.Action == scanner.ActionFile:
			go data(tm, c.ID, c.FileID)
		}
	}
}

func receiveOpts(t *testing.T, timeout time.Duration) (client.Options, string) {
	dir := t.TempDir()
	return client.Options{Direction: transfer.Receive, Compress: client.CompressNever, Args: []string{"f", "got"},
		Cwd: dir, Timeout: timeout, CancelWait: 100 * time.Millisecond}, filepath.Join(dir, "got")
}

// TestReceiveSlowDataIsProgress: data packets that arrive further apart than nothing but
// together last several idle timeouts keep the session alive; the file is complete.
func TestReceiveSlowDataIsProgress(t *testing.T) {
	const timeout = 300 * time.Millisecond
	const packets = 8 // one every timeout/3: the transfer lasts well over 2 timeouts
	opts, dst := receiveOpts(t, timeout)
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 256) // 4096 bytes
	_, err := runWith(t, opts, nil, oneFileTerminal(t, packets*int64(len(chunk)), func(tm *terminal, id, fid string) {
		for i := range packets {
			action := scanner.ActionData
			if i == packets-1 {
				action = scanner.ActionEndData
			}
			time.Sleep(timeout / 3) // The pace under test: slow, but never silent for a whole timeout.
			tm.reply(scanner.Command{Action: action, ID: id, FileID: fid, Data: chunk})
		}
	}))
	if err != nil {
		t.Fatalf("Run: %v, want success", err)
	}
	got, err := os.ReadFile(dst)
	if err != nil || !bytes.Equal(got, bytes.Repeat(chunk, packets)) {
		t.Fatalf("the copy has %d bytes (%v), want %d", len(got), err, packets*len(chunk))
	}
}

// TestReceiveSilenceAfterData: once data stops coming, the idle timeout still ends the
// session, although the loop never saw the data packets.
func TestReceiveSilenceAfterData(t *testing.T) {
	const timeout = 200 * time.Millisecond
	opts, dst := receiveOpts(t, timeout)
	start := time.Now()
	_, err := runWith(t, opts, nil, oneFileTerminal(t, 1<<20, func(tm *terminal, id, fid string) {
		for range 3 {
			tm.reply(scanner.Command{Action: scanner.ActionData, ID: id, FileID: fid, Data: make([]byte, 4096)})
		}
	}))
	if !errors.Is(err, client.ErrTimeout) || !strings.Contains(err.Error(), "waiting for file data") {
		t.Fatalf("Run: %v, want a timeout waiting for file data", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("the timeout took %v", el)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a partial copy is in place: %v", err)
	}
	noTemps(t, filepath.Dir(dst))
}

// TestReceiveFileFailsMidway: a data packet that fails its file (here: not zlib, though
// the client asked for zlib) is handled on the reader's goroutine; the loop must hear of
// it, send finish (nothing else is pending) and report the failure, not wait for data
// that will not come.
func TestReceiveFileFailsMidway(t *testing.T) {
	opts, dst := receiveOpts(t, 5*time.Second)
	opts.Compress = client.CompressAlways
	var mu sync.Mutex
	finished := false
	handle := oneFileTerminal(t, 1<<20, func(tm *terminal, id, fid string) {
		tm.reply(scanner.Command{Action: scanner.ActionData, ID: id, FileID: fid, Data: []byte("not a zlib stream at all")})
	})
	_, err := runWith(t, opts, nil, func(tm *terminal, p []byte) {
		if c, err := scanner.Parse(p); err == nil && c.Action == scanner.ActionFinish {
			mu.Lock()
			finished = true
			mu.Unlock()
		}
		handle(tm, p)
	})
	var failed *client.FailedError
	if !errors.As(err, &failed) || failed.Failed != 1 {
		t.Fatalf("Run: %v, want one failed file", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !finished {
		t.Error("no finish was sent after the only file failed")
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed copy is in place: %v", err)
	}
}

// TestReceiveRepliesInOrder: replies are handled in the order they came, whichever
// goroutine handles them: a data packet that follows its file's end_data in the same
// write is data after the end, a protocol error, although the end_data waits for the
// loop while plain data could be handled at once. (A second file, never sent, keeps the
// session from ending before the reply after the end is handled.)
func TestReceiveRepliesInOrder(t *testing.T) {
	opts, _ := receiveOpts(t, 5*time.Second)
	opts.Args = []string{"f", "g", "dir"}
	_, err := runWith(t, opts, nil, receiveTerminal(t, []int64{8192, 8192}, func(tm *terminal, id, fid string) {
		if fid != "1" {
			return // The second file never comes.
		}
		var b []byte
		for _, action := range []scanner.Action{scanner.ActionData, scanner.ActionEndData, scanner.ActionData} {
			d := scanner.Command{Action: action, ID: id, FileID: fid, Data: make([]byte, 4096)}
			b = d.AppendOSC(b)
		}
		tm.write(b)
	}))
	if !errors.Is(err, client.ErrProtocol) || !strings.Contains(err.Error(), "after its end") {
		t.Fatalf("Run: %v, want a protocol error for data after the end", err)
	}
}
