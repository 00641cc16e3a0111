package proxy

import (
	"bytes"
	"strconv"
)

// trackedMode returns the i-th of the DEC private modes whose state the proxy follows in
// the child's output, so that what a borrower (the approval prompt) did to them can be
// undone: what a prompt may change (the cursor, the screen it draws on), what would
// confuse the user if it stayed changed (bracketed paste, focus and mouse reports), and
// a synchronized update that would keep the prompt from being seen. Kitty keyboard
// flags are a stack the borrower pushes and pops itself, and modifyOtherKeys is never
// touched by the prompt (prompt.Prompt filters it out), so neither is followed here.
func trackedMode(i int) uint16 {
	return [numModes]uint16{
		25,   // DECTCEM: cursor visible
		2004, // bracketed paste
		1004, // focus events
		1000, // mouse: button press and release
		1002, // mouse: button motion
		1003, // mouse: any motion
		1006, // mouse: SGR encoding
		2026, // synchronized output: an update in progress
		1049, // alternate screen, saving the cursor
		1047, // alternate screen
		47,   // alternate screen (old form)
	}[i]
}

// Indexes of trackedMode used by name.
const (
	numModes = 11
	modeSync = 7 // 2026
	modeAlt  = 8 // 1049, 1047, 47: the first of the alternate-screen modes
)

// maxModeParams bounds the parameters of one CSI sequence the tracker collects; a
// longer sequence is skipped (its modes become unknown if it sets any, see dispatch).
const maxModeParams = 16

// modeState is what the tracker knows of one mode.
type modeState uint8

const (
	modeUnknown modeState = iota // never seen, or reset in a way we do not model
	modeSet
	modeReset
)

// trackerStep is where the tracker is in an escape sequence split across writes.
type trackerStep uint8

const (
	stepGround   trackerStep = iota // plain text: look for the next ESC
	stepEsc                         // after ESC
	stepCSIStart                    // after ESC [
	stepCSI                         // inside ESC [ ? … or ESC [ ! …, collecting
)

// modeTracker follows the DEC private modes of trackedMode in a byte stream (the
// child's output as the terminal sees it): CSI ? Pm h and CSI ? Pm l, plus the
// sequences that change them in ways it does not model (CSI ? Pm r, XTRESTORE; CSI ! p,
// DECSTR; ESC c, RIS), after which they are unknown. Sequences may be split anywhere
// across writes; its state is a few fixed fields, so memory is bounded whatever the
// input. Other sequences are skipped without being collected.
//
// A modeTracker is not safe for concurrent use; the Console guards it with its gate.
type modeTracker struct {
	step   trackerStep
	prefix byte // CSI private prefix ('?', '>', '<', '='), or 0
	inter  byte // CSI intermediate byte, or 0
	skip   bool // the sequence has a form we do not follow (sub-parameters, bad order)
	over   bool // more than maxModeParams parameters
	n      int  // parameters collected in params
	cur    int  // the parameter being read; saturates at 1<<16
	params [maxModeParams]uint16

	modes [numModes]modeState
}

const esc = 0x1b

// Write follows the modes set in p. It never fails.
func (t *modeTracker) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if t.step == stepGround {
			p = t.ground(p)
			continue
		}
		t.feed(p[0])
		p = p[1:]
	}
	return n, nil
}

// ground is the fast path: it skips text up to the next ESC in one search, and whole
// CSI sequences that are not ours (SGR, cursor moves) in a tight loop, and returns what
// is left from the first byte that needs a closer look, with t.step set for it.
func (t *modeTracker) ground(p []byte) []byte {
	for {
		i := bytes.IndexByte(p, esc)
		if i < 0 {
			return nil
		}
		p = p[i+1:]
		if len(p) < 2 || p[0] != '[' || p[1] == '?' || p[1] == '!' {
			t.step = stepEsc
			return p
		}
		j := 1
		for j < len(p) && p[j] >= 0x20 && p[j] <= 0x3f {
			j++
		}
		if j == len(p) || p[j] < 0x40 || p[j] > 0x7e {
			// Cut by the end of p, or an unusual byte (a control, ESC): byte by byte.
			t.step = stepCSIStart
			return p[1:]
		}
		p = p[j+1:]
	}
}

// startCSI starts collecting a CSI sequence with the given prefix and intermediate.
func (t *modeTracker) startCSI(prefix, inter byte) {
	t.step = stepCSI
	t.prefix, t.inter, t.skip, t.over, t.n, t.cur = prefix, inter, false, false, 0, -1
}

