package passthrough

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const probeID = "1a2b3c4d5e-probe"

// Answers of the things a probe can reach, as they come back.
const (
	canceled     = "\x1b]5113;ac=status;id=" + probeID + ";st=Q0FOQ0VMRUQ\x1b\\"
	tmuxVersion  = "\x1bP>|tmux 3.3a\x1b\\"
	tmuxDA1      = "\x1b[?1;2c"
	kittyVersion = "\x1bP>|kitty(0.40.1)\x1b\\"
	kittyDA1     = "\x1b[?62;c"
	xtermAnswers = "\x1bP>|XTerm(390)\x1b\\\x1b[?64;1;2;6;9;15;16;17;18;21;22;28c"
)

// TestProbe: the verdict for each thing that may sit beyond the multiplexer, from the answers it
// gives to the probe's cancel, XTVERSION and DA1.
func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		name    string
		kind    Kind
		checked bool // tmux answered Setup
		answer  string
		wantErr string // part of the error; "" for none
	}{
		{"xferterm in a tmux", Tmux, true, canceled + tmuxVersion + tmuxDA1, ""},
		{"xferterm in kitty", Tmux, true, canceled + kittyVersion + kittyDA1, ""},
		{"xferterm through screen", Screen, false, canceled + xtermAnswers, ""},
		{"kitty's terminal side, which does not answer the cancel", Tmux, true, kittyVersion + kittyDA1, ""},
		{"a terminal with no XTVERSION", Tmux, true, "\x1b[?65;1;9c", ""},
		{"the answer comes in the middle of other replies", Tmux, true,
			"\x1b]11;rgb:0000/0000/0000\x1b\\" + "\x1b]5113;ac=status;id=other;st=Q0FOQ0VMRUQ\x1b\\" + canceled + tmuxDA1, ""},
		{"another tmux answers: nested", Tmux, true, tmuxVersion + tmuxDA1, "tmux 3.3a answered instead of a terminal"},
		{"a cancel for another id does not count", Tmux, true,
			"\x1b]5113;ac=status;id=other;st=Q0FOQ0VMRUQ\x1b\\" + tmuxVersion + tmuxDA1, "nested"},
		{"screen answers: nested", Tmux, true, tmuxDA1, "GNU screen?"},
		{"tmux inside screen inside tmux", Screen, false, tmuxVersion + tmuxDA1, "GNU screen runs inside it (nested"},
		{"nothing answers", Tmux, true, "", "nothing answered through tmux"},
		{"nothing answers through a tmux that could not be asked", Tmux, false, "", "is tmux on PATH?"},
		{"nothing answers through screen", Screen, false, "", "nothing answered through GNU screen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Session{kind: tc.kind, checked: tc.checked}
			p := newTTYPipe(t, tc.answer)
			start := time.Now()
			err := s.Probe(p, probeID, 100*time.Millisecond)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Probe: %v", err)
				}
				if d := time.Since(start); d > time.Second {
					t.Errorf("Probe took %v with every answer there", d)
				}
			} else if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Probe: %v, want ErrUnreachable saying %q", err, tc.wantErr)
			}
			if want := string(s.probeQuery(probeID)); p.written.String() != want {
				t.Errorf("Probe wrote %q, want %q", p.written.String(), want)
			}
		})
	}
}

// TestProbeQuery: the probe's codes, wrapped for each multiplexer.
func TestProbeQuery(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		want string
	}{
		{Tmux, "\x1bPtmux;\x1b\x1b]5113;id=" + probeID + ";ac=cancel\a\x1b\x1b[>0q\x1b\x1b[c\x1b\\"},
		{Screen, "\x1bP\x1b]5113;id=" + probeID + ";ac=cancel\a\x1b[>0q\x1b[c\x1b\\"},
	} {
		s := &Session{kind: tc.kind}
		if got := string(s.probeQuery(probeID)); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.kind, got, tc.want)
		}
	}
	if err := (&Session{kind: None}).Probe(nil, probeID, time.Second); err != nil {
		t.Errorf("Probe without a multiplexer: %v", err)
	}
}

