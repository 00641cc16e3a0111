package passthrough

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// fakeTmux answers tmux commands like tmux 3.3a, from a table of the pane's state, and records
// them.
type fakeTmux struct {
	panePID  string // #{pane_pid}
	attached string // #{session_attached}
	version  string // #{version}; "" for a tmux without it
	local    string // the pane's own allow-passthrough ("" unset)
	global   string // the inherited value
	noOption bool   // tmux before 3.3: no allow-passthrough
	failSet  bool
	missing  bool // tmux cannot be run (not on PATH)
	calls    []string
}

func (f *fakeTmux) run(_ context.Context, name string, args ...string) (string, error) {
	f.calls = append(f.calls, name+" "+strings.Join(args, " "))
	switch {
	case f.missing:
		return "", errors.New(`exec: "tmux": executable file not found in $PATH`)
	case args[0] == "-V":
		return "tmux 1.4\n", nil
	case args[0] == "display-message":
		return f.panePID + "\t" + f.attached + "\t" + f.version + "\n", nil
	case args[0] == "show-options" && f.noOption:
		return "", errors.New("invalid option: allow-passthrough")
	case args[0] == "show-options" && args[1] == "-A":
		if f.local != "" {
			return f.local + "\n", nil
		}
		return f.global + "\n", nil
	case args[0] == "show-options":
		return f.local + "\n", nil
	case args[0] == "set-option" && f.failSet:
		return "", errors.New("no server running")
	case args[0] == "set-option" && args[4] == "-u":
		f.local = ""
		return "", nil
	case args[0] == "set-option":
		f.local = args[5]
		return "", nil
	}
	return "", errors.New("unknown command")
}

func host(env map[string]string, sid int, tm *fakeTmux) Host {
	return Host{Getenv: func(k string) string { return env[k] }, SessionID: sid, Run: tm.run}
}

var inTmux = map[string]string{"TMUX": "/tmp/tmux-0/default,1,0", "TMUX_PANE": "%3"}

func TestSetup(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       map[string]string
		tm        fakeTmux
		wantKind  Kind
		wantErr   string // part of the error; "" for none
		wantLocal string // the pane's option during the transfer
		changed   bool
	}{
		{name: "no multiplexer", env: map[string]string{}, wantKind: None},
		{name: "screen", env: map[string]string{"STY": "12.name"}, wantKind: Screen},
		{name: "tmux with passthrough off turns it on", env: inTmux,
			tm: fakeTmux{panePID: "42", attached: "1", version: "3.3a", global: "off"}, wantKind: Tmux, wantLocal: "on", changed: true},
		{name: "tmux with passthrough on is left alone", env: inTmux,
			tm: fakeTmux{panePID: "42", attached: "1", version: "3.4", global: "on"}, wantKind: Tmux},
		{name: "tmux with passthrough all is left alone", env: inTmux,
			tm: fakeTmux{panePID: "42", attached: "1", version: "3.4", local: "all"}, wantKind: Tmux, wantLocal: "all"},
		{name: "tmux before 3.3 needs no option", env: inTmux,
			tm: fakeTmux{panePID: "42", attached: "1", version: "3.2a", noOption: true}, wantKind: Tmux},
		{name: "tmux before 1.5 cannot pass anything", env: inTmux,
			tm: fakeTmux{panePID: "42", attached: "1", noOption: true}, wantErr: "tmux 1.4 cannot pass escape sequences"},
		{name: "a pane that is not ours means something sits in between", env: inTmux,
			tm: fakeTmux{panePID: "7", attached: "1", version: "3.3a", global: "off"}, wantKind: None},
		{name: "screen inside tmux is refused", env: map[string]string{"TMUX": "x,1,0", "TMUX_PANE": "%0", "STY": "1.s"},
			tm: fakeTmux{panePID: "7", attached: "1", version: "3.3a"}, wantErr: "screen runs inside tmux"},
		{name: "tmux inside screen is refused", env: map[string]string{"TMUX": "x,1,0", "TMUX_PANE": "%0", "STY": "1.s"},
			tm: fakeTmux{panePID: "42", attached: "1", version: "3.3a"}, wantErr: "unset STY if tmux is not inside screen"},
		{name: "a detached session is refused", env: inTmux,
			tm: fakeTmux{panePID: "42", attached: "0", version: "3.3a"}, wantErr: "not attached"},
		{name: "TMUX without TMUX_PANE is refused", env: map[string]string{"TMUX": "x,1,0"}, wantErr: "TMUX_PANE"},
		{name: "a tmux that cannot be run is taken to pass the codes (Probe decides)", env: inTmux,
			tm: fakeTmux{missing: true}, wantKind: Tmux},
		{name: "a tmux that cannot be run cannot tell tmux from screen", env: map[string]string{"TMUX": "x,1,0", "TMUX_PANE": "%0", "STY": "1.s"},
			tm: fakeTmux{missing: true}, wantErr: "unset the one this shell is not in"},
		{name: "a failing set-option says what to do", env: inTmux,
			tm: fakeTmux{panePID: "42", attached: "1", version: "3.3a", global: "off", failSet: true}, wantErr: "tmux set -g allow-passthrough on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm := tc.tm
			s, err := Setup(t.Context(), host(tc.env, 42, &tm))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Setup: %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Kind() != tc.wantKind || s.Changed() != tc.changed || tm.local != tc.wantLocal {
				t.Fatalf("Setup: kind %v, changed %v, pane option %q; want %v, %v, %q (calls %q)",
					s.Kind(), s.Changed(), tm.local, tc.wantKind, tc.changed, tc.wantLocal, tm.calls)
			}
			if err := s.Restore(t.Context()); err != nil {
				t.Fatal(err)
			}
			if tc.changed && tm.local != tc.tm.local {
				t.Errorf("after Restore the pane's option is %q, want %q as before", tm.local, tc.tm.local)
			}
		})
	}
}

