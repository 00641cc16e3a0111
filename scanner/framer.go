package scanner

import (
	"bytes"
	"errors"
	"io"
)

// Handler receives each complete OSC 5113 payload (the bytes after the code and its ';',
// before the terminator), valid only during the call; or (nil, err) once for a sequence
// that was dropped: err is ErrTooLong if it exceeded the limit, ErrUnterminated if it was
// cut off by another escape sequence, by CAN or SUB, or by the end of the stream. A
// payload may be empty, and may be a slice of the buffer passed to Write: the Handler must
// neither keep nor modify it. Handlers are called in stream order, from the goroutine
// calling Write or Flush, after every pass-through byte that precedes the sequence has
// been written out. A Handler must not call the Scanner.
type Handler func(payload []byte, err error)

// DefaultMaxPayload is the payload limit New uses when given a limit <= 0. It is kitty's
// limit for an OSC body (terminal-side.md §1.1); real client packets are under 6 KiB.
const DefaultMaxPayload = 256 << 10

// MaxHeld is the most bytes a Scanner holds back while it cannot yet tell whether they
// start an OSC 5113 sequence: a run of ESC bytes, an OSC introducer and its code. A longer
// run of such bytes (only a degenerate or hostile stream has one) is dropped.
const MaxHeld = 32

// Errors passed to a Handler for a sequence that was dropped.
var (
	ErrTooLong      = errors.New("scanner: osc 5113 payload too long")
	ErrUnterminated = errors.New("scanner: osc 5113 sequence not terminated")
)

const (
	nul = 0x00
	bel = 0x07
	can = 0x18
	sub = 0x1a
	esc = 0x1b
	del = 0x7f
)

// fileTransferCode is the OSC code of the protocol (terminal-side.md §1.1).
const fileTransferCode = 5113

// maxCodeDigits is how many leading digits of an OSC body kitty reads as its code.
const maxCodeDigits = 5

// A Scanner removes OSC 5113 sequences from a byte stream. Every other byte is written to
// the underlying writer unchanged and in order; each payload goes to the Handler. See the
// package documentation for the exact framing rules.
//
// A Scanner is not safe for concurrent use. Its only error comes from the underlying
// writer; it is persistent: once out fails, every later Write and Flush returns it.
type Scanner struct {
	// Fixed at creation.
	out io.Writer
	h   Handler
	max int

	m     machine       // where the stream stands between writes
	held  [MaxHeld]byte // held[:nheld] are the held bytes that arrived in earlier writes
	nheld int
	buf   []byte // the part of a payload that arrived in earlier writes; cap(buf) <= max
	err   error  // first error from out
}

// New returns a Scanner that writes pass-through bytes to out and calls h for each OSC
// 5113 sequence. Payloads longer than maxPayload bytes are dropped and reported as
// ErrTooLong; maxPayload <= 0 means DefaultMaxPayload. A nil h discards the sequences.
// The Scanner never buffers more than maxPayload bytes of payload (the buffer is kept for
// reuse), plus at most MaxHeld held bytes.
func New(out io.Writer, h Handler, maxPayload int) *Scanner {
	if maxPayload <= 0 {
		maxPayload = DefaultMaxPayload
	}
	if h == nil {
		h = func([]byte, error) {}
	}
	return &Scanner{out: out, h: h, max: maxPayload}
}

