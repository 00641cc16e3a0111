package scanner_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/xferterm/xferterm/scanner"
)

var (
	tooLong      = event{err: scanner.ErrTooLong}
	unterminated = event{err: scanner.ErrUnterminated}
)

func ev(payload string) event { return event{payload: payload} }

// framingCases pin down the framing rules one quirk at a time (see doc.go). Each runs at
// every split point, and at every pair of split points, and against the naive rules.
var framingCases = []struct {
	name   string
	in     string
	out    string
	events []event
}{
	{"plain text passes through", "hello, world\r\n", "hello, world\r\n", nil},
	{"an empty stream stays empty", "", "", nil},
	{"a sequence ended by ST is extracted", "a\x1b]5113;id=1;ac=send\x1b\\b", "ab", []event{ev("id=1;ac=send")}},
	{"a sequence ended by BEL is extracted", "a\x1b]5113;id=1;ac=send\x07b", "ab", []event{ev("id=1;ac=send")}},
	{"an empty payload is still a sequence", "\x1b]5113;\x1b\\", "", []event{ev("")}},
	{"back-to-back sequences are each extracted", "\x1b]5113;a\x1b\\\x1b]5113;b\x07\x1b]5113;c\x1b\\", "", []event{ev("a"), ev("b"), ev("c")}},
	{"payload bytes other than ESC and BEL are kept", "\x1b]5113;k=v=w;;\\]\xff\x00\x9c\x1b\\", "", []event{ev("k=v=w;;\\]\xff\x00\x9c")}},
	{"CSI passes through", "\x1b[32mgreen\x1b[39m\x1b[?2026h", "\x1b[32mgreen\x1b[39m\x1b[?2026h", nil},
	{"OSC 0 with BEL passes through", "\x1b]0;title\x07", "\x1b]0;title\x07", nil},
	{"OSC 8 with ST passes through", "\x1b]8;;https://x.org\x1b\\x\x1b]8;;\x1b\\", "\x1b]8;;https://x.org\x1b\\x\x1b]8;;\x1b\\", nil},
	{"OSC 52 passes through", "\x1b]52;c;aGk=\x07", "\x1b]52;c;aGk=\x07", nil},
	{"OSC 5112 passes through", "\x1b]5112;id=1\x1b\\", "\x1b]5112;id=1\x1b\\", nil},
	{"OSC 51130 passes through", "\x1b]51130;id=1\x1b\\", "\x1b]51130;id=1\x1b\\", nil},
	{"OSC 511 passes through", "\x1b]511;x\x07", "\x1b]511;x\x07", nil},
	{"OSC 005113 is OSC 511 and passes through", "\x1b]005113;id=1\x1b\\", "\x1b]005113;id=1\x1b\\", nil},
	{"OSC 51131 passes through", "\x1b]51131;id=1\x07", "\x1b]51131;id=1\x07", nil},
	{"code 5113 without a semicolon starts a sequence", "\x1b]5113id=1;ac=send\x07", "", []event{ev("id=1;ac=send")}},
	{"code 5113 then a terminator is an empty sequence", "\x1b]5113\x07\x1b]5113\x1b\\", "", []event{ev(""), ev("")}},
	{"code 05113 starts a sequence", "\x1b]05113;id=1\x1b\\", "", []event{ev("id=1")}},
	{"a digit after 05113 starts the payload", "\x1b]051137;x\x07", "", []event{ev("7;x")}},
	{"only one semicolon is skipped", "\x1b]5113;;x\x07", "", []event{ev(";x")}},
	{"NUL and DEL in the code are ignored", "\x1b]5\x0011\x7f3\x00;x\x07", "", []event{ev("x")}},
	{"a code that only newer kitty reads as 5113 starts a sequence", "\x1b]5113\x7f0\x1b\\", "", []event{ev("")}},
	{"NUL and DEL in another code pass through", "\x1b]5\x001\x7f;x\x07", "\x1b]5\x001\x7f;x\x07", nil},
	{"C1 OSC is not recognized", "\xc2\x9d5113;id=1\xc2\x9c", "\xc2\x9d5113;id=1\xc2\x9c", nil},
	{"a lone ESC passes through", "a\x1bb\x1b", "a\x1bb\x1b", nil},
	{"an ESC right before a sequence is removed with it", "\x1b\x1b]5113;x\x07", "", []event{ev("x")}},
	{"a run of ESC right before a sequence is removed with it", "a\x1b\x1b\x1b]5113;x\x07b", "ab", []event{ev("x")}},
	{"ESC, a sequence and ']5113;' do not make a sequence", "\x1b\x1b]5113;x\x07]5113;y\x07", "]5113;y\x07", []event{ev("x")}},
	{"ESC ], a sequence and '5113;' do not make a sequence", "\x1b]\x1b]5113;x\x07" + "5113;y\x07", "5113;y\x07", []event{ev("x")}},
	{"part of a code, a sequence and the rest do not make a sequence", "\x1b]51\x1b]5113;x\x1b\\13;y\x1b\\", "13;y\x1b\\", []event{ev("x")}},
	{"another code ended by ESC [ passes through", "\x1b]51\x1b[0m", "\x1b]51\x1b[0m", nil},
	{"another code ended by ST passes through", "\x1b]51\x1b\\", "\x1b]51\x1b\\", nil},
	{"ESC ESC [ passes through", "\x1b\x1b[0m", "\x1b\x1b[0m", nil},
	{"controls and 8-bit bytes between ESC and ] are skipped", "\x1b\x00\x7f\x01\xc3]5113;x\x07", "", []event{ev("x")}},
	{"a control between ESC and another byte passes through", "\x1b\x00[0m\x1b\r\n", "\x1b\x00[0m\x1b\r\n", nil},
	{"a partial introducer at the end is released by Flush", "ab\x1b]511", "ab\x1b]511", nil},
	{"the longest partial introducer is released by Flush", "\x1b]5113", "\x1b]5113", nil},
	{"a partial introducer before a sequence is removed with it", "\x1b]51\x1b]5113;x\x07", "", []event{ev("x")}},
	{"too many held bytes are dropped", "\x1b]" + strings.Repeat("\x00", 40) + "5113;x\x07",
		strings.Repeat("\x00", 10) + "5113;x\x07", nil},
	{"a long run of ESC is cut down", strings.Repeat("\x1b", 40) + "[0m", strings.Repeat("\x1b", 8) + "[0m", nil},
	{"CAN cuts a payload short and is removed", "a\x1b]5113;ac=send\x18b", "ab", []event{unterminated}},
	{"SUB cuts a payload short and is removed", "a\x1b]5113;ac=send\x1ab", "ab", []event{unterminated}},
	{"CAN right after the code cuts the sequence", "\x1b]5113\x18x", "x", []event{unterminated}},
	{"CAN in another OSC passes through", "\x1b]0;t\x18x\x07", "\x1b]0;t\x18x\x07", nil},
	{"DCS passes through", "\x1bP+q544e\x1b\\", "\x1bP+q544e\x1b\\", nil},
	{"APC passes through", "\x1b_Gf=100;AAAA\x1b\\", "\x1b_Gf=100;AAAA\x1b\\", nil},
	{"UTF-8 passes through", "⠋ Transferring… 🙂", "⠋ Transferring… 🙂", nil},
	{"an introducer inside another OSC starts a sequence", "\x1b]0;t\x1b]5113;x\x1b\\", "\x1b]0;t", []event{ev("x")}},
	{"an introducer inside DCS starts a sequence", "\x1bPq\x1b]5113;x\x07\x1b\\", "\x1bPq\x1b\\", []event{ev("x")}},
	{"another escape sequence cuts a payload short", "\x1b]5113;ac=da\x1b[0mok", "\x1b[0mok", []event{unterminated}},
	{"an introducer cuts a payload short", "\x1b]5113;ac=da\x1b]5113;x\x07", "", []event{unterminated, ev("x")}},
	{"the end of the stream cuts a payload short", "a\x1b]5113;ac=da", "a", []event{unterminated}},
	{"an ESC at the end of the stream cuts a payload short and passes", "\x1b]5113;ac=da\x1b", "\x1b", []event{unterminated}},
	{"ESC ESC inside a payload keeps the second ESC", "\x1b]5113;x\x1b\x1b\\", "\x1b\x1b\\", []event{unterminated}},
	{"BEL right after an ESC in a payload belongs to what follows", "\x1b]5113;x\x1b\x07", "\x1b\x07", []event{unterminated}},
	{"a tmux-wrapped sequence is not unwrapped", "\x1bPtmux;\x1b\x1b]5113;id=1\x1b\x1b\\\x1b\\", "\x1bPtmux;\x1b\x1b\\\x1b\\", []event{unterminated}},
	{"an 8-bit ST does not end a payload", "\x1b]5113;a\x9cb\x07", "", []event{ev("a\x9cb")}},
}

