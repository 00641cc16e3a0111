package scanner_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/xferterm/xferterm/testdata"
)

// A terminal model reads a byte stream the way a terminal's parser does, as far as OSC
// sequences go, and returns the payload of every OSC it would run with code 5113. The
// scanner's promise is that no model finds one in what the scanner lets through: a kitty
// behind xferterm must never start a transfer of its own (terminal-side.md §1.1).
type terminalModel struct {
	name string
	read func(in []byte) []string
}

// terminalModels are the parsers the scanner is checked against, written from kitty's
// documented behaviour and from reading its parser (facts only):
//
//   - kitty today: an OSC body runs to BEL or "ESC \" whatever it holds (an ESC followed by
//     anything else is part of it), and is dropped unread past 256 KiB; DCS, APC, PM and SOS
//     strings end the same way; ESC ESC is an unknown escape (the second ESC is eaten).
//   - kitty before its parser was rewritten: the same, but NUL and DEL are dropped from OSC
//     bodies, an OSC over 8 KiB is cut there and run, and a DCS string drops every byte
//     that is not printable ASCII or ESC and ends at an ESC whose next kept byte is not
//     '\', that ESC starting a new escape sequence.
//   - an eager reader: every "ESC ]" starts an OSC, whatever came before; the body ends at
//     BEL, at any ESC (as in the DEC state diagram) and at CAN or SUB; NUL and DEL are
//     dropped. It stands for the terminals that do not work like kitty.
//
// All three take the code as kitty does: the value of up to five leading digits of the
// body, then one ';' skipped.
var terminalModels = []terminalModel{
	{"kitty", func(in []byte) []string { return kittyParse(in, false) }},
	{"old kitty", func(in []byte) []string { return kittyParse(in, true) }},
	{"eager", eagerParse},
}

// osc5113 returns the payload of an OSC body with code 5113, and whether it has that code.
func osc5113(body []byte) (string, bool) {
	code, i := 0, 0
	for i < len(body) && i < 5 && '0' <= body[i] && body[i] <= '9' {
		code = 10*code + int(body[i]-'0')
		i++
	}
	if i == 0 || code != 5113 {
		return "", false
	}
	if i < len(body) && body[i] == ';' {
		i++
	}
	return string(body[i:]), true
}

type kState int

const (
	kNormal kState = iota
	kEsc
	kEscInter // after ESC and one of "%()*+-./ #": one more byte ends it
	kCSI
	kCSIBody
	kCSIPostSecondary
	kOSC
	kDCS
	kString // APC, PM, SOS
)

func kittyParse(in []byte, old bool) []string {
	var found []string
	st := kNormal
	var body []byte
	dispatch := func() {
		if p, ok := osc5113(body); ok {
			found = append(found, p)
		}
	}
	isCSIEmbedded := func(c byte) bool { return c == 0x07 || (0x08 <= c && c <= 0x0d) || c == 0x0e || c == 0x0f }
	stringEnds := func(c byte) bool { // for OSC, APC, PM, SOS (and DCS today): BEL or ESC '\'
		if c == 0x07 {
			return true
		}
		if c == '\\' && len(body) > 0 && body[len(body)-1] == 0x1b {
			body = body[:len(body)-1]
			return true
		}
		return false
	}
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch st {
		case kNormal:
			if c == 0x1b {
				st = kEsc
			}
		case kEsc:
			body = body[:0]
			switch {
			case c == ']':
				st = kOSC
			case c == '[':
				st = kCSI
			case c == 'P':
				st = kDCS
			case c == '_' || c == '^' || (c == 'X' && !old):
				st = kString
			case strings.IndexByte("%()*+-./ #", c) >= 0:
				st = kEscInter
			default:
				st = kNormal
			}
		case kEscInter:
			st = kNormal
		case kCSI, kCSIBody:
			switch {
			case isCSIEmbedded(c):
			case c == ';' || c == ':' || ('0' <= c && c <= '9'):
				st = kCSIBody
			case st == kCSI && strings.IndexByte("?><=", c) >= 0:
				st = kCSIBody
			case c == '-':
				st = kCSIBody
			case 0x20 <= c && c <= 0x2f:
				st = kCSIPostSecondary
			default: // a trailer ends it; anything else makes kitty drop it
				st = kNormal
			}
		case kCSIPostSecondary:
			if !isCSIEmbedded(c) {
				st = kNormal
			}
		case kOSC:
			if old && (c == 0 || c == 0x7f) {
				continue
			}
			if stringEnds(c) {
				dispatch()
				st = kNormal
				continue
			}
			if old && len(body) >= 8<<10-1 {
				dispatch() // cut at 8 KiB and run; this byte is lost
				st = kNormal
				continue
			}
			body = append(body, c)
			if !old && len(body) > 256<<10 {
				st = kNormal // dropped unread
			}
		case kDCS:
			if old {
				switch {
				case c != 0x1b && (c < 0x20 || c > 0x7e):
					// NUL, DEL, other controls and 8-bit bytes are dropped, even right
					// after an ESC.
				case len(body) > 0 && body[len(body)-1] == 0x1b:
					if c == '\\' {
						st = kNormal
					} else {
						st = kEsc
						i-- // this byte is read again as the one after ESC
					}
				default:
					body = append(body, c)
				}
				continue
			}
			fallthrough
		case kString:
			if stringEnds(c) {
				st = kNormal
				continue
			}
			body = append(body, c)
			if len(body) > 256<<10 {
				st = kNormal
			}
		}
	}
	return found
}

