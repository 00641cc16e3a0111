package termtext_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/xferterm/xferterm/internal/termtext"
)

func TestSanitize(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		// Kept as is.
		{"empty", "", ""},
		{"ASCII", "plain/path with spaces.txt", "plain/path with spaces.txt"},
		{"printable ASCII punctuation", `~!@#$%^&*()_+{}|:"<>?[]\;',./`, `~!@#$%^&*()_+{}|:"<>?[]\;',./`},
		{"letters, CJK, emoji", "ünïcödé 日本語 🙂 ✓", "ünïcödé 日本語 🙂 ✓"},
		{"emoji with a variation selector", "\u2764\ufe0f", "\u2764\ufe0f"},
		{"real U+FFFD", "real \ufffd stays", "real \ufffd stays"},
		{"Zs spaces", "nb\u00a0sp em\u2003sp ideo\u3000sp narrow\u202fsp ogham\u1680", "nb\u00a0sp em\u2003sp ideo\u3000sp narrow\u202fsp ogham\u1680"},
		{"combining marks alone", "\u0301start, \u20ddenclosing, e\u0301", "\u0301start, \u20ddenclosing, e\u0301"},

		// C0 controls and DEL.
		{"NUL, tab, LF, CR", "a\x00b\tc\nd\re", `a\x00b\x09c\x0ad\x0de`},
		{"newline and CR", "newline\nand\rcr", `newline\x0aand\x0dcr`},
		{"CSI", "csi\x1b[2J", `csi\x1b[2J`},
		{"SGR", "esc\x1b[31mred", `esc\x1b[31mred`},
		{"OSC with BEL", "evil\x1b]0;pwned\x07", `evil\x1b]0;pwned\x07`},
		{"DEL", "del\x7f", `del\x7f`},
		{"control at the start and end", "\x01mid\x1f", `\x01mid\x1f`},

		// C1 controls, encoded as UTF-8, and their raw bytes (invalid UTF-8).
		{"C1 NEL and CSI", "c1\u0085\u009b", `c1\x85\x9b`},
		{"C1 CSI in text", "c1 \u009b31m", `c1 \x9b31m`},
		{"raw 8-bit CSI byte", "raw\x9b2J", `raw\x9b2J`},

		// Invalid UTF-8.
		{"stray bytes", "bad\xff\xfeutf8", `bad\xff\xfeutf8`},
		{"stray byte at the end", "bad utf8 \xff", `bad utf8 \xff`},
		{"truncated sequence", "cut\xe6\x97", `cut\xe6\x97`},
		{"overlong slash", "over\xc0\xaflong", `over\xc0\xaflong`},
		{"encoded surrogate", "sur\xed\xa0\x80", `sur\xed\xa0\x80`},

		// Format characters (Cf) and line/paragraph separators (Zl, Zp).
		{"bidi override and isolate", "bidi\u202eevil\u2066", `bidi\u{202e}evil\u{2066}`},
		{"bidi override alone", "bidi \u202e", `bidi \u{202e}`},
		{"LRM and RLM", "\u200ex\u200f", `\u{200e}x\u{200f}`},
		{"zero width space and BOM", "zero\u200bwidth\ufeff", `zero\u{200b}width\u{feff}`},
		{"zero width joiner", "\U0001f468\u200d\U0001f469", "\U0001f468" + `\u{200d}` + "\U0001f469"},
		{"soft hyphen", "soft\u00adhyphen", `soft\u{00ad}hyphen`},
		{"Arabic number sign", "\u0600x", `\u{0600}x`},
		{"tag characters", "flag\U000e0067\U000e007f", `flag\u{e0067}\u{e007f}`},
		{"line and paragraph separators", "line\u2028para\u2029", `line\u{2028}para\u{2029}`},

		// Private use (Co).
		{"BMP private use", "pua\ue000\uf8ff", `pua\u{e000}\u{f8ff}`},
		{"kitty image placeholder", "img\U0010eeee\u0305", `img\u{10eeee}` + "\u0305"},
		{"plane 15 private use", "\U000f0000", `\u{f0000}`},

		// Unassigned code points and noncharacters (Cn).
		{"unassigned Greek", "\u0378", `\u{0378}`},
		{"reserved default-ignorable", "a\u2065b\ufff0c\U000e0080", `a\u{2065}b\u{fff0}c\u{e0080}`},
		{"noncharacters", "\ufdd0\ufffe\uffff\U0010ffff", `\u{fdd0}\u{fffe}\u{ffff}\u{10ffff}`},

		// Mixed.
		{"everything at once", "/home/u/\x1b]52;c;ZXZpbA==\x07x\u202egnp.exe\x9b2J\u00a0\ue000\xff",
			`/home/u/\x1b]52;c;ZXZpbA==\x07x\u{202e}gnp.exe\x9b2J` + "\u00a0" + `\u{e000}\xff`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := termtext.Sanitize(tt.in)
			if got != tt.want {
				t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			checkSafe(t, tt.in, got)
		})
	}
}

