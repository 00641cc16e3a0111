package scanner

import "bytes"

// Dialect is the generation of kitty's transfer client on the other side of a session. It
// decides how replies are encoded and which delta format `tt=rsync` means; the engine keeps
// one per session.
type Dialect uint8

const (
	// DialectCurrent is `kitten transfer` (Go, kitty 0.30 and later, 0.48 verified): it
	// refuses padded base64 and uses kitty's own delta format (rsync.md). The zero value,
	// and the answer whenever nothing proves otherwise.
	DialectCurrent Dialect = iota
	// Dialect026 is `kitty +kitten transfer` (Python, kitty 0.26 as Debian 12 ships it):
	// it demands padded base64 and uses librsync's delta formats.
	Dialect026
)

func (d Dialect) String() string {
	if d == Dialect026 {
		return "kitty-0.26"
	}
	return "current"
}

// Sniffer tells, from the bytes a client prints before its first command, which generation
// of kitty's client is about to speak. Feed it the pass-through bytes (what a Scanner
// writes to the terminal), and call Take when the Scanner hands over a payload: since the
// Scanner writes every byte that precedes a sequence before calling its Handler, the
// Sniffer has then seen everything before it.
//
// The 0.26 client sets the terminal up with a fixed preamble right before its first
// command. Four markers of it, in this order, mark the next sequence as Dialect026: S7C1T
// (ESC SP F), reset LNM (CSI 20 l), XTPUSHCOLORS (CSI # P) and a push of kitty keyboard
// flags 31 (CSI > 31 u). Other bytes may come between them. Any other change of the
// keyboard flags (a push of other flags, as the current client's CSI > 29 u right before
// its own first command, a pop, a set) starts the search again, and so does Take.
//
// So the current client can never be taken for the old one: it pushes flags 29 after
// anything that came before and right before its first command. A remote that prints the
// markers on purpose gains nothing but padded replies for its own next session. Memory is
// a few fixed fields; sequences may be split anywhere across writes.
//
// A Sniffer is not safe for concurrent use.
type Sniffer struct {
	found   int // markers found so far, in order; len(markers026) means Dialect026
	st      sniffStep
	body    [sniffMax]byte // the current sequence after ESC (or after CSI), up to sniffMax bytes
	n       int            // bytes in body
	toolong bool           // the sequence is longer than body: not one we look for
}

type sniffStep uint8

const (
	sniffGround   sniffStep = iota // text: look for ESC
	sniffEsc                       // after ESC
	sniffEscInter                  // after ESC and intermediates
	sniffCSI                       // inside CSI
)

// sniffMax is the longest sequence body the Sniffer compares; every marker is shorter.
const sniffMax = 8

// markers026 are the 0.26 client's preamble markers, as sequence bodies: after ESC for an
// escape sequence, after ESC [ for a CSI (terminated by its final byte).
var markers026 = [...]string{"\x1b F", "\x1b[20l", "\x1b[#P", "\x1b[>31u"}

// Write follows p. It never fails.
func (s *Sniffer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if s.st == sniffGround {
			i := bytes.IndexByte(p, esc)
			if i < 0 {
				break
			}
			p = p[i:]
		}
		s.feed(p[0])
		p = p[1:]
	}
	return n, nil
}

// feed takes one byte.
func (s *Sniffer) feed(b byte) {
	if b == esc { // ESC ends any sequence in progress and starts a new one.
		s.st, s.n, s.toolong = sniffEsc, 0, false
		s.keep(b)
		return
	}
	switch s.st {
	case sniffEsc, sniffEscInter:
		switch {
		case b == '[' && s.st == sniffEsc:
			s.st = sniffCSI
			s.keep(b)
		case b >= 0x20 && b <= 0x2f: // intermediate
			s.st = sniffEscInter
			s.keep(b)
		case b >= 0x30 && b <= 0x7e: // final
			s.keep(b)
			s.done()
		default: // a control or 8-bit byte: not a sequence we look for
			s.st = sniffGround
		}
	case sniffCSI:
		switch {
		case s.n == 2 && b >= 0x20 && !csiWatched(b):
			// Not a sequence we look for (most often SGR): its other bytes
			// are skipped as text is.
			s.st = sniffGround
		case b >= 0x20 && b <= 0x3f: // parameters and intermediates
			s.keep(b)
		case b >= 0x40 && b <= 0x7e:
			s.keep(b)
			s.done()
		case b == 0x18 || b == 0x1a: // CAN, SUB abort
			s.st = sniffGround
		case b < 0x20:
			// Other C0 controls are executed within a sequence.
		default:
			s.st = sniffGround
		}
	}
}

// csiWatched reports whether a CSI whose first byte after ESC [ is b may be one the
// Sniffer looks for: reset LNM (2), XTPUSHCOLORS (#) or a change of the kitty keyboard
// flags (>, <, =).
func csiWatched(b byte) bool {
	return b == '2' || b == '#' || b == '>' || b == '<' || b == '='
}

func (s *Sniffer) keep(b byte) {
	if s.n == len(s.body) {
		s.toolong = true
		return
	}
	s.body[s.n] = b
	s.n++
}

// done handles a complete sequence.
func (s *Sniffer) done() {
	s.st = sniffGround
	if s.toolong {
		return
	}
	seq := s.body[:s.n]
	if len(seq) >= 3 && seq[1] == '[' && seq[len(seq)-1] == 'u' && (seq[2] == '>' || seq[2] == '<' || seq[2] == '=') {
		// A change of the kitty keyboard flags: the last marker, or the end of a
		// search.
		if s.found == len(markers026)-1 && string(seq) == markers026[len(markers026)-1] {
			s.found++
		} else {
			s.found = 0
		}
		return
	}
	switch {
	case string(seq) == markers026[0]:
		s.found = 1
	case s.found > 0 && s.found < len(markers026)-1 && string(seq) == markers026[s.found]:
		s.found++
	}
}

// Take returns the dialect of the sender of the sequence that follows the bytes seen so
// far, and starts the search again: the preamble speaks for one sequence only, the first
// command of the session it opens.
func (s *Sniffer) Take() Dialect {
	d := DialectCurrent
	if s.found == len(markers026) {
		d = Dialect026
	}
	s.found = 0
	return d
}
