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
)

// prompt is the end of the --confirm-paths question.
const prompt = "Type y to go on, or n to cancel."

// answerAtPrompt returns a start function that makes the fake terminal type key once
// the question is on the tty.
func answerAtPrompt(key string) func(tm *terminal) {
	return func(tm *terminal) {
		var once sync.Once
		tm.onText = func(tm *terminal, text []byte) {
			if bytes.Contains(text, []byte(prompt)) {
				once.Do(func() { tm.write([]byte(key)) })
			}
		}
	}
}

// countActions counts the payloads with each of the given actions.
func countActions(t *testing.T, payloads []string, actions ...scanner.Action) int {
	t.Helper()
	n := 0
	for _, p := range payloads {
		c, err := scanner.Parse([]byte(p))
		if err != nil {
			t.Fatalf("bad payload %q: %v", p, err)
		}
		for _, a := range actions {
			if c.Action == a {
				n++
			}
		}
	}
	return n
}

func TestConfirmPaths(t *testing.T) {
	hostile := "evil\x1b[2Jname"
	tests := []struct {
		name    string
		key     string
		wantErr string // "" : success
	}{
		{name: "y goes on", key: "y"},
		{name: "Y goes on", key: "Y"},
		{name: "y as a kitty keyboard event", key: "\x1b[121u"},
		{name: "other keys are ignored until y", key: "xq\ry"},
		{name: "n cancels", key: "n", wantErr: "you answered n"},
		{name: "n as a kitty keyboard event", key: "\x1b[110;1u", wantErr: "you answered n"},
		{name: "legacy ctrl+c cancels", key: "\x03", wantErr: "by the user"},
		{name: "kitty keyboard esc cancels", key: "\x1b[27u", wantErr: "by the user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "f", "content of f", 0o644)
			writeFile(t, dir, hostile, "x", 0o644)
			opts := client.Options{Args: []string{"f", hostile, "dest"}, Cwd: dir, ConfirmPaths: true,
				Timeout: 5 * time.Second, CancelWait: 5 * time.Second}
			tm, err := runWith(t, opts, answerAtPrompt(tt.key), kittyLike(nil))
			p := tm.Payloads()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if n := countActions(t, p, scanner.ActionEndData); n != 2 {
					t.Errorf("%d end_data sent, want 2: %q", n, p)
				}
			} else {
				if !errors.Is(err, client.ErrCanceled) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Run: %v, want canceled, %q", err, tt.wantErr)
				}
				if n := countActions(t, p, scanner.ActionData, scanner.ActionEndData, scanner.ActionFinish); n != 0 {
					t.Errorf("%d data or finish commands sent after a refusal: %q", n, p)
				}
				if !strings.Contains(p[len(p)-1], "ac=cancel") {
					t.Errorf("last payload %q, want ac=cancel", p[len(p)-1])
				}
			}
			tm.mu.Lock()
			text := string(tm.text)
			tm.mu.Unlock()
			for _, want := range []string{"f  →  /home/x/dest/f\r\n", `evil\x1b[2Jname  →  /home/x/dest/evil\x1b[2Jname`, "2 file(s), 13 B in all."} {
				if !strings.Contains(text, want) {
					t.Errorf("question %q lacks %q", text, want)
				}
			}
			if strings.Contains(text, hostile) {
				t.Errorf("question shows a name unsanitized: %q", text)
			}
		})
	}
}

