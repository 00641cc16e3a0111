package passthrough

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Limits of the multiplexers, measured (see the package documentation).
const (
	// TmuxMaxString is the most bytes tmux 3.3a keeps of one DCS string once it has
	// undone the doubled ESCs: "tmux;" and the sequence inside. A longer one is dropped
	// whole, silently.
	TmuxMaxString = 1<<20 - 2
	// ScreenMaxString is the most bytes GNU screen 4.9 keeps of one DCS string. A longer
	// one is cut there and the rest is shown as text on the screen.
	ScreenMaxString = 767
)

// DefaultTmuxGroup is how many bytes of OSC 5113 sequences (before their ESCs are
// doubled) a Writer puts into one tmux passthrough string: whole sequences only, as
// many as follow one another in a Write, up to this size. A few per string cost tmux
// less than one each, and this is far below TmuxMaxString.
const DefaultTmuxGroup = 64 << 10

// ErrTooLong is returned by Write for an OSC 5113 sequence that no passthrough string
// of the multiplexer can hold (over TmuxMaxString for tmux; a Screen writer splits
// sequences and has no such limit) or that stays unterminated for longer than that.
var ErrTooLong = errors.New("passthrough: escape sequence too long for the multiplexer")

const (
	esc = 0x1b
	bel = 0x07
)

// introducer starts every OSC 5113 sequence (terminal-side.md §1.1).
const introducer = "\x1b]5113;"

// A Writer wraps the OSC 5113 sequences written to it so that a terminal multiplexer
// passes them on to the terminal it runs in, and writes every other byte unchanged:
//
//   - Tmux: a run of sequences that follow one another becomes one
//     "ESC P tmux; … ESC \" string with every ESC inside doubled (a new string starts
//     before a sequence that would take one past its group size); each sequence sits
//     whole inside one string, because tmux writes each string out at once but may
//     write its own output (a status line, a redraw) between two of them.
//   - Screen: the run is cut into "ESC P … ESC \" strings of at most ScreenMaxString
//     bytes (screen writes their content out as it is, one after the other), and each
//     sequence ends with BEL instead of ESC \, which would end screen's string early.
//
// A sequence is ESC ] 5113 ; then bytes other than ESC and BEL, then ESC \ or BEL.
// One that is cut by another ESC is written as it came, unwrapped.
//
// Each Write makes at most one Write to the underlying writer. A sequence may be split
// across Writes: its start is held back until its end arrives (as are up to 6 bytes at
// the end of a Write that may begin one); Flush writes what is held as it is. A Writer
// is not safe for concurrent use; its first error is returned by every later call.
type Writer struct {
	w     io.Writer
	kind  Kind
	group int // the most bytes of sequences in one tmux string

	out  []byte // what the current Write writes, reused
	run  []byte // the sequences of the current string, before wrapping, reused
	held []byte // the start of a sequence (or of its introducer) from earlier Writes
	seen int    // bytes of held known to hold no terminator (so a long sequence is scanned once)
	err  error
}

// NewWriter returns a Writer that wraps sequences for kind and writes to w. For None it
// returns w itself, which is then an io.Writer without Flush.
func NewWriter(w io.Writer, kind Kind) io.Writer {
	if kind == None {
		return w
	}
	return newWriter(w, kind, DefaultTmuxGroup)
}

func newWriter(w io.Writer, kind Kind, group int) *Writer {
	return &Writer{w: w, kind: kind, group: max(1, min(group, TmuxMaxString-len("tmux;")))}
}

// Write wraps the sequences in p and writes the result. It returns len(p) when the
// underlying write succeeded (held bytes are counted as written).
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	data := p
	if len(w.held) > 0 {
		w.held = append(w.held, p...)
		data = w.held
	}
	out, rest, err := w.convert(w.out[:0], data, w.seen)
	w.out = out
	if err != nil {
		w.err = err
		return 0, err
	}
	// rest is a suffix of data, which may be w.held itself: move it to the front. An
	// unfinished sequence has no terminator but perhaps an ESC in its last byte.
	w.held = append(w.held[:0], rest...)
	w.seen = 0
	if len(rest) > len(introducer) {
		w.seen = len(rest) - 1
	}
	if len(w.held) > TmuxMaxString {
		w.err = fmt.Errorf("%w: %d bytes without an end", ErrTooLong, len(w.held))
		return 0, w.err
	}
	if err := w.writeOut(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes the bytes held back for a sequence that has not ended, as they are.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.held) == 0 {
		return nil
	}
	out := append(w.out[:0], w.held...)
	w.out, w.held, w.seen = out, w.held[:0], 0
	return w.writeOut(out)
}

