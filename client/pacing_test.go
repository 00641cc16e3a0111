package client_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xferterm/xferterm/client"
	"github.com/xferterm/xferterm/scanner"
)

// quiet is how long the lazy terminal waits without a payload before it answers: the
// client has stopped writing, waiting for it.
const quiet = 150 * time.Millisecond

// lazyTerminal answers a send like kitty's terminal side, but only once the client has
// been quiet for a while: every status it owes, and a PROGRESS for the data, is held back
// until then. It records the most it had received and not answered.
type lazyTerminal struct {
	mu       sync.Mutex // guards everything below
	held     []scanner.Command
	data     int64 // file bytes received
	perFile  map[string]int64
	acked    int64 // of them, reported in a PROGRESS
	timer    *time.Timer
	maxData  int64 // the most file bytes received and not acknowledged
	maxOwed  int   // the most statuses owed at once
	ownedEst int   // their estimate, at maxOwed
	maxEst   int   // the most estimated bytes of statuses owed at once
	progress bool  // send a PROGRESS for the data (sends of one file only)
}

func (l *lazyTerminal) handle(tm *terminal, p []byte) {
	c, err := scanner.Parse(p)
	if err != nil {
		tm.t.Errorf("bad payload %q: %v", p, err)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := scanner.Command{Action: scanner.ActionStatus, ID: c.ID, FileID: c.FileID}
	switch c.Action {
	case scanner.ActionSend:
		tm.reply(scanner.Command{Action: scanner.ActionStatus, ID: c.ID, Status: "OK"})
		return
	case scanner.ActionFile:
		st.Status, st.Name = "STARTED", c.Name
		if c.FileType == scanner.FileDirectory {
			st.Status = "OK"
		}
	case scanner.ActionData, scanner.ActionEndData:
		if l.perFile == nil {
			l.perFile = make(map[string]int64)
		}
		l.data += int64(len(c.Data))
		l.perFile[c.FileID] += int64(len(c.Data))
		if c.Action == scanner.ActionEndData {
			st.Status, st.Size = "OK", scanner.Some(l.perFile[c.FileID])
		}
	default:
		return
	}
	if st.Status != "" {
		l.held = append(l.held, st)
	}
	l.maxData = max(l.maxData, l.data-l.acked)
	est := 0
	for _, h := range l.held {
		est += client.ReplyEstimate(h.ID, h.FileID, h.Name)
	}
	if len(l.held) > l.maxOwed {
		l.maxOwed, l.ownedEst = len(l.held), est
	}
	l.maxEst = max(l.maxEst, est)
	if l.timer != nil {
		l.timer.Stop()
	}
	l.timer = time.AfterFunc(quiet, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.progress && l.data > l.acked {
			l.acked = l.data
			tm.reply(scanner.Command{Action: scanner.ActionStatus, ID: c.ID, FileID: "1", Status: "PROGRESS", Size: scanner.Some(l.data)})
		}
		for _, h := range l.held {
			tm.reply(h)
		}
		l.held = nil
	})
}

func (l *lazyTerminal) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.timer != nil {
		l.timer.Stop()
	}
}

// TestSendWindow: with a window, the client stops writing once that much of the file is
// unacknowledged, and goes on with each PROGRESS; without one it writes the whole file at
// once (the pty is its only brake).
func TestSendWindow(t *testing.T) {
	const size, window = 1 << 20, 256 << 10
	for _, tc := range []struct {
		window int64
		most   int64 // the most file bytes unacknowledged the terminal may see
	}{
		{window, window + 128<<10}, // a write (64 KiB) and a read (64 KiB) past the window
		{0, size},
	} {
		t.Run(fmt.Sprintf("window %d", tc.window), func(t *testing.T) {
			opts := sendOpts(t, randomData(4, size))
			opts.Compress = client.CompressNever
			opts.SendWindow = tc.window
			opts.Timeout = 10 * time.Second
			l := &lazyTerminal{progress: true}
			_, err := runWith(t, opts, nil, l.handle)
			l.stop()
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if l.maxData > tc.most {
				t.Errorf("the terminal saw %d bytes unacknowledged, want at most %d", l.maxData, tc.most)
			}
			if tc.window == 0 && l.maxData != size {
				t.Errorf("without a window the client wrote %d bytes before the first PROGRESS, want all %d", l.maxData, size)
			}
		})
	}
}