// feed takes one byte of an escape sequence.
func (t *modeTracker) feed(b byte) {
	if b == esc { // ESC aborts any sequence and starts a new one.
		t.step = stepEsc
		return
	}
	switch t.step {
	case stepEsc:
		switch b {
		case '[':
			t.step = stepCSIStart
		case 'c': // RIS: a full reset.
			t.forgetAll()
			t.step = stepGround
		default: // Another kind of sequence, or a two-byte one: nothing we follow.
			t.step = stepGround
		}
	case stepCSIStart:
		// Only CSI ? … (DEC private modes) and CSI ! p (DECSTR) are ours. The rest of
		// another sequence cannot hold the start of one of ours (that needs an ESC,
		// which ends it), so the fast path can skip it as text.
		switch b {
		case '?':
			t.startCSI('?', 0)
		case '!':
			t.startCSI(0, '!')
		default:
			t.step = stepGround
		}
	case stepCSI:
		switch {
		case b >= '0' && b <= '9':
			if t.inter != 0 {
				t.skip = true
			}
			if t.cur < 0 {
				t.cur = 0
			}
			if t.cur < 1<<16 {
				t.cur = t.cur*10 + int(b-'0')
			}
		case b == ';':
			if t.inter != 0 {
				t.skip = true
			}
			t.push()
			t.cur = 0
		case b == ':':
			t.skip = true
		case b >= 0x3c && b <= 0x3f: // private prefix: only first
			if t.n > 0 || t.cur >= 0 || t.prefix != 0 || t.inter != 0 {
				t.skip = true
			}
			t.prefix = b
		case b >= 0x20 && b <= 0x2f: // intermediate
			if t.inter != 0 {
				t.skip = true
			}
			t.inter = b
		case b >= 0x40 && b <= 0x7e: // final
			if t.cur >= 0 {
				t.push()
			}
			t.dispatch(b)
			t.step = stepGround
		case b == 0x18 || b == 0x1a: // CAN, SUB: abort.
			t.step = stepGround
		case b < 0x20 || b == 0x7f:
			// Other C0 controls are executed by the terminal within a sequence.
		default: // 8-bit bytes end the sequence in a UTF-8 terminal.
			t.step = stepGround
		}
	}
}

// push ends the parameter being read.
func (t *modeTracker) push() {
	if t.n == len(t.params) {
		t.over = true
		return
	}
	v := max(t.cur, 0)
	if v > 0xffff {
		v = 0 // Not a mode we track.
	}
	t.params[t.n] = uint16(v)
	t.n++
}

// dispatch applies a complete CSI sequence.
func (t *modeTracker) dispatch(final byte) {
	if t.skip {
		return
	}
	switch {
	case t.prefix == '?' && t.inter == 0 && (final == 'h' || final == 'l'):
		if t.over {
			// Some modes went by uncounted: we no longer know any.
			t.forgetAll()
		}
		st := modeSet
		if final == 'l' {
			st = modeReset
		}
		for _, p := range t.params[:t.n] {
			if i := modeIndex(p); i >= 0 {
				t.modes[i] = st
			}
		}
	case t.prefix == '?' && t.inter == 0 && final == 'r':
		// XTRESTORE puts back modes saved by XTSAVE, which we do not follow; with no
		// parameter some terminals restore every mode, others none.
		if t.n == 0 || t.over {
			t.forgetAll()
		}
		for _, p := range t.params[:t.n] {
			if i := modeIndex(p); i >= 0 {
				t.modes[i] = modeUnknown
			}
		}
	case t.prefix == 0 && t.inter == '!' && final == 'p': // DECSTR, a soft reset.
		t.forgetAll()
	}
}

func (t *modeTracker) forgetAll() { t.modes = [numModes]modeState{} }

func modeIndex(mode uint16) int {
	for i := range numModes {
		if trackedMode(i) == mode {
			return i
		}
	}
	return -1
}

// state returns what is known of mode (unknown if it is not tracked).
func (t *modeTracker) state(mode uint16) modeState {
	if i := modeIndex(mode); i >= 0 {
		return t.modes[i]
	}
	return modeUnknown
}

// appendPause appends what makes the terminal show a borrower: the end of a
// synchronized update the child has begun (the terminal would hold the prompt back until
// it times out).
func (t *modeTracker) appendPause(dst []byte) []byte {
	if t.modes[modeSync] == modeSet {
		dst = appendMode(dst, trackedMode(modeSync), false)
	}
	return dst
}

// appendRestore appends what puts the terminal back in the child's known modes after a
// borrower: each known mode is written again, so that whatever the borrower changed is
// undone; unknown modes are left alone. An alternate screen the child was on is entered
// again (the borrower, drawing on its own alternate screen, left it), though its content
// is gone until the child redraws; a mode known reset is not written again, since
// leaving an alternate screen moves the cursor.
func (t *modeTracker) appendRestore(dst []byte) []byte {
	alt := false
	for i, st := range t.modes {
		if st == modeUnknown || i == modeSync {
			continue
		}
		if i >= modeAlt {
			if st == modeSet && !alt {
				dst, alt = appendMode(dst, trackedMode(i), true), true
			}
			continue
		}
		dst = appendMode(dst, trackedMode(i), st == modeSet)
	}
	// Last, so that the child's update in progress goes on hiding what it draws next.
	if t.modes[modeSync] == modeSet {
		dst = appendMode(dst, trackedMode(modeSync), true)
	}
	return dst
}

// onAltScreen reports whether the child is known to be on the alternate screen.
func (t *modeTracker) onAltScreen() bool {
	for i := modeAlt; i < numModes; i++ {
		if t.modes[i] == modeSet {
			return true
		}
	}
	return false
}

// appendMode appends CSI ? mode h (set) or l (reset).
func appendMode(dst []byte, mode uint16, set bool) []byte {
	dst = append(dst, "\x1b[?"...)
	dst = strconv.AppendUint(dst, uint64(mode), 10)
	if set {
		return append(dst, 'h')
	}
	return append(dst, 'l')
}
