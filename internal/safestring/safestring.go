// Package safestring is the protocol's rule for the values it calls safe strings: the
// session id, the file id and the parent id (terminal-side.md §1.2). Only the characters
// 0-9, A-Z, a-z and _ : . / @ - are kept; kitty deletes the others when it parses, and
// they could never break the framing of an escape code. The terminal side (scanner)
// filters what it parses and what it writes with this rule; the client (client) makes
// and checks its ids with it, so that they arrive unchanged.
package safestring

// Safe reports whether b is a character of a safe string.
func Safe(b byte) bool {
	switch {
	case b >= '0' && b <= '9', b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z':
		return true
	}
	switch b {
	case '_', ':', '.', '/', '@', '-':
		return true
	}
	return false
}

// Valid reports whether s is not empty and made of safe characters only: a value that
// the other side keeps as it is.
func Valid[S ~string | ~[]byte](s S) bool {
	for i := 0; i < len(s); i++ {
		if !Safe(s[i]) {
			return false
		}
	}
	return len(s) > 0
}

// Filter returns val with every character that is not safe deleted, as kitty does. It
// allocates only when something is deleted (besides the conversion to string).
func Filter(val []byte) string {
	if Valid(val) || len(val) == 0 {
		return string(val)
	}
	return string(Append(make([]byte, 0, len(val)), val))
}

// Append appends the safe characters of s to dst.
func Append[S ~string | ~[]byte](dst []byte, s S) []byte {
	for i := 0; i < len(s); i++ {
		if Safe(s[i]) {
			dst = append(dst, s[i])
		}
	}
	return dst
}