// TestReplyBudget: with a reply budget, the client never has more file commands and end_data
// unanswered than their estimated statuses fit in; without one it sends them all at once.
func TestReplyBudget(t *testing.T) {
	dir := t.TempDir()
	const files = 12 // file ids 1…c: one hex digit, so every estimate is the same
	for i := range files {
		writeFile(t, dir, fmt.Sprintf("tree/f%02d", i), "x", 0o644)
	}
	id := "cafe0001"
	est := client.ReplyEstimate(id, "1", "dst/tree/f00")
	for _, tc := range []struct {
		budget int
		most   int // the most statuses owed at once
	}{
		{3 * est, 3},
		{0, files + 1}, // the directory and every file
	} {
		t.Run(fmt.Sprintf("budget %d", tc.budget), func(t *testing.T) {
			opts := client.Options{Args: []string{"tree", "dst"}, Cwd: dir, SessionID: id, ReplyBudget: tc.budget, Timeout: 10 * time.Second}
			l := &lazyTerminal{}
			_, err := runWith(t, opts, nil, l.handle)
			l.stop()
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if l.maxOwed > tc.most {
				t.Errorf("%d statuses owed at once (estimated %d bytes), want at most %d", l.maxOwed, l.ownedEst, tc.most)
			}
			if tc.budget > 0 && l.maxEst > tc.budget {
				t.Errorf("statuses of %d bytes owed at once, over the budget of %d", l.maxEst, tc.budget)
			}
			if tc.budget == 0 && l.maxOwed != tc.most {
				t.Errorf("without a budget %d statuses were owed at most, want all %d", l.maxOwed, tc.most)
			}
		})
	}
}

// TestSendWindowLostData: data lost on the way (a multiplexer redrawing) leaves the window
// full; the probe shows that the terminal has caught up all the same, and the file fails at
// once with the reason, long before the timeout; the next file goes through. The same for an
// end_data that never arrives, after the last file.
func TestSendWindowLostData(t *testing.T) {
	for _, tc := range []struct {
		name string
		drop func(cmd scanner.Command, packet int) bool
	}{
		{"a run of packets in the middle", func(cmd scanner.Command, packet int) bool {
			return cmd.FileID == "1" && cmd.Action == scanner.ActionData && packet >= 20 && packet < 120
		}},
		{"the last end_data", func(cmd scanner.Command, _ int) bool {
			return cmd.FileID == "2" && cmd.Action == scanner.ActionEndData
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			local, home := sides(t)
			writeFile(t, local, "a", randomData(5, 2<<20), 0o644)
			writeFile(t, local, "b", "bbb", 0o644)
			packets := 0
			start := time.Now()
			const timeout = 10 * time.Second
			opts := client.Options{Args: []string{"a", "b", "."}, Cwd: local, Compress: client.CompressNever,
				SendWindow: 256 << 10, Timeout: timeout}
			_, err := runEngine(t, home, allow, opts, func(l *link) {
				l.drop = func(cmd scanner.Command) bool {
					if cmd.Action == scanner.ActionData {
						packets++
					}
					return tc.drop(cmd, packets)
				}
			})
			var failed *client.FailedError
			if !errors.As(err, &failed) || failed.Failed != 1 || !strings.Contains(err.Error(), "data was lost on the way") {
				t.Fatalf("Run: %v, want one file failed because data was lost", err)
			}
			if d := time.Since(start); d > timeout/2 {
				t.Errorf("the loss was found after %v, want well before the timeout (%v)", d, timeout)
			}
			lost, kept := "a", "b"
			if tc.name == "the last end_data" {
				lost, kept = "b", "a"
			}
			if got := mustRead(t, filepath.Join(home, kept)); got != mustRead(t, filepath.Join(local, kept)) {
				t.Errorf("%s did not arrive whole", kept)
			}
			if _, err := statErr(filepath.Join(home, lost)); err == nil {
				t.Errorf("%s was written", lost)
			}
			noTemps(t, home)
		})
	}
}

func statErr(p string) (os.FileInfo, error) { return os.Lstat(p) }
