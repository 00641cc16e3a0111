package scanner

import (
	"bytes"
	"errors"
	"io"
)

// Handler receives each complete OSC 5113 payload (the bytes after "ESC ] 5113 ;" and
// before the terminator), valid only during the call; or (nil, err) once for a sequence
// that was dropped: err is ErrTooLong if it exceeded the limit, ErrUnterminated if it was
// cut off by another escape sequence or by the end of the stream. A payload may be empty,
// and may be a slice of the buffer passed to Write: the Handler must neither keep nor
// modify it. Handlers are called in stream order, from the goroutine calling Write or
// Flush, after every pass-through byte that precedes the sequence has been written out.
// A Handler must not call the Scanner.
type Handler func(payload []byte, err error)

// DefaultMaxPayload is the payload limit New uses when given a limit <= 0. It is kitty's
// limit for an OSC body (terminal-side.md §1.1); real client packets are under 6 KiB.
const DefaultMaxPayload = 256 << 10

// Errors passed to a Handler for a sequence that was dropped.
var (
	ErrTooLong      = errors.New("scanner: osc 5113 payload too long")
	ErrUnterminated = errors.New("scanner: osc 5113 sequence not terminated")
)

const (
	esc = 0x1b
	bel = 0x07
)

// introducer starts every OSC 5113 sequence (terminal-side.md §1.1).
const introducer = "\x1b]5113;"

// A Scanner removes OSC 5113 sequences from a byte stream. Every other byte is written to
// the underlying writer unchanged and in order; each payload goes to the Handler. See the
// package documentation for the exact framing rules.
//
// A Scanner is not safe for concurrent use. Its only error comes from the underlying
// writer; it is persistent: once out fails, every later Write and Flush returns it.
type Scanner struct {
	// Fixed at creation.
	out   io.Writer
	h     Handler
	max   int
	intro [len(introducer)]byte // held bytes are written from here, without allocating

	m   machine // where the stream stands between writes
	buf []byte  // the part of a payload that arrived in earlier writes; cap(buf) <= max
	err error   // first error from out
}

// New returns a Scanner that writes pass-through bytes to out and calls h for each OSC
// 5113 sequence. Payloads longer than maxPayload bytes are dropped and reported as
// ErrTooLong; maxPayload <= 0 means DefaultMaxPayload. A nil h discards the sequences.
// The Scanner never buffers more than maxPayload bytes of payload (the buffer is kept for
// reuse), plus at most 6 held bytes, which are kept as a count.
func New(out io.Writer, h Handler, maxPayload int) *Scanner {
	if maxPayload <= 0 {
		maxPayload = DefaultMaxPayload
	}
	if h == nil {
		h = func([]byte, error) {}
	}
	s := &Scanner{out: out, h: h, max: maxPayload}
	copy(s.intro[:], introducer)
	return s
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
		i   int    // p[:i] is classified
		run int    // p[run:i] is pass-through not yet written
		pay []byte // this write's part of the current payload
	)
	for i < len(p) {
		prev := s.m
		var k kind
		var n int
		s.m, k, n = step(prev, p[i:], s.max)
		if k == pass {
			i += n
			continue
		}
		// Whatever comes next is not contiguous pass-through: write out what is pending.
		if run < i {
			if w, err := s.write(p[run:i]); err != nil {
				return run + w, err
			}
		}
		switch k {
		case release:
			if _, err := s.write(s.intro[:prev.held]); err != nil {
				return i, err
			}
			run = i // p[i:i+n] joins the next pass-through run
			i += n
			continue
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
		case wait, start:
			// Consumed; the meaning is in the new state.
		}
		i += n
		run = i
	}

	// Trailing fringe: pending pass-through goes out, and the part of a payload that
	// continues in the next write is kept.
	if run < len(p) {
		if w, err := s.write(p[run:]); err != nil {
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
	m := s.m
	s.m, s.buf = machine{}, s.buf[:0]
	switch m.mode {
	case held:
		_, _ = s.write(s.intro[:m.held]) // The error is kept in s.err.
	case payload, payloadEsc:
		if !m.drop {
			s.h(nil, ErrUnterminated)
		}
		if m.mode == payloadEsc {
			// The ESC did not turn out to be ST: it is the start of something else.
			_, _ = s.write(s.intro[:1]) // ESC; the error is kept in s.err.
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
	held                   // the last machine.held bytes seen are introducer[:held]
	payload                // inside a payload of machine.size bytes so far
	payloadEsc             // inside a payload, right after an ESC: ST, or the start of something else
)

// machine is the whole state carried from one write to the next.
type machine struct {
	mode mode
	held uint8 // mode held: length of the introducer prefix seen, 1 to len(introducer)-1
	drop bool  // payload modes: the sequence is too long; swallow it up to its end
	size int   // payload modes: payload bytes so far (unless drop)
}

// kind is what step found at the start of its input.
type kind uint8

const (
	pass    kind = iota // p[:n] passes through
	release             // introducer[:held] of the old state passes through, then p[:n]
	wait                // p[:n] is consumed but only the next write can tell what it is
	start               // p[:n] completes an introducer; a payload begins
	data                // p[:n] is payload
	end                 // p[:n] is a terminator (or its second half); the payload is complete
	tooLong             // n == 0; the payload would exceed the limit: drop the sequence
	cut                 // n == 0; the sequence ends here without a terminator: drop it
)

// step is the whole framing policy. Given the state m and the next bytes p (len(p) > 0),
// it classifies the first n bytes of p and returns the state after them. It has no side
// effects. n == 0 only for release, tooLong and cut, which change the state so that the
// next step makes progress.
func step(m machine, p []byte, limit int) (machine, kind, int) {
	switch m.mode {
	case ground:
		// Skip every ESC that does not start an introducer (CSI, other OSCs, …) here, so
		// that ordinary escape sequences cost one comparison, not a trip through the driver.
		for off := 0; ; {
			i := bytes.IndexByte(p[off:], esc)
			if i < 0 {
				return m, pass, len(p)
			}
			i += off
			j := matched(p[i:], introducer)
			switch {
			case i > 0 && (j == len(introducer) || i+j == len(p)):
				return m, pass, i // the bytes before it first
			case j == len(introducer):
				return machine{mode: payload}, start, j
			case i+j == len(p):
				return machine{mode: held, held: uint8(j)}, wait, j
			}
			// Not an introducer: the ESC and what matched pass; p[i+j] is looked at afresh.
			off = i + j
		}

	case held:
		rest := introducer[m.held:]
		j := matched(p, rest)
		switch {
		case j == len(rest):
			return machine{mode: payload}, start, j
		case j == len(p):
			return machine{mode: held, held: m.held + uint8(j)}, wait, j
		default:
			return machine{}, release, j
		}

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
		// The ESC seen at the end of the last write starts another sequence; it is now
		// the first held byte of what may be a new introducer.
		return machine{mode: held, held: 1}, cut, 0
	}
	panic("scanner: internal error: bad mode")
}

// matched returns how many leading bytes of p match s.
func matched(p []byte, s string) int {
	n := min(len(p), len(s))
	for i := range n {
		if p[i] != s[i] {
			return i
		}
	}
	return n
}

// terminator returns the index of the first ESC or BEL in p, or len(p).
func terminator(p []byte) int {
	i := bytes.IndexByte(p, esc)
	if i < 0 {
		i = len(p)
	}
	if j := bytes.IndexByte(p[:i], bel); j >= 0 {
		return j
	}
	return i
}
