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
	if h := scanner.Held(r.s); h > scanner.MaxHeld {
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
// speed, over the whole input at once:
//
//   - An ESC, or a run of them, followed by "]" starts an OSC; control and 8-bit bytes
//     between them are skipped. Its code is the value of up to
//     five leading digits of its body, NUL and DEL ignored; with the value 5113 it is an
//     OSC 5113 sequence, and one ';' after the code is skipped.
//   - The ESCs, the "]" and the code are held until the byte after the code is known. The
//     held bytes of an OSC 5113 sequence are removed with it, and so are those of an OSC
//     with another code whose code is ended by an ESC that starts an OSC 5113 sequence:
//     held bytes are only ever let through together. More than scanner.MaxHeld held bytes
//     are removed.
//   - A payload runs to the first ESC, BEL, CAN or SUB. BEL and "ESC \" terminate it; CAN
//     and SUB cut it short and are removed with it; any other ESC, or the end of the input,
//     cuts it short and is kept. A payload over limit is dropped as too long in either case.
func naive(in []byte, limit int) (string, []event) {
	var out []byte
	var evs []event
	i := 0
	for i < len(in) {
		if in[i] != 0x1b {
			out = append(out, in[i])
			i++
			continue
		}
		j, v := naiveHeld(in, i)
		switch v {
		case heldReleased:
			out = append(out, in[i:j]...)
			i = j
			continue
		case heldTooMany:
			i = j
			continue
		}
		i = j
		if in[i] == ';' {
			i++
		}
		rest := in[i:]
		k := bytes.IndexAny(rest, "\x1b\x07\x18\x1a")
		var ev event
		switch {
		case k < 0:
			k = len(rest)
			ev.err, i = scanner.ErrUnterminated, len(in)
		case rest[k] == 0x07:
			ev.payload, i = string(rest[:k]), i+k+1
		case rest[k] == 0x18 || rest[k] == 0x1a:
			ev.err, i = scanner.ErrUnterminated, i+k+1
		case k+1 < len(rest) && rest[k+1] == '\\':
			ev.payload, i = string(rest[:k]), i+k+2
		default:
			ev.err, i = scanner.ErrUnterminated, i+k
		}
		if k > limit {
			ev = event{err: scanner.ErrTooLong}
		}
		evs = append(evs, ev)
	}
	return string(out), evs
}

// heldVerdict is what held bytes turn out to be.
type heldVerdict int

const (
	heldReleased heldVerdict = iota // they pass (also at the end of the input)
	heldTooMany                     // there are more than scanner.MaxHeld: removed
	heldOurs                        // they start an OSC 5113 sequence: removed
)

// naiveHeld reads the held bytes that start with the ESC at in[i] and returns where they
// end (the byte that decided, not included) and what they are.
func naiveHeld(in []byte, i int) (int, heldVerdict) {
	j, inCode, start := i, false, 0
	for j < len(in) {
		c := in[j]
		switch {
		case !inCode && c == ']':
			inCode, start = true, j+1
		case !inCode && 0x20 <= c && c < 0x7f:
			return j, heldReleased
		case !inCode: // an ESC, or a control or 8-bit byte after one
		case c == 0 || c == 0x7f:
		case '0' <= c && c <= '9' && naiveDigits(in[start:j], false) < 5:
		case naiveCode(in[start:j], true) == 5113 || naiveCode(in[start:j], false) == 5113:
			return j, heldOurs
		case c == 0x1b: // another code, ended by an ESC: held on
			inCode = false
		default:
			return j, heldReleased
		}
		if j-i == scanner.MaxHeld { // c would be one byte too many
			return j, heldTooMany
		}
		j++
	}
	return j, heldReleased
}

// naiveDigits counts the leading digits of an OSC body, NUL and DEL dropped first unless raw.
func naiveDigits(body []byte, raw bool) int {
	n := 0
	for _, c := range body {
		switch {
		case !raw && (c == 0 || c == 0x7f):
		case '0' <= c && c <= '9':
			n++
		default:
			return n
		}
	}
	return n
}

// naiveCode is the OSC code of a body as kitty reads it: the value of up to five leading
// digits (NUL and DEL dropped first unless raw), or -1 if there are none.
func naiveCode(body []byte, raw bool) int {
	code, n := 0, 0
	for _, c := range body {
		switch {
		case !raw && (c == 0 || c == 0x7f):
		case '0' <= c && c <= '9' && n < 5:
			code, n = 10*code+int(c-'0'), n+1
		default:
			goto done
		}
	}
done:
	if n == 0 {
		return -1
	}
	return code
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