func eagerParse(in []byte) []string {
	var found []string
	for i := 0; i+1 < len(in); i++ {
		if in[i] != 0x1b || in[i+1] != ']' {
			continue
		}
		var body []byte
		j := i + 2
	scan:
		for ; j < len(in); j++ {
			switch c := in[j]; c {
			case 0, 0x7f:
			case 0x07, 0x18, 0x1a:
				break scan
			case 0x1b:
				if j+1 < len(in) && in[j+1] == '\\' {
					break scan
				}
				j-- // the ESC starts whatever follows
				break scan
			default:
				body = append(body, c)
			}
		}
		if j < len(in) { // ended, not cut off by the end of the input
			if p, ok := osc5113(body); ok {
				found = append(found, p)
			}
		}
		i = j
	}
	return found
}

// checkNoLeak fails if any terminal model finds an OSC 5113 sequence in out.
func checkNoLeak(t testing.TB, in []byte, out string) {
	t.Helper()
	for _, m := range terminalModels {
		if found := m.read([]byte(out)); len(found) > 0 {
			t.Fatalf("%s would run OSC 5113 %q from the output %q of the input %q", m.name, found, abbrev(out), abbrev(string(in)))
		}
	}
}

// attacks are byte streams that some terminal model reads as OSC 5113 although they do
// not contain the plain introducer "ESC ] 5113 ;" as one piece, or would after the scanner
// removed a sequence from their middle.
var attacks = []struct {
	name, in string
	models   []string // the models that read the raw input as OSC 5113
}{
	{"a leading zero", "\x1b]05113;ac=send;id=x\x1b\\", []string{"kitty", "old kitty", "eager"}},
	{"no ';' after the code", "\x1b]5113ac=send;id=x\x1b\\", []string{"kitty", "old kitty", "eager"}},
	{"NUL and DEL in the code", "\x1b]5\x0011\x7f3;ac=send;id=x\x1b\\", []string{"old kitty", "eager"}},
	{"ESC before a removed sequence", "\x1b\x1b]5113;x\x07]5113;ac=send;id=x\x1b\\", []string{"eager"}},
	{"ESC ] before a removed sequence", "\x1b]\x1b]5113;x\x07" + "5113;ac=send;id=x\x1b\\", []string{"eager"}},
	{"half a code before a removed sequence", "\x1b]51\x1b]5113;x\x07" + "13;ac=send;id=x\x1b\\", []string{"eager"}},
	{"a code with NUL before a removed sequence", "\x1b]5\x00\x1b]5113;x\x07" + "113;ac=send;id=x\x1b\\", []string{"eager"}},
	{"an OSC in a DCS string", "\x1bPq\x1b]5113;ac=send;id=x\x1b\\", []string{"old kitty", "eager"}},
	{"a DCS cut by ESC ] before a removed sequence", "\x1bPq\x1b\x1b]5113;x\x07]05113;ac=send\x07", []string{"eager"}},
	{"NUL after the ESC that cuts a DCS string", "\x1bP\x1b\x00]5113;ac=send;id=x\x07", []string{"old kitty"}},
	{"DEL after the ESC that cuts a DCS string", "\x1bPq\x1b\x7f]5113;ac=send;id=x\x07", []string{"old kitty"}},
	{"a control byte after the ESC that cuts a DCS string", "\x1bPq\x1b\x01]5113;ac=send;id=x\x07", []string{"old kitty"}},
	{"an 8-bit byte after the ESC that cuts a DCS string", "\x1bPq\x1b\xc3]5113;ac=send;id=x\x07", []string{"old kitty"}},
	{"tmux passthrough", "\x1bPtmux;\x1b\x1b]5113;ac=send;id=x\x1b\x1b\\\x1b\\", []string{"eager"}},
}

// TestNoSpellingOfOSC5113Leaks runs each attack, whole and at every split, and checks that
// no terminal model finds OSC 5113 in what passes through; and that the attack is real:
// the named models do find it in the raw input.
func TestNoSpellingOfOSC5113Leaks(t *testing.T) {
	for _, tc := range attacks {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			for _, m := range terminalModels {
				found := len(m.read(in)) > 0
				want := false
				for _, name := range tc.models {
					want = want || name == m.name
				}
				if found != want {
					t.Errorf("%s reads OSC 5113 in the raw input: %v, want %v", m.name, found, want)
				}
			}
			for i := 0; i <= len(in); i++ {
				out, _ := feed(t, in, pieces(i), 0)
				checkNoLeak(t, in, out)
			}
		})
	}
}

// TestTerminalModelsReadTheTranscripts checks the models against the real client's own
// streams: each finds exactly the client's OSC 5113 sequences.
func TestTerminalModelsReadTheTranscripts(t *testing.T) {
	for _, tr := range loadTranscripts(t) {
		in := testdata.Stream(tr.chunks, testdata.KittenToTerminal)
		_, want := feed(t, in, whole, 0)
		for _, m := range terminalModels {
			got := m.read(in)
			if fmt.Sprint(got) != fmt.Sprint(payloadsOf(want)) {
				t.Errorf("%s: %s finds %d sequences, the scanner %d", tr.name, m.name, len(got), len(want))
			}
		}
	}
}

func payloadsOf(evs []event) []string {
	var ps []string
	for _, e := range evs {
		if e.err == nil {
			ps = append(ps, e.payload)
		}
	}
	return ps
}