// Write forwards every byte of p that is not part of an OSC 5113 sequence to out, in
// order, and calls the Handler for each sequence that ends in p. Bytes at the end of p
// that may start a sequence are held back until the next Write or Flush decides.
// Write returns len(p) and nil unless out fails; then it returns the error, which is
// persistent, and the number of bytes of p processed before the failure.
func (s *Scanner) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}

	// Fast path: no escape sequence can start or be in progress, so p goes out whole.
	if s.m.mode == ground && bytes.IndexByte(p, esc) < 0 {
		if len(p) > 0 {
			if w, err := s.write(p); err != nil {
				return w, err
			}
		}
		return len(p), nil
	}

	// General path: let step classify p piece by piece. Pass-through pieces that touch are
	// written with one call; a payload that ends within p is handed over without a copy.
	var (
		i      int    // p[:i] is classified
		run    int    // p[run:i] is pass-through or held, not yet written
		heldAt = -1   // p[heldAt:i] is held (after s.held[:s.nheld]); -1: nothing is held
		pay    []byte // this write's part of the current payload
	)
	if s.m.holding() {
		heldAt = 0
	}
	for i < len(p) {
		prev := s.m
		var k kind
		var n int
		s.m, k, n = step(prev, p[i:], s.max)
		switch k {
		case pass:
			i += n
			continue
		case hold:
			if !prev.holding() {
				heldAt = i // new held bytes; what passed before them stays pending in p[run:i]
			}
			i += n
			continue
		case release:
			// The held bytes pass. Those from earlier writes go out first (nothing of p
			// precedes them); those in p join the pending pass-through run.
			if s.nheld > 0 {
				if _, err := s.write(s.held[:s.nheld]); err != nil {
					return i, err
				}
				s.nheld = 0
			}
			heldAt = -1
			continue
		case discard, start:
			// The held bytes are dropped (with the introducer they turned out to be, for
			// start): what passed before them goes out, they do not.
			if run < heldAt {
				if w, err := s.write(p[run:heldAt]); err != nil {
					return run + w, err
				}
			}
			s.nheld, heldAt = 0, -1
			i += n
			run = i
			if k == start {
				s.buf, pay = s.buf[:0], nil
			}
			continue
		}

		// Whatever comes next is not contiguous pass-through: write out what is pending.
		if run < i {
			if w, err := s.write(p[run:i]); err != nil {
				return run + w, err
			}
		}
		switch k {
		case data:
			if !prev.drop {
				pay = p[i : i+n]
			}
		case end:
			if !prev.drop {
				payload := pay
				if len(s.buf) > 0 {
					s.appendPayload(pay)
					payload = s.buf
				}
				s.h(payload, nil)
			}
			s.buf, pay = s.buf[:0], nil
		case tooLong:
			s.buf, pay = s.buf[:0], nil
			s.h(nil, ErrTooLong)
		case cut:
			if !prev.drop {
				s.h(nil, ErrUnterminated)
			}
			s.buf, pay = s.buf[:0], nil
			if prev.mode == payloadEsc {
				// The ESC that ended the last write did not turn out to be ST: it starts
				// whatever comes next, and is held like any other ESC.
				s.held[0], s.nheld, heldAt = esc, 1, i
			}
		case wait:
			// Consumed; the meaning is in the new state.
		}
		i += n
		run = i
	}

	// Trailing fringe: pending pass-through goes out, held bytes are kept for the next
	// write, and the part of a payload that continues in the next write is kept.
	end := len(p)
	if heldAt >= 0 {
		end = heldAt
		s.nheld += copy(s.held[s.nheld:], p[heldAt:])
	}
	if run < end {
		if w, err := s.write(p[run:end]); err != nil {
			return run + w, err
		}
	}
	if len(pay) > 0 {
		s.appendPayload(pay)
	}
	return len(p), nil
}

// Flush ends the stream: it writes out the bytes held back as a possible start of a
// sequence, and drops a sequence that is still open, reporting ErrUnterminated to the
// Handler (unless it was already reported as ErrTooLong). The Scanner is then back in its
// initial state. Flush is meant for EOF: calling it in the middle of a stream can let the
// rest of a split sequence through. It returns the persistent error, if any.
func (s *Scanner) Flush() error {
	if s.err != nil {
		return s.err
	}
	m, held := s.m, s.held[:s.nheld]
	s.m, s.buf, s.nheld = machine{}, s.buf[:0], 0
	switch m.mode {
	case escape, oscCode:
		_, _ = s.write(held) // The error is kept in s.err.
	case payload, payloadEsc:
		if !m.drop {
			s.h(nil, ErrUnterminated)
		}
		if m.mode == payloadEsc {
			// The ESC did not turn out to be ST: it is the start of something else.
			s.held[0] = esc
			_, _ = s.write(s.held[:1]) // The error is kept in s.err.
		}
	}
	return s.err
}