// TestRestoreKeepsAPaneValue: a pane whose own option was "off" gets "off" back, not unset.
func TestRestoreKeepsAPaneValue(t *testing.T) {
	tm := fakeTmux{panePID: "42", attached: "1", version: "3.3a", local: "off"}
	s, err := Setup(t.Context(), host(inTmux, 42, &tm))
	if err != nil || tm.local != "on" {
		t.Fatalf("Setup: %v, pane option %q", err, tm.local)
	}
	for range 2 { // Only the first call acts.
		if err := s.Restore(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if tm.local != "off" {
		t.Errorf("after Restore the pane's option is %q, want off", tm.local)
	}
	if n := strings.Count(strings.Join(tm.calls, "\n"), "set-option"); n != 2 {
		t.Errorf("%d set-option calls, want 2 (on, then back): %q", n, tm.calls)
	}
}

func TestCheckReceive(t *testing.T) {
	s, err := Setup(t.Context(), host(map[string]string{"STY": "1.s"}, 1, &fakeTmux{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckReceive(); !errors.Is(err, ErrScreenReceive) {
		t.Errorf("CheckReceive inside screen: %v", err)
	}
	if err := (&Session{kind: Tmux}).CheckReceive(); err != nil {
		t.Errorf("CheckReceive inside tmux: %v", err)
	}
}

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in           string
		major, minor int
		ok           bool
	}{
		{"3.3a", 3, 3, true}, {"next-3.4", 3, 4, true}, {"3.4-rc", 3, 4, true}, {"1.5", 1, 5, true},
		{"openbsd-7.4", 7, 4, true}, {"master", 0, 0, false}, {"", 0, 0, false}, {"3", 0, 0, false},
	} {
		major, minor, ok := parseVersion(tc.in)
		if major != tc.major || minor != tc.minor || ok != tc.ok {
			t.Errorf("parseVersion(%q) = %d, %d, %v; want %d, %d, %v", tc.in, major, minor, ok, tc.major, tc.minor, tc.ok)
		}
	}
}

// ttyPipe is a terminal: what is written goes to the multiplexer (answer decides what comes
// back), reads come from a pipe with deadlines.
type ttyPipe struct {
	r, w    *os.File
	written bytes.Buffer
	answer  string
}

func (p *ttyPipe) Read(b []byte) (int, error)        { return p.r.Read(b) }
func (p *ttyPipe) SetReadDeadline(t time.Time) error { return p.r.SetReadDeadline(t) }
func (p *ttyPipe) Write(b []byte) (n int, err error) {
	p.written.Write(b)
	return p.w.Write([]byte(p.answer))
}
func newTTYPipe(t *testing.T, answer string) *ttyPipe {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(); _ = w.Close() })
	return &ttyPipe{r: r, w: w, answer: answer}
}

// TestSettle: Settle asks with CSI c and returns once the answer is read, skipping late replies
// before it; without an answer it gives up after its wait.
func TestSettle(t *testing.T) {
	p := newTTYPipe(t, "\x1b]5113;id=x;st=T0s\x1b\\\x1b[?1;2c")
	if !Settle(p, 10*time.Second) {
		t.Fatal("Settle did not see the answer")
	}
	if p.written.String() != "\x1b[c" {
		t.Errorf("Settle wrote %q, want CSI c", p.written.String())
	}
	p = newTTYPipe(t, "no answer")
	start := time.Now()
	if Settle(p, 50*time.Millisecond) {
		t.Fatal("Settle saw an answer in nothing")
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Settle waited %v", time.Since(start))
	}
}
