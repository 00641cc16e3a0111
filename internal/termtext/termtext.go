// Package termtext makes text that xferterm did not write itself — file names,
// paths, session ids and status messages from the remote peer or the file
// system — safe to show on a terminal.
//
// # The rule
//
// A character is shown as is only if Unicode calls it graphic: a letter, mark,
// number, punctuation, symbol or space separator (categories L, M, N, P, S,
// Zs; see unicode.IsGraphic). Everything else is written as a visible escape
// made of printable ASCII:
//
//   - a byte that is not part of valid UTF-8 (stray bytes, truncated or
//     overlong sequences, encoded surrogates) becomes \xNN;
//   - a control character, C0 (U+0000–U+001F), DEL or C1 (U+0080–U+009F),
//     becomes \xNN, its code point in hex;
//   - any other escaped character becomes \u{NNNN} (at least four hex digits).
//
// So no byte of the result is a control byte, and no byte can start or take
// part in an escape sequence: ESC, the 8-bit CSI/OSC/DCS introducers and
// their stray UTF-8 bytes are all escaped.
//
// Escaping the format characters (Cf), line separators (Zl) and paragraph
// separators (Zp) stops text from being hidden or reordered on screen:
// bidirectional overrides and isolates, zero-width spaces and joiners, soft
// hyphens and tag characters.
//
// Private-use characters (Co) and unassigned code points (Cn, which include
// the noncharacters such as U+FFFE) are escaped too, although they cannot
// start an escape sequence: their effect is not fixed by Unicode and some of
// it is dangerous. Kitty draws an image in place of U+10EEEE, its graphics
// placeholder. Several unassigned ranges (U+2065, U+FFF0–U+FFF8, much of
// U+E0000–U+E0FFF) are reserved as default-ignorable, which renderers are told
// to draw as nothing; and a code point unassigned in Go's tables may be a new
// format character in the terminal's newer ones.
// The price is that characters newer than Go's Unicode tables, such as the
// latest emoji, are shown as escapes.
//
// Space separators (Zs) other than U+0020, such as U+00A0 and U+3000, are kept:
// like the ASCII space they are drawn as blank cells and can do nothing else.
// So are combining marks, even at the start of the text, where they can at
// most put a diacritic on the cell before; and U+FFFD, which is a visible
// symbol when it is really in the text (a byte of invalid UTF-8 is escaped
// instead). The rule is about what the terminal does, not about look-alikes:
// homoglyphs and blank-looking letters are shown as they are.
//
// A backslash is not escaped, so the output cannot always be decoded back:
// it is meant for people to read, not for programs.
package termtext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// Sanitize returns s ready to be shown on a terminal, by the rule of the
// package comment: every character that is not graphic, and every byte of
// invalid UTF-8, is replaced by a printable escape (\x1b, \u{202e}). When
// nothing needs escaping, s itself is returned and nothing is allocated.
func Sanitize(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			b.WriteByte(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			writeByteEscape(&b, s[i])
		case keep(r):
			b.WriteString(s[i : i+n])
		case r < 0x100 && unicode.IsControl(r):
			writeByteEscape(&b, byte(r))
		default:
			writeRuneEscape(&b, r)
		}
		i += n
	}
	return b.String()
}

// firstUnsafe returns the index of the first byte of s that must be escaped,
// or -1 if there is none.
func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || !keep(r) {
			return i
		}
		i += n
	}
	return -1
}

// keep reports whether the valid rune r may reach the terminal as is.
func keep(r rune) bool { return unicode.IsGraphic(r) }

// writeByteEscape writes \xNN.
func writeByteEscape(b *strings.Builder, c byte) {
	b.WriteString(`\x`)
	b.WriteByte(hexDigits[c>>4])
	b.WriteByte(hexDigits[c&0xf])
}

// writeRuneEscape writes \u{NNNN}, with at least four hex digits.
func writeRuneEscape(b *strings.Builder, r rune) {
	var buf [8]byte
	h := strconv.AppendUint(buf[:0], uint64(r), 16)
	b.WriteString(`\u{`)
	for range 4 - len(h) {
		b.WriteByte('0')
	}
	b.Write(h)
	b.WriteByte('}')
}
