package scanner_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/xferterm/xferterm/scanner"
)

const introducer = "\x1b]5113;"

// event is one Handler call: a payload, or a drop reported with err.
type event struct {
	payload string
	err     error
}

func (e event) String() string {
	if e.err != nil {
		return "drop " + e.err.Error()
	}
	return "osc5113 " + strconv.Quote(e.payload)
}

// recorder collects what a Scanner produces and checks the bounds after every write.
type recorder struct {
	t      testing.TB
	out    bytes.Buffer
	events []event
	limit  int
	s      *scanner.Scanner
}

func newRecorder(t testing.TB, limit int) *recorder {
	r := &recorder{t: t, limit: limit}
	if limit <= 0 {
		r.limit = scanner.DefaultMaxPayload
	}
	r.s = scanner.New(&r.out, func(p []byte, err error) {
		if len(p) > r.limit {
			t.Errorf("payload of %d bytes exceeds the limit %d", len(p), r.limit)
		}
		if err != nil && p != nil {
			t.Errorf("handler got a payload and an error %v", err)
		}
		r.events = append(r.events, event{string(p), err})
	}, limit)
	return r
}

func (r *recorder) write(p []byte) {
	// No t.Helper here: it costs more than the Write when writes are one byte long.
	n, err := r.s.Write(p)
	if n != len(p) || err != nil {
		r.t.Fatalf("Write(%d bytes) = %d, %v", len(p), n, err)
	}
	if c := scanner.BufferCap(r.s); c > r.limit {
		r.t.Fatalf("buffer capacity %d exceeds the limit %d", c, r.limit)
	}
	if h := scanner.Held(r.s); h > len(introducer)-1 {
		r.t.Fatalf("%d bytes held back", h)
	}
}

func (r *recorder) flush() {
	r.t.Helper()
	if err := r.s.Flush(); err != nil {
		r.t.Fatalf("Flush: %v", err)
	}
	if h := scanner.Held(r.s); h != 0 {
		r.t.Fatalf("%d bytes still held after Flush", h)
	}
}

// A splitting is one way of cutting a stream into writes: split calls write with
// consecutive pieces of in. The pieces may share a buffer (the Scanner must not keep them).
type splitting struct {
	name  string
	split func(in []byte, write func([]byte))
}

func whole(in []byte, write func([]byte)) { write(in) }

func byteByByte(in []byte, write func([]byte)) {
	for i := range in {
		write(in[i : i+1])
	}
}

// pieces cuts in at the given offsets.
func pieces(cuts ...int) func([]byte, func([]byte)) {
	return func(in []byte, write func([]byte)) {
		prev := 0
		for _, c := range cuts {
			write(in[prev:c])
			prev = c
		}
		write(in[prev:])
	}
}

// randomSplit cuts in into pieces of 1 to maxLen bytes, with many very short ones.
func randomSplit(rng *rand.Rand, maxLen int) func([]byte, func([]byte)) {
	return func(in []byte, write func([]byte)) {
		for len(in) > 0 {
			n := 1 + rng.IntN(maxLen)
			if rng.IntN(4) == 0 {
				n = 1 + rng.IntN(8) // around the short introducer
			}
			n = min(n, len(in))
			write(in[:n])
			in = in[n:]
		}
	}
}

// readerSplit writes what the reader wrap returns (wrapping a reader of in) when read
// into a buffer of bufLen bytes, reused from one read to the next.
func readerSplit(wrap func(io.Reader) io.Reader, bufLen int) func([]byte, func([]byte)) {
	return func(in []byte, write func([]byte)) {
		r := wrap(bytes.NewReader(in))
		buf := make([]byte, bufLen)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}
}

// feed writes in to a fresh Scanner as sp splits it, flushes, and returns what came out.
func feed(t testing.TB, in []byte, sp func([]byte, func([]byte)), limit int) (string, []event) {
	t.Helper()
	r := newRecorder(t, limit)
	sp(in, r.write)
	r.flush()
	return r.out.String(), r.events
}