// The question comes only once every file command has its answer, and no data goes
// before y.
func TestConfirmPathsWaitsForEveryAnswer(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a", "aaa", 0o644)
	writeFile(t, dir, "b", "bbb", 0o644)
	opts := client.Options{Args: []string{"a", "b", "dest"}, Cwd: dir, ConfirmPaths: true, Timeout: 5 * time.Second}
	var mu sync.Mutex
	var events []string // "STARTED <fid>", "question", "data"
	note := func(s string) {
		mu.Lock()
		events = append(events, s)
		mu.Unlock()
	}
	start := func(tm *terminal) {
		var once sync.Once
		tm.onText = func(tm *terminal, text []byte) {
			if bytes.Contains(text, []byte(prompt)) {
				once.Do(func() {
					note("question")
					tm.write([]byte("y"))
				})
			}
		}
	}
	var held *scanner.Command
	_, err := runWith(t, opts, start, kittyLike(func(tm *terminal, c scanner.Command) bool {
		switch c.Action {
		case scanner.ActionFile:
			if c.FileID == "1" { // Answer the first file only after the second.
				held = &c
				return true
			}
			note("STARTED " + held.FileID)
			tm.reply(scanner.Command{Action: scanner.ActionStatus, ID: held.ID, FileID: held.FileID, Status: "STARTED", Name: "/h/a"})
			note("STARTED " + c.FileID)
			tm.reply(scanner.Command{Action: scanner.ActionStatus, ID: c.ID, FileID: c.FileID, Status: "STARTED", Name: "/h/b", Size: scanner.Some(3)})
			return true
		case scanner.ActionData, scanner.ActionEndData:
			note("data")
		}
		return false
	}))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"STARTED 1", "STARTED 2", "question", "data", "data"}
	if strings.Join(events, ",") != strings.Join(want, ",") {
		t.Errorf("events %q, want %q", events, want)
	}
}

// The question shows which files exist already, and waits for the user longer than
// the idle timeout, which is for the terminal.
func TestConfirmPathsNoTimeout(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "f", "data", 0o644)
	opts := client.Options{Args: []string{"f", "g"}, Cwd: dir, ConfirmPaths: true, Timeout: 50 * time.Millisecond}
	start := func(tm *terminal) {
		var once sync.Once
		tm.onText = func(tm *terminal, text []byte) {
			if bytes.Contains(text, []byte(prompt)) {
				// Four idle timeouts later: the wait is what is tested.
				once.Do(func() { time.AfterFunc(4*opts.Timeout, func() { tm.write([]byte("y")) }) })
			}
		}
	}
	tm, err := runWith(t, opts, start, kittyLike(func(tm *terminal, c scanner.Command) bool {
		if c.Action == scanner.ActionFile {
			tm.reply(scanner.Command{Action: scanner.ActionStatus, ID: c.ID, FileID: c.FileID, Status: "STARTED", Name: "/h/g", Size: scanner.Some(10)})
			return true
		}
		return false
	}))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	tm.mu.Lock()
	defer tm.mu.Unlock()
	if !strings.Contains(string(tm.text), "f  →  /h/g  (replaces an existing file)\r\n") {
		t.Errorf("question %q does not say g exists", tm.text)
	}
}

// --confirm-paths against the real engine: y writes the files, n and ctrl+c write
// nothing and leave no temporary file.
func TestEngineConfirmPaths(t *testing.T) {
	for _, tc := range []struct {
		name, key string
		wantErr   string
	}{
		{"y", "y", ""},
		{"n", "n", "you answered n"},
		{"ctrl+c", "\x1b[99;5u", "by the user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			local, home := sides(t)
			writeFile(t, local, "a", "aaa", 0o644)
			writeFile(t, local, "d/b", textData(10000), 0o644)
			var once sync.Once
			_, err := runEngine(t, home, allow, client.Options{Args: []string{"a", "d", "dest"}, Cwd: local, ConfirmPaths: true},
				func(l *link) {
					l.onText = func(l *link, text []byte) {
						if bytes.Contains(text, []byte(prompt)) {
							once.Do(func() { l.inject(tc.key) })
						}
					}
				})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if mustRead(t, filepath.Join(home, "dest", "a")) != "aaa" || mustRead(t, filepath.Join(home, "dest", "d", "b")) != textData(10000) {
					t.Error("files did not arrive intact")
				}
				return
			}
			if !errors.Is(err, client.ErrCanceled) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Run: %v, want canceled, %q", err, tc.wantErr)
			}
			for _, p := range []string{"dest/a", "dest/d/b"} {
				if _, err := os.Lstat(filepath.Join(home, p)); err == nil {
					t.Errorf("%s written although the user refused", p)
				}
			}
			noTemps(t, home)
		})
	}
}