func (w *Writer) writeOut(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	n, err := w.w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
	}
	return err
}

// convert appends to out what data becomes, and returns the tail of data that must wait
// for more bytes: an unfinished sequence, or the start of an introducer. The first seen
// bytes of data are known to hold no terminator.
func (w *Writer) convert(out, data []byte, seen int) ([]byte, []byte, error) {
	w.run = w.run[:0]
	for len(data) > 0 {
		i := bytes.IndexByte(data, esc)
		if i < 0 {
			out = w.endRun(out)
			return append(out, data...), nil, nil
		}
		if i > 0 {
			out = w.endRun(out)
			out = append(out, data[:i]...)
			data = data[i:]
			seen = 0
		}
		if !bytes.HasPrefix(data, []byte(introducer)) {
			if len(data) < len(introducer) && bytes.HasPrefix([]byte(introducer), data) {
				return w.endRun(out), data, nil // Maybe an introducer: decide with more bytes.
			}
			out = w.endRun(out)
			out = append(out, esc)
			data = data[1:]
			continue
		}
		n, complete := sequenceEnd(data, seen)
		seen = 0
		if !complete {
			if n < 0 {
				return w.endRun(out), data, nil // Unfinished: wait for its end.
			}
			out = w.endRun(out) // Cut by another ESC: as it came.
			out = append(out, data[:n]...)
			data = data[n:]
			continue
		}
		var err error
		if out, err = w.addToRun(out, data[:n]); err != nil {
			return out, nil, err
		}
		data = data[n:]
	}
	return w.endRun(out), nil, nil
}

// sequenceEnd looks at data, which starts with the introducer, and returns the length
// of the sequence with its terminator and true; or the length of the part before an ESC
// that does not start ESC \ and false; or -1 and false when data ends first. It looks
// from from on (the bytes before hold no terminator).
func sequenceEnd(data []byte, from int) (int, bool) {
	for i := max(from, len(introducer)); i < len(data); i++ {
		switch data[i] {
		case bel:
			return i + 1, true
		case esc:
			if i+1 == len(data) {
				return -1, false
			}
			if data[i+1] == '\\' {
				return i + 2, true
			}
			return i, false
		}
	}
	return -1, false
}

// addToRun adds one complete sequence to the current string, first ending the string
// when the sequence would take it past its size.
func (w *Writer) addToRun(out, seq []byte) ([]byte, error) {
	if w.kind == Screen {
		// screen: the terminator becomes BEL; strings are cut anywhere.
		body := seq[:len(seq)-1]
		if seq[len(seq)-1] == '\\' {
			body = seq[:len(seq)-2]
		}
		w.run = append(append(w.run, body...), bel)
		return out, nil
	}
	if len("tmux;")+len(seq) > TmuxMaxString {
		return out, fmt.Errorf("%w: %d bytes", ErrTooLong, len(seq))
	}
	if len(w.run) > 0 && len(w.run)+len(seq) > w.group {
		out = w.endRun(out)
	}
	w.run = append(w.run, seq...)
	return out, nil
}

// endRun appends the current string, wrapped, and starts a new one.
func (w *Writer) endRun(out []byte) []byte {
	if len(w.run) == 0 {
		return out
	}
	run := w.run
	w.run = w.run[:0]
	if w.kind == Screen {
		return appendScreenStrings(out, run)
	}
	return appendTmuxString(out, run)
}

// appendScreenStrings appends run cut into "ESC P … ESC \" strings of at most
// ScreenMaxString bytes. run must hold no ESC \.
func appendScreenStrings(out, run []byte) []byte {
	for len(run) > 0 {
		n := min(len(run), ScreenMaxString)
		out = append(out, esc, 'P')
		out = append(out, run[:n]...)
		out = append(out, esc, '\\')
		run = run[n:]
	}
	return out
}

// appendTmuxString appends run as one "ESC P tmux; … ESC \" string, every ESC doubled.
func appendTmuxString(out, run []byte) []byte {
	out = append(out, "\x1bPtmux;"...)
	for len(run) > 0 {
		i := bytes.IndexByte(run, esc)
		if i < 0 {
			out = append(out, run...)
			break
		}
		out = append(out, run[:i]...)
		out = append(out, esc, esc)
		run = run[i+1:]
	}
	return append(out, esc, '\\')
}