// naive is an independent statement of the framing rules, written for clarity instead of
// speed: find the next introducer; its payload runs to the first ESC or BEL; "ESC \" and
// BEL terminate it; any other ESC, or the end of the input, cuts it short, and that ESC
// is kept. A payload over limit is dropped as too long in either case.
func naive(in []byte, limit int) (string, []event) {
	var out []byte
	var evs []event
	for {
		i := bytes.Index(in, []byte(introducer))
		if i < 0 {
			out = append(out, in...)
			return string(out), evs
		}
		out = append(out, in[:i]...)
		rest := in[i+len(introducer):]
		j := bytes.IndexAny(rest, "\x1b\x07")
		var ev event
		switch {
		case j < 0:
			j = len(rest)
			ev.err, in = scanner.ErrUnterminated, nil
		case rest[j] == 0x07:
			ev.payload, in = string(rest[:j]), rest[j+1:]
		case j+1 < len(rest) && rest[j+1] == '\\':
			ev.payload, in = string(rest[:j]), rest[j+2:]
		default:
			ev.err, in = scanner.ErrUnterminated, rest[j:]
		}
		if j > limit {
			ev = event{err: scanner.ErrTooLong}
		}
		evs = append(evs, ev)
	}
}

// diffEvents describes the first difference between two event lists, or returns "".
func diffEvents(got, want []event) string {
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			return fmt.Sprintf("event %d missing, want %v", i, want[i])
		case i >= len(want):
			return fmt.Sprintf("extra event %d: %v", i, got[i])
		case got[i].payload != want[i].payload || !errors.Is(got[i].err, want[i].err) || (got[i].err == nil) != (want[i].err == nil):
			return fmt.Sprintf("event %d = %v, want %v", i, abbrev(got[i].String()), abbrev(want[i].String()))
		}
	}
	return ""
}

// diffBytes describes where two byte strings first differ, or returns "".
func diffBytes(got, want string) string {
	if got == want {
		return ""
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("output differs at byte %d (len %d, want %d): got %q…, want %q…",
		i, len(got), len(want), got[i:min(len(got), i+24)], want[i:min(len(want), i+24)])
}

func abbrev(s string) string {
	if len(s) > 120 {
		return s[:100] + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return s
}

// trace renders a scanner's activity as readable lines: "pass 12B" for a run of
// pass-through bytes (however many writes it took), "osc5113 <payload>" with long values
// shortened, and "drop <error>".
type tracer struct {
	lines   []string
	pending int
}

func (tr *tracer) Write(p []byte) (int, error) {
	tr.pending += len(p)
	return len(p), nil
}

func (tr *tracer) handle(p []byte, err error) {
	tr.endRun()
	if err != nil {
		tr.lines = append(tr.lines, "drop "+strings.TrimPrefix(err.Error(), "scanner: "))
		return
	}
	tr.lines = append(tr.lines, "osc5113 "+shorten(p))
}

func (tr *tracer) endRun() {
	if tr.pending > 0 {
		tr.lines = append(tr.lines, fmt.Sprintf("pass %dB", tr.pending))
		tr.pending = 0
	}
}

func (tr *tracer) String() string {
	tr.endRun()
	return strings.Join(tr.lines, "\n") + "\n"
}

// shorten writes a payload with every value over 48 bytes replaced by its length, and
// quotes it if it holds anything but printable ASCII.
func shorten(p []byte) string {
	var parts []string
	for _, kv := range strings.Split(string(p), ";") {
		if k, v, ok := strings.Cut(kv, "="); ok && len(v) > 48 {
			kv = fmt.Sprintf("%s=<%d chars>", k, len(v))
		}
		parts = append(parts, kv)
	}
	s := strings.Join(parts, ";")
	for _, c := range []byte(s) {
		if c < 0x20 || c > 0x7e {
			return strconv.Quote(s)
		}
	}
	return s
}