// write writes b to out and records the first failure.
func (s *Scanner) write(b []byte) (int, error) {
	w, err := s.out.Write(b)
	if err == nil && w < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		s.err = err
	}
	return w, err
}

// appendPayload adds b to the buffered payload. step guarantees that the payload fits
// the limit, so the buffer grows by doubling up to s.max and never past it.
func (s *Scanner) appendPayload(b []byte) {
	if need := len(s.buf) + len(b); need > cap(s.buf) {
		c := min(max(2*cap(s.buf), need, 4<<10), s.max)
		grown := make([]byte, len(s.buf), c)
		copy(grown, s.buf)
		s.buf = grown
	}
	s.buf = append(s.buf, b...)
}

// mode is where the stream stands.
type mode uint8

const (
	ground     mode = iota // between sequences: bytes pass through
	escape                 // held bytes end with an ESC whose sequence is not known yet
	oscCode                // held bytes end with "ESC ]" and part of the OSC code
	payload                // inside a payload of machine.size bytes so far
	payloadEsc             // inside a payload, right after an ESC: ST, or the start of something else
)

// machine is the whole state carried from one write to the next.
type machine struct {
	mode mode
	held uint8 // escape, oscCode: how many bytes are held, 1 to MaxHeld

	// oscCode: the code read without NUL and DEL (digits of it so far, and their value),
	// and read as the raw bytes (which ends at the first byte that is not a digit).
	digits, rawDigits uint8
	code, rawCode     uint32
	rawDone           bool

	drop bool // payload modes: the sequence is too long; swallow it up to its end
	size int  // payload modes: payload bytes so far (unless drop)
}

// readCode adds c, a byte of the code (isCodeByte), to both readings of the code.
func (m machine) readCode(c byte) machine {
	digit := '0' <= c && c <= '9'
	if digit {
		m.code = 10*m.code + uint32(c-'0')
		m.digits++
	}
	switch {
	case m.rawDone:
	case digit && m.rawDigits < maxCodeDigits:
		m.rawCode = 10*m.rawCode + uint32(c-'0')
		m.rawDigits++
	default:
		m.rawDone = true
	}
	return m
}

// isFileTransfer reports whether either reading of the code is 5113.
func (m machine) isFileTransfer() bool {
	return (m.digits > 0 && m.code == fileTransferCode) || (m.rawDigits > 0 && m.rawCode == fileTransferCode)
}

// holding reports whether bytes are held back in m.
func (m machine) holding() bool { return m.mode == escape || m.mode == oscCode }

// kind is what step found at the start of its input.
type kind uint8

const (
	pass    kind = iota // p[:n] passes through
	hold                // p[:n] is held back: only what follows can tell whether it passes
	release             // n == 0; the held bytes pass through
	discard             // n == 0; the held bytes are dropped: there are too many
	start               // the held bytes and p[:n] were an introducer: a payload begins
	wait                // p[:n] is consumed but only the next write can tell what it is
	data                // p[:n] is payload
	end                 // p[:n] is a terminator (or its second half); the payload is complete
	tooLong             // n == 0; the payload would exceed the limit: drop the sequence
	cut                 // the sequence ends here without a terminator: drop it. p[:n] is a
	//                     CAN or SUB that aborted it (n == 1), or n == 0 and an ESC starts
	//                     something else
)