func TestSanitizeCleanDoesNotAllocate(t *testing.T) {
	for _, s := range []string{"", "plain.txt", "ünïcödé 日本語 🙂\u00a0\ufffd e\u0301"} {
		var got string
		if n := testing.AllocsPerRun(100, func() { got = termtext.Sanitize(s) }); n != 0 {
			t.Errorf("Sanitize(%q) allocates %v times", s, n)
		}
		if got != s {
			t.Errorf("Sanitize(%q) = %q, want it unchanged", s, got)
		}
	}
}

// maxFuzzLen bounds the inputs of FuzzSanitize.
const maxFuzzLen = 256

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{
		"", "plain.txt", "ünïcödé 日本語 🙂", "\x1b[2J\x07", "\u009b\x9b\x7f", "\xff\xc0\xaf\xed\xa0\x80",
		"\u202e\u2066\u200b\u200d\ufeff\u00ad", "\u2028\u2029", "\ue000\U0010eeee", "\u0378\ufffe\U0010ffff",
		"\ufffd", "\u00a0\u3000", "\u0301", `\x1b\u{202e}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		// Sanitize looks at one rune at a time, so longer inputs find nothing new;
		// but they reach new hit counts in its loops, and the fuzzer then spends
		// its time minimizing them, which is quadratic in their length.
		if len(in) > maxFuzzLen {
			in = in[:maxFuzzLen]
		}
		got := termtext.Sanitize(in)
		checkSafe(t, in, got)
		if again := termtext.Sanitize(got); again != got {
			t.Errorf("Sanitize is not idempotent: Sanitize(%q) = %q, then %q", in, got, again)
		}
	})
}

// checkSafe checks that out, the result of Sanitize(in), holds nothing that can act
// on a terminal, and that out == in exactly when in needed no escaping.
func checkSafe(t *testing.T, in, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("Sanitize(%q) = %q is not valid UTF-8", in, out)
	}
	for i := 0; i < len(out); i++ {
		if c := out[i]; c < 0x20 || c == 0x7f {
			t.Fatalf("Sanitize(%q) = %q holds control byte %#x at %d", in, out, c, i)
		}
	}
	for i, r := range out {
		switch {
		case r < utf8.RuneSelf:
			// Printable ASCII, the byte loop has checked it.
		case r >= 0x80 && r <= 0x9f:
			t.Fatalf("Sanitize(%q) = %q holds C1 control %U at %d", in, out, r, i)
		case unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp):
			t.Fatalf("Sanitize(%q) = %q holds format character or separator %U at %d", in, out, r, i)
		case unicode.Is(unicode.Co, r):
			t.Fatalf("Sanitize(%q) = %q holds private-use character %U at %d", in, out, r, i)
		case !assigned(r):
			t.Fatalf("Sanitize(%q) = %q holds unassigned code point %U at %d", in, out, r, i)
		}
	}
	if clean := needsNoEscape(in); clean != (out == in) {
		t.Fatalf("Sanitize(%q) = %q, but the input needs no escaping: %v", in, out, clean)
	}
	if strings.Count(out, `\`) < strings.Count(in, `\`) {
		t.Fatalf("Sanitize(%q) = %q lost a backslash", in, out)
	}
}

// assigned reports whether r is in a general category other than Cn.
func assigned(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.C)
}

// needsNoEscape reports whether s is valid UTF-8 of letters, marks, numbers,
// punctuation, symbols and space separators only.
func needsNoEscape(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < utf8.RuneSelf {
			if r < 0x20 || r == 0x7f {
				return false
			}
		} else if !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs) {
			return false
		}
	}
	return true
}
