// Package kittykey recognises, in what the user types, the keys xferterm acts on
// itself: Ctrl+C (to cancel a transfer) and, in the client, Esc and y/n. A terminal
// sends Ctrl+C as the legacy byte 0x03 or, under the kitty keyboard protocol, as a key
// event CSI code[:shifted[:base]] ; modifiers[:event] [; text] u
// (reference-client.md §6). The proxy's input router and the client's key detector
// both use this one reading of it.
//
// A key matches by its code or its key on the base layout (so ctrl+c on a non-Latin
// layout still counts), with exactly the modifiers asked for once Caps Lock and Num
// Lock are set aside, and only when pressed or repeated, never released.
package kittykey

import "bytes"

// CtrlCByte is the legacy Ctrl+C: the byte a terminal sends for it outside the kitty
// keyboard protocol (raw mode turns ISIG off, so it arrives as a byte).
const CtrlCByte = 0x03

// Esc is the key code of Esc.
const Esc = 27

// Modifier bits of a key event: the modifiers field minus one.
const (
	Shift    = 1
	Alt      = 2
	Ctrl     = 4
	Super    = 8
	Hyper    = 16
	Meta     = 32
	CapsLock = 64
	NumLock  = 128
)

// Event types.
const (
	Press   = 1
	Repeat  = 2
	Release = 3
)

// maxNumber bounds a number of a key event: code points need 7 digits.
const maxNumber = 7

// Event is one key event of the kitty keyboard protocol.
type Event struct {
	Code rune // the key (unshifted)
	Base rune // the key on the base layout, 0 when not reported
	Mods int  // modifier bits
	Type int  // Press, Repeat or Release
}

// Parse reads the parameters of a CSI … u sequence: what lies between CSI and the
// final u. It reports false when they are not a key event.
func Parse(params []byte) (Event, bool) {
	var fields [3][]byte
	n := 0
	for f := range bytes.SplitSeq(params, []byte(";")) {
		if n == len(fields) {
			return Event{}, false
		}
		fields[n] = f
		n++
	}
	keys, ok := numbers(fields[0], 3)
	if !ok || len(keys) == 0 || keys[0] < 0 {
		return Event{}, false
	}
	e := Event{Code: rune(keys[0]), Type: Press}
	if len(keys) == 3 && keys[2] > 0 {
		e.Base = rune(keys[2])
	}
	if n > 1 && len(fields[1]) > 0 {
		mods, ok := numbers(fields[1], 2)
		if !ok || len(mods) == 0 || mods[0] < 1 {
			return Event{}, false
		}
		e.Mods = mods[0] - 1
		if len(mods) == 2 {
			e.Type = mods[1]
		}
	}
	return e, true
}

// numbers parses up to max numbers separated by ':'; an empty one (an alternate key
// left out) is -1.
func numbers(b []byte, max int) ([]int, bool) {
	var out []int
	for f := range bytes.SplitSeq(b, []byte(":")) {
		if len(out) == max || len(f) > maxNumber {
			return nil, false
		}
		v := -1
		if len(f) > 0 {
			v = 0
			for _, c := range f {
				if c < '0' || c > '9' {
					return nil, false
				}
				v = v*10 + int(c-'0')
			}
		}
		out = append(out, v)
	}
	return out, true
}

// Is reports whether e is a press or a repeat of key, by its code or its base-layout
// key, with exactly the modifiers mods, Caps Lock and Num Lock aside.
func (e Event) Is(key rune, mods int) bool {
	return (e.Type == Press || e.Type == Repeat) && (e.Code == key || e.Base == key) &&
		e.Mods&^(CapsLock|NumLock) == mods
}

// CtrlC reports whether e is Ctrl+C.
func (e Event) CtrlC() bool { return e.Is('c', Ctrl) }

// csiLen returns the length of the CSI … u sequence at the start of p and its
// parameters, or 0 when p does not start with a complete one.
func csiLen(p []byte) (int, []byte) {
	if len(p) < 3 || p[0] != 0x1b || p[1] != '[' {
		return 0, nil
	}
	for j := 2; j < len(p) && j < 2+3*(maxNumber+1)*2; j++ {
		switch b := p[j]; {
		case b == 'u':
			return j + 1, p[2:j]
		case (b < '0' || b > '9') && b != ';' && b != ':':
			return 0, nil
		}
	}
	return 0, nil
}

// CtrlCAt returns the length of the Ctrl+C press at the start of p: 1 for the legacy
// byte, the length of the CSI … u sequence for a kitty keyboard event; 0 when p does
// not start with one.
func CtrlCAt(p []byte) int {
	if len(p) > 0 && p[0] == CtrlCByte {
		return 1
	}
	n, params := csiLen(p)
	if n == 0 {
		return 0
	}
	if e, ok := Parse(params); ok && e.CtrlC() {
		return n
	}
	return 0
}

// MayHoldCtrlC is a cheap test before StripCtrlC: it is false when p cannot hold a
// Ctrl+C press (most typing).
func MayHoldCtrlC(p []byte) bool {
	return bytes.IndexByte(p, CtrlCByte) >= 0 || bytes.Contains(p, []byte("\x1b[99")) || bytes.Contains(p, []byte(":99"))
}

// StripCtrlC removes every Ctrl+C press from p, in place, and returns what is left and
// whether there was any.
func StripCtrlC(p []byte) ([]byte, bool) {
	out, found := p[:0], false
	for i := 0; i < len(p); {
		if n := CtrlCAt(p[i:]); n > 0 {
			i, found = i+n, true
			continue
		}
		out = append(out, p[i])
		i++
	}
	return out, found
}