// TestProbeInterrupted: Ctrl+C typed while the probe waits ends it at once.
func TestProbeInterrupted(t *testing.T) {
	p := newTTYPipe(t, "\x03")
	if err := (&Session{kind: Tmux}).Probe(p, probeID, 10*time.Second); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Probe: %v, want ErrInterrupted", err)
	}
}

// result is what answers found.
type result struct {
	canceled    bool
	version     string
	da1         bool
	da1Params   string
	interrupted bool
}

func resultOf(a *answers) result {
	return result{canceled: a.canceled, version: a.version, da1: a.da1, da1Params: a.da1Params, interrupted: a.interrupted}
}

// answersOf reads in through answers in pieces of chunk bytes.
func answersOf(in []byte, chunk int) result {
	a := newAnswers(probeID)
	for len(in) > 0 {
		n := min(chunk, len(in))
		_, _ = a.Write(in[:n])
		in = in[n:]
	}
	return resultOf(a)
}

// TestAnswers: the answers are read whatever the chunking, and sequences that only look alike
// are not taken for them.
func TestAnswers(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want result
	}{
		{"all three", canceled + kittyVersion + kittyDA1, result{canceled: true, version: "kitty(0.40.1)", da1: true, da1Params: "?62;"}},
		{"DA2 is not DA1", "\x1b[>0;95;0c", result{}},
		{"a key is not DA1", "\x1b[A\x1b[1;5C", result{}},
		{"DCS that is not XTVERSION", "\x1bP1$r0m\x1b\\", result{}},
		{"ESC ESC before a sequence", "\x1b\x1b[?6c", result{da1: true, da1Params: "?6"}},
		{"a sequence cut by another", "\x1b[?1;\x1bP>|x\x1b\\", result{version: "x"}},
		{"Ctrl+C", "ab\x03", result{interrupted: true}},
		{"Ctrl+C inside a CSI cuts it", "\x1b[?1\x03", result{interrupted: true}},
		{"an OSC hides a Ctrl+C", "\x1b]11;\x03\x07", result{}},
		{"a long version is cut", "\x1bP>|" + strings.Repeat("v", 200) + "\x1b\\", result{version: strings.Repeat("v", maxVersion)}},
		{"an endless DCS is skipped", "\x1bP>|" + strings.Repeat("v", 1000) + "\x1b\\", result{}},
	} {
		for _, chunk := range []int{1, 2, 5, 1 << 20} {
			if got := answersOf([]byte(tc.in), chunk); got != tc.want {
				t.Errorf("%s, chunks of %d: %+v, want %+v", tc.name, chunk, got, tc.want)
			}
		}
	}
}

// FuzzAnswers: any input, read in any two pieces, gives the answers it gives read at once,
// and never more than the limits keep.
func FuzzAnswers(f *testing.F) {
	for _, s := range []string{canceled + tmuxVersion + tmuxDA1, kittyVersion + kittyDA1, xtermAnswers, "\x03", "\x1b[?1;\x1bP>|x\x1b\\"} {
		f.Add([]byte(s), uint16(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, in []byte, split uint16) {
		whole := answersOf(in, len(in)+1)
		cut := int(split) % (len(in) + 1)
		a := newAnswers(probeID)
		_, _ = a.Write(in[:cut])
		_, _ = a.Write(in[cut:])
		got := result{canceled: a.canceled, version: a.version, da1: a.da1, da1Params: a.da1Params, interrupted: a.interrupted}
		if got != whole {
			t.Fatalf("split at %d: %+v, whole: %+v", cut, got, whole)
		}
		if len(got.version) > maxVersion || len(got.da1Params) > maxAnswer || cap(a.seq) > maxAnswer {
			t.Fatalf("limits exceeded: %+v", got)
		}
	})
}