func TestFramingAtEverySplit(t *testing.T) {
	for _, tc := range framingCases {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			nout, nevs := naive(in, scanner.DefaultMaxPayload)
			if d := diffBytes(nout, tc.out) + diffEvents(nevs, tc.events); d != "" {
				t.Fatalf("the naive rules disagree with the table: %s", d)
			}
			check := func(desc string, sp func([]byte, func([]byte))) {
				t.Helper()
				out, evs := feed(t, in, sp, 0)
				if d := diffBytes(out, tc.out) + diffEvents(evs, tc.events); d != "" {
					t.Fatalf("%s: %s", desc, d)
				}
			}
			check("whole", whole)
			for i := 0; i <= len(in); i++ {
				for j := i; j <= len(in); j++ {
					check(fmt.Sprintf("split at %d and %d", i, j), pieces(i, j))
				}
			}
		})
	}
}

// segment is a piece of a generated stream with what the scanner must make of it.
type segment struct {
	in, out string
	ev      *event
}

// genStream builds a random stream from the kinds of bytes a terminal sees, with the
// forwarded output and the events the scanner must produce. Payloads over limit are
// expected to be dropped.
func genStream(rng *rand.Rand, limit int) (in []byte, out string, evs []event) {
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	term := func() string { return pick("\x1b\\", "\x07") }
	text := func(alphabet string, n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	const printable = "abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789;=/+.:-_]\\[$%"
	payloadBytes := printable + "\x00\x7f\x80\x9b\x9c\x9d\xc2\xe2\xff\r\n"
	payload := func() string {
		switch rng.IntN(8) {
		case 0:
			return ""
		case 1:
			return text(payloadBytes, limit-2+rng.IntN(5)) // around the limit
		case 2:
			return text(printable, rng.IntN(3000))
		default:
			return text(payloadBytes, rng.IntN(120))
		}
	}
	var segs []segment
	add := func(s segment) {
		// Held bytes at the end of a segment must not be decided by the next one.
		if len(segs) > 0 {
			prev := segs[len(segs)-1].in
			if k := strings.LastIndexByte(prev, 0x1b); k >= 0 {
				if j, _ := naiveHeld([]byte(prev), k); j == len(prev) {
					segs = append(segs, segment{in: "z", out: "z"})
				}
			}
		}
		segs = append(segs, s)
	}
	for range rng.IntN(40) {
		var s segment
		switch rng.IntN(14) {
		case 0: // text, including BEL and CR/LF
			s.in = text(printable+"\x07\r\n\t", rng.IntN(200))
		case 1: // UTF-8, and raw bytes that look like 8-bit C1 controls
			s.in = pick("héllo", "⠋ Transferring…", "🙂", "\u009d5113;x\u009c", "\x9d\x9c", "✔ 39B @ 108kB/s")
		case 2: // CSI
			s.in = pick("\x1b[32m", "\x1b[?2026h", "\x1b[>29u", "\x1b[2A\r\x1b[J", "\x1b[?25l", "\x1b[c", "\x1b[14b")
		case 3: // DCS and APC
			s.in = pick("\x1bP+q544e\x1b\\", "\x1bP$qm\x1b\\", "\x1b_Gf=100;AAAA\x1b\\", "\x1bPtmux;\x1b\x1b[1m\x1b\\")
		case 4: // other OSC codes, and things that look like OSC 5113 but are not
			code := pick("0;", "2;", "8;;", "52;c;", "133;", "5112;", "51130;", "51131", "511;", "51;", "5;", "1337;", "005113;", "5\x001\x7f;", "")
			s.in = "\x1b]" + code + "z" + text(printable, rng.IntN(30)) + term()
		case 5: // lone ESC and partial introducers
			s.in = pick("\x1b", "\x1b\x1b", "\x1b]", "\x1b]5", "\x1b]51", "\x1b]511", "\x1b]51\x1b", "\x1b7", "\x1b8", "\x1b\\")
		case 6: // a sequence cut short by the next escape sequence, which passes
			p := text(printable, rng.IntN(50))
			next := pick("\x1b[0m", "\x1b]0;t\x07", "\x1b7", "\x1bPq\x1b\\")
			s.in, s.out = introducer+p+next, next
			e := unterminated
			if len(p) > limit {
				e = tooLong
			}
			s.ev = &e
		case 7: // a sequence cut short by CAN or SUB, which is removed with it
			p := text(printable, rng.IntN(50))
			s.in = introducer + p + pick("\x18", "\x1a")
			e := unterminated
			if len(p) > limit {
				e = tooLong
			}
			s.ev = &e
		case 8: // OSC 5113 sequences in other spellings, or right after bytes that are held
			p := payload()
			intro := pick(introducer, "\x1b]05113;", "\x1b]5\x0011\x7f3;")
			if rng.IntN(2) == 0 && (p == "" || !strings.ContainsRune(";0123456789\x00\x7f", rune(p[0]))) {
				intro = intro[:len(intro)-1] // no ';' after the code
			}
			s.in = pick("", "\x1b", "\x1b\x1b", "\x1b]", "\x1b]51", "\x1b]0\x1b", "\x1b]\x00") + intro + p + term()
			e := event{payload: p}
			if len(p) > limit {
				e = tooLong
			}
			s.ev = &e
		default: // OSC 5113 sequences
			p := payload()
			s.in = introducer + p + term()
			e := event{payload: p}
			if len(p) > limit {
				e = tooLong
			}
			s.ev = &e
		}
		if s.ev == nil {
			s.out = s.in
		}
		add(s)
	}
	if rng.IntN(4) == 0 { // a sequence left open at the end
		p := text(printable, rng.IntN(50))
		e := unterminated
		if len(p) > limit {
			e = tooLong
		}
		add(segment{in: introducer + p, ev: &e})
	}
	var b strings.Builder
	for _, s := range segs {
		in = append(in, s.in...)
		b.WriteString(s.out)
		if s.ev != nil {
			evs = append(evs, *s.ev)
		}
	}
	return in, b.String(), evs
}

// TestRandomStreams is the main property: output is the input with exactly the OSC 5113
// sequences removed, and the payloads come in order, however the stream is split.
func TestRandomStreams(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	iterations := 100
	if testing.Short() {
		iterations = 15
	}
	for _, limit := range []int{2000, 64} { // small, so payloads around the limit stay cheap
		for it := range iterations {
			in, wantOut, wantEvs := genStream(rng, limit)
			nout, nevs := naive(in, limit)
			if d := diffBytes(nout, wantOut) + diffEvents(nevs, wantEvs); d != "" {
				t.Fatalf("seed %d, iteration %d: the naive rules disagree with the generator: %s\ninput %q", seed, it, d, in)
			}
			splittings := []splitting{
				{"whole", whole},
				{"one byte at a time", byteByByte},
				{"random short writes", randomSplit(rng, 16)},
				{"random long writes", randomSplit(rng, 3000)},
				{"iotest.HalfReader", readerSplit(iotest.HalfReader, 13)},
				{"iotest.OneByteReader", readerSplit(iotest.OneByteReader, 64)},
				{"iotest.DataErrReader", readerSplit(iotest.DataErrReader, 4096)},
			}
			for _, sp := range splittings {
				out, evs := feed(t, in, sp.split, limit)
				if d := diffBytes(out, wantOut) + diffEvents(evs, wantEvs); d != "" {
					t.Fatalf("seed %d, iteration %d, limit %d, %s: %s\ninput %q", seed, it, limit, sp.name, d, abbrev(string(in)))
				}
			}
			checkNoLeak(t, in, wantOut)
		}
	}
}

func TestLimit(t *testing.T) {
	const limit = 1000
	next := introducer + "id=1;ac=finish\x1b\\after"
	for _, tc := range []struct {
		name   string
		in     string
		events []event
	}{
		{"a payload of exactly the limit is delivered", introducer + strings.Repeat("a", limit) + "\x1b\\" + next,
			[]event{ev(strings.Repeat("a", limit)), ev("id=1;ac=finish")}},
		{"a payload one byte over the limit is dropped", introducer + strings.Repeat("a", limit+1) + "\x1b\\" + next,
			[]event{tooLong, ev("id=1;ac=finish")}},
		{"a BEL-terminated payload over the limit is dropped", introducer + strings.Repeat("a", 3*limit) + "\x07" + next,
			[]event{tooLong, ev("id=1;ac=finish")}},
		{"an unterminated payload over the limit is reported once", introducer + strings.Repeat("a", 3*limit) + next,
			[]event{tooLong, ev("id=1;ac=finish")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			for _, sp := range []splitting{
				{"whole", whole},
				{"one byte at a time", byteByByte},
				{"999-byte writes", readerSplit(func(r io.Reader) io.Reader { return r }, 999)},
				{"1001-byte writes", readerSplit(func(r io.Reader) io.Reader { return r }, 1001)},
			} {
				out, evs := feed(t, in, sp.split, limit)
				if d := diffBytes(out, "after") + diffEvents(evs, tc.events); d != "" {
					t.Errorf("%s: %s", sp.name, d)
				}
			}
		})
	}
}

// TestHugeUnterminatedPayload sends 10 MiB of payload without a terminator, then a normal
// sequence: memory stays within the default limit, the drop is reported once, and the
// scanner recovers.
func TestHugeUnterminatedPayload(t *testing.T) {
	r := newRecorder(t, 0)
	r.write([]byte("before" + introducer))
	chunk := bytes.Repeat([]byte("QUFB"), 16<<10) // 64 KiB
	for range (10 << 20) / len(chunk) {
		r.write(chunk)
	}
	if c := scanner.BufferCap(r.s); c > scanner.DefaultMaxPayload {
		t.Fatalf("buffer capacity %d after 10 MiB", c)
	}
	r.write([]byte("\x1b]5113;id=1;ac=send\x1b\\after"))
	r.flush()
	want := []event{tooLong, ev("id=1;ac=send")}
	if d := diffBytes(r.out.String(), "beforeafter") + diffEvents(r.events, want); d != "" {
		t.Fatal(d)
	}
}

// TestBufferReuse checks that split payloads reuse one buffer rather than allocating.
func TestBufferReuse(t *testing.T) {
	s := scanner.New(io.Discard, func([]byte, error) {}, 0)
	packet := []byte(introducer + "id=1;ac=data;fid=1;d=" + strings.Repeat("A", 5462) + "\x1b\\")
	half := len(packet) / 2
	write := func() {
		_, _ = s.Write(packet[:half]) // io.Discard does not fail.
		_, _ = s.Write(packet[half:])
	}
	write()
	if allocs := testing.AllocsPerRun(100, write); allocs != 0 {
		t.Errorf("a payload split across writes costs %v allocations, want 0", allocs)
	}
}

// TestPassThroughDoesNotAllocate makes "zero allocations on the pass-through path" a test
// (STYLE.md §2), for the fast path and for every way of holding and releasing bytes.
func TestPassThroughDoesNotAllocate(t *testing.T) {
	text := bytes.Repeat([]byte("drwxr-xr-x  2 demo demo 4096 Nov 21 05:53 scanner\r\n"), 80)
	colored := bytes.Repeat([]byte("\x1b[01;34mscanner\x1b[0m  \x1b[01;32mxferterm\x1b[0m\r\n"), 80)
	packet := []byte(introducer + "id=1;ac=data;fid=1;d=" + strings.Repeat("A", 5462) + "\x1b\\")
	for _, tc := range []struct {
		name   string
		writes []string
	}{
		{"text without ESC", []string{string(text)}},
		{"text with CSI", []string{string(colored)}},
		{"a whole sequence in one write", []string{string(packet)}},
		{"held bytes released by the next write", []string{"ab\x1b]51", "1x"}},
		{"held bytes released by Flush", []string{"ab\x1b]511", ""}},
		{"a payload cut short by an ESC in the next write", []string{"\x1b]5113;a\x1b", "[0m"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := scanner.New(io.Discard, func([]byte, error) {}, 0)
			writes := make([][]byte, len(tc.writes))
			for i, w := range tc.writes {
				writes[i] = []byte(w)
			}
			allocs := testing.AllocsPerRun(100, func() {
				for _, w := range writes {
					if _, err := s.Write(w); err != nil {
						t.Fatal(err)
					}
				}
				if len(writes[len(writes)-1]) == 0 {
					if err := s.Flush(); err != nil {
						t.Fatal(err)
					}
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per Write, want 0", allocs)
			}
		})
	}
}

// failWriter accepts ok bytes, then fails.
type failWriter struct {
	ok    int
	short bool // fail by writing less without an error
	got   bytes.Buffer
}

var errBroken = errors.New("broken pipe")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) <= w.ok {
		w.ok -= len(p)
		return w.got.Write(p)
	}
	n := w.ok
	w.ok = 0
	w.got.Write(p[:n])
	if w.short {
		return n, nil
	}
	return n, errBroken
}

func TestWriteErrorIsSticky(t *testing.T) {
	for _, tc := range []struct {
		name  string
		w     *failWriter
		input string
		want  error
	}{
		{"an error on the fast path", &failWriter{ok: 3}, "hello", errBroken},
		{"an error after a sequence", &failWriter{ok: 3}, "ab\x1b]5113;x\x07cdef", errBroken},
		{"an error releasing held bytes", &failWriter{ok: 0}, "\x1b]51", errBroken},
		{"a short write", &failWriter{ok: 3, short: true}, "hello", io.ErrShortWrite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			s := scanner.New(tc.w, func([]byte, error) { calls++ }, 0)
			n, err := s.Write([]byte(tc.input))
			if err == nil {
				err = s.Flush()
				n = 0
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if n > len(tc.input) {
				t.Errorf("n = %d > len(p)", n)
			}
			if _, err := s.Write([]byte("more\x1b]5113;y\x07")); !errors.Is(err, tc.want) {
				t.Errorf("second Write: err = %v, want %v", err, tc.want)
			}
			if err := s.Flush(); !errors.Is(err, tc.want) {
				t.Errorf("Flush: err = %v, want %v", err, tc.want)
			}
			if calls > 1 {
				t.Errorf("handler called %d times after the failure", calls)
			}
		})
	}
}

func TestFlushResets(t *testing.T) {
	r := newRecorder(t, 0)
	r.write([]byte("a\x1b]5113;id=1"))
	r.flush()
	r.write([]byte("]5113;b\x1b]5113;c\x07"))
	r.flush()
	r.flush() // twice is harmless
	if d := diffBytes(r.out.String(), "a]5113;b") + diffEvents(r.events, []event{unterminated, ev("c")}); d != "" {
		t.Fatal(d)
	}
}

func TestNilHandlerDiscards(t *testing.T) {
	var out bytes.Buffer
	s := scanner.New(&out, nil, 0)
	if _, err := s.Write([]byte("a\x1b]5113;x\x07b\x1b]5113;y")); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "ab" {
		t.Errorf("out = %q, want %q", out.String(), "ab")
	}
}

// TestHandlerSeesOutputFirst checks the order promise: bytes before a sequence reach out
// before the Handler is called for it.
func TestHandlerSeesOutputFirst(t *testing.T) {
	in := []byte("one\x1b]5113;1\x07two\x1b[0m\x1b]5113;2\x1b\\three")
	for _, sp := range []splitting{{"whole", whole}, {"one byte at a time", byteByByte}} {
		var out bytes.Buffer
		var seen []string
		s := scanner.New(&out, func(p []byte, err error) {
			seen = append(seen, out.String()+"|"+string(p))
		}, 0)
		sp.split(in, func(p []byte) {
			if _, err := s.Write(p); err != nil {
				t.Fatal(err)
			}
		})
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		want := []string{"one|1", "onetwo\x1b[0m|2"}
		if strings.Join(seen, ",") != strings.Join(want, ",") {
			t.Errorf("%s: handler saw %q, want %q", sp.name, seen, want)
		}
	}
}
