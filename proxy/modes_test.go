package proxy_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/xferterm/xferterm/proxy"
)

var modeTests = []struct {
	name    string
	in      string
	known   string // proxy.ModeTracker.Known after in
	restore string // what release writes
}{
	{"plain text knows nothing", "hello\r\nworld", "", ""},
	{"the kitten hides the cursor", "\x1b[?25l", "25l", "\x1b[?25l"},
	{"the cursor shown again", "\x1b[?25l…\x1b[?25h", "25h", "\x1b[?25h"},
	{"several modes in one sequence", "\x1b[?1004;2004;25h", "25h 2004h 1004h", "\x1b[?25h\x1b[?2004h\x1b[?1004h"},
	{"the kitten's start-up", "\x1b[?s\x1b[*x\x1b[4l\x1b[?1l\x1b[?5l\x1b[?2004l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1005l\x1b[?1006l" +
		"\x1b[?8h\x1b[?7h\x1b[?25h\x1b[?1004h\x1b[?2048h\x1b[>29u\x1b[?25l",
		"25l 2004l 1004h 1000l 1002l 1003l 1006l",
		"\x1b[?25l\x1b[?2004l\x1b[?1004h\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l"},
	{"the kitten's exit forgets what XTRESTORE puts back", "\x1b[?25l\x1b[?2004l\x1b[?25h\x1b[<u\x1b7\x1b[?2048l\x1b[?r\x1b8", "", ""},
	{"XTRESTORE of listed modes forgets those", "\x1b[?25l\x1b[?2004h\x1b[?2004r", "25l", "\x1b[?25l"},
	{"XTSAVE changes nothing", "\x1b[?25l\x1b[?25s", "25l", "\x1b[?25l"},
	{"DECSTR forgets all", "\x1b[?25l\x1b[!p", "", ""},
	{"RIS forgets all", "\x1b[?25l\x1bc", "", ""},
	{"ANSI modes are not DEC modes", "\x1b[25l\x1b[4h", "", ""},
	{"other private prefixes are not DEC modes", "\x1b[>25l\x1b[=25h\x1b[>4;2m", "", ""},
	{"DECRQM is a query, not a change", "\x1b[?25$p\x1b[?2026$p", "", ""},
	{"sub-parameters are not ours", "\x1b[?25:1l", "", ""},
	{"a misplaced prefix is not ours", "\x1b[25?l", "", ""},
	{"untracked modes are ignored", "\x1b[?1h\x1b[?7l\x1b[?2048h", "", ""},
	{"a huge parameter does not alias a mode", "\x1b[?65561l\x1b[?4294967321l", "", ""},
	{"CAN aborts a sequence", "\x1b[?25\x18l", "", ""},
	{"SUB aborts a sequence", "\x1b[?25\x1al", "", ""},
	{"ESC restarts a sequence", "\x1b[?2004\x1b[?25l", "25l", "\x1b[?25l"},
	{"C0 controls inside a sequence are executed, not abort", "\x1b[?2\r5l", "25l", "\x1b[?25l"},
	{"an 8-bit byte ends a sequence", "\x1b[?25\xc3l", "", ""},
	{"OSC, DCS and other sequences are skipped", "\x1b]0;t\x07\x1bP+q544e\x1b\\\x1b7\x1b(B\x1b[?25l", "25l", "\x1b[?25l"},
	{"OSC 5113 text is not mistaken", "\x1b]5113;ac=send;id=x\x1b\\", "", ""},
	{"an empty parameter is 0", "\x1b[?;25l", "25l", "\x1b[?25l"},
	{"too many parameters forget all", "\x1b[?25l\x1b[?1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;2004h", "", ""},
	{"sixteen parameters are fine", "\x1b[?1;1;1;1;1;1;1;1;1;1;1;1;1;1;1;25l", "25l", "\x1b[?25l"},
	{"the alternate screen is entered again", "\x1b[?1049h\x1b[?25l", "25l 1049h", "\x1b[?25l\x1b[?1049h"},
	{"the main screen is not left again", "\x1b[?1049h\x1b[?1049l", "1049l", ""},
	{"one alternate screen is entered, not two", "\x1b[?47h\x1b[?1049h", "1049h 47h", "\x1b[?1049h"},
	{"a synchronized update goes on after", "\x1b[?2026h\x1b[?25l", "25l 2026h", "\x1b[?25l\x1b[?2026h"},
	{"a finished synchronized update", "\x1b[?2026h\x1b[?2026l", "2026l", ""},
}