// step is the whole framing policy. Given the state m and the next bytes p (len(p) > 0),
// it classifies the first n bytes of p and returns the state after them. It has no side
// effects. n == 0 only for release, discard, start, tooLong and cut, which change the
// state so that the next step makes progress.
func step(m machine, p []byte, limit int) (machine, kind, int) {
	switch m.mode {
	case ground:
		// Skip every ESC that cannot start an OSC here, so that ordinary escape sequences
		// (CSI, ST, DCS, …) cost one comparison, not a trip through the driver.
		for off := 0; ; {
			i := bytes.IndexByte(p[off:], esc)
			if i < 0 {
				return m, pass, len(p)
			}
			i += off
			if i+1 < len(p) && !mayStartOSC(p[i+1]) {
				off = i + 2
				continue
			}
			if i > 0 {
				return m, pass, i // the bytes before it first
			}
			return machine{mode: escape}.hold(1)
		}

	case escape:
		switch c := p[0]; {
		case c != ']' && mayStartOSC(c):
			// ESC ESC: the last ESC of a run is the one that may start an OSC. A control or
			// 8-bit byte: older kitty skips it after the ESC that ends a DCS string.
			return m.hold(1)
		case c == ']':
			m = machine{mode: oscCode, held: m.held}
			return m.hold(1)
		}
		return machine{}, release, 0

	case oscCode:
		// kitty reads the code as the value of up to five digits at the start of the OSC
		// body; older kitty drops NUL and DEL from the body first (terminal-side.md §1.1).
		// The code is known when both readings are.
		room := MaxHeld - int(m.held)
		n := 0
		for n < len(p) && n < room && isCodeByte(p[n], m.digits) {
			m = m.readCode(p[n])
			n++
		}
		switch {
		case n > 0:
			return m.hold(n)
		case isCodeByte(p[0], m.digits):
			return machine{}, discard, 0 // MaxHeld bytes are held and the code goes on
		}
		// p[0] ends the code.
		if m.isFileTransfer() {
			if p[0] == ';' { // kitty skips one ';' after the code
				return machine{mode: payload}, start, 1
			}
			return machine{mode: payload}, start, 0
		}
		if p[0] == esc {
			// Another code: but if this ESC starts a sequence that is removed, the terminal
			// would read the code on from the bytes after it. Hold on until it is known.
			m.mode = escape
			return m.hold(1)
		}
		return machine{}, release, 0

	case payload:
		i := terminator(p)
		if !m.drop && m.size+i > limit {
			return machine{mode: payload, drop: true}, tooLong, 0
		}
		if i > 0 {
			if !m.drop {
				m.size += i
			}
			return m, data, i
		}
		switch {
		case p[0] == bel:
			return machine{}, end, 1
		case p[0] == can || p[0] == sub:
			// A terminal aborts any control sequence at CAN or SUB.
			return machine{}, cut, 1
		case len(p) == 1:
			m.mode = payloadEsc
			return m, wait, 1
		case p[1] == '\\':
			return machine{}, end, 2
		default:
			// ESC starts another sequence, which ends this one unterminated. The ESC is
			// left in p to be looked at afresh.
			return machine{}, cut, 0
		}

	case payloadEsc:
		if p[0] == '\\' {
			return machine{}, end, 1
		}
		// The ESC seen at the end of the last write starts another sequence; the driver
		// holds it.
		return machine{mode: escape, held: 1}, cut, 0
	}
	panic("scanner: internal error: bad mode")
}

// hold returns the step that holds back n more bytes in m, or discards everything held if
// that would exceed MaxHeld. The caller keeps n within MaxHeld when it can.
func (m machine) hold(n int) (machine, kind, int) {
	if int(m.held)+n > MaxHeld {
		return machine{}, discard, 0
	}
	m.held += uint8(n)
	return m, hold, n
}

// mayStartOSC reports whether c, after an ESC, may lead to an OSC: ']' itself, another
// ESC, or a byte that older kitty skips between the ESC and the ']' when they end a DCS
// string (anything but printable ASCII).
func mayStartOSC(c byte) bool { return c == ']' || c < 0x20 || c >= 0x7f }

// isCodeByte reports whether c continues an OSC code that has digits digits so far.
func isCodeByte(c byte, digits uint8) bool {
	return c == nul || c == del || (c >= '0' && c <= '9' && digits < maxCodeDigits)
}

// terminator returns the index of the first byte in p that ends or may end a payload:
// ESC, BEL, CAN or SUB; or len(p).
func terminator(p []byte) int {
	i := bytes.IndexByte(p, esc)
	if i < 0 {
		i = len(p)
	}
	for _, c := range [...]byte{bel, can, sub} {
		if j := bytes.IndexByte(p[:i], c); j >= 0 {
			i = j
		}
	}
	return i
}