// TestModeTracker runs each stream through the tracker whole and split in every way:
// one byte at a time, at every cut point, at every pair of cut points, and in random
// short writes.
func TestModeTracker(t *testing.T) {
	for _, tt := range modeTests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(how string, m *proxy.ModeTracker) {
				t.Helper()
				if got := m.Known(); got != tt.known {
					t.Fatalf("%s: known %q, want %q", how, got, tt.known)
				}
				if got := m.Restore(); got != tt.restore {
					t.Fatalf("%s: restore %q, want %q", how, got, tt.restore)
				}
			}
			in := []byte(tt.in)
			var m proxy.ModeTracker
			m.Write(in)
			check("whole", &m)

			m = proxy.ModeTracker{}
			w := iotest.TruncateWriter(&m, int64(len(in))) // a plain io.Writer
			for i := range in {
				w.Write(in[i : i+1])
			}
			check("one byte at a time", &m)

			for i := 0; i <= len(in); i++ {
				for j := i; j <= len(in); j++ {
					m = proxy.ModeTracker{}
					m.Write(in[:i])
					m.Write(in[i:j])
					m.Write(in[j:])
					check(fmt.Sprintf("cut at %d and %d", i, j), &m)
				}
			}

			seed := rand.Uint64()
			rng := rand.New(rand.NewPCG(seed, 1))
			for range 20 {
				m = proxy.ModeTracker{}
				for rest := in; len(rest) > 0; {
					n := 1 + rng.IntN(min(len(rest), 7))
					m.Write(rest[:n])
					rest = rest[n:]
				}
				check(fmt.Sprintf("random writes, seed %d", seed), &m)
			}
		})
	}
}

func TestModeTrackerPause(t *testing.T) {
	var m proxy.ModeTracker
	if got := m.Pause(); got != "" {
		t.Errorf("pause with nothing known: %q", got)
	}
	m.Write([]byte("\x1b[?2026h"))
	if got := m.Pause(); got != "\x1b[?2026l" {
		t.Errorf("pause during a synchronized update: %q, want it ended", got)
	}
}

// TestModeTrackerText checks that text with no escape sequence leaves a half-read
// sequence alone, and allocates nothing.
func TestModeTrackerText(t *testing.T) {
	var m proxy.ModeTracker
	text := []byte("some text with no escape sequence, ünïcödé ✓\r\n")
	if n := testing.AllocsPerRun(100, func() { m.Write(text) }); n != 0 {
		t.Errorf("Write allocates %v times per call", n)
	}
	m.Write([]byte("\x1b[?25"))
	m.Write([]byte("l"))
	if got := m.Known(); got != "25l" {
		t.Errorf("known %q, want 25l", got)
	}
}

func BenchmarkModeTracker(b *testing.B) {
	for _, tc := range []struct {
		name string
		line string
	}{
		{"text", "some log line with words, ünïcödé ✓, and a number 12345678901234\r\n"},
		{"sgr", "\x1b[32m123456\x1b[0m │ some log line with words, ünïcödé ✓, and a number 1234\r\n"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var buf []byte
			for len(buf) < 32<<10 {
				buf = append(buf, tc.line...)
			}
			var m proxy.ModeTracker
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				m.Write(buf)
			}
		})
	}
}
