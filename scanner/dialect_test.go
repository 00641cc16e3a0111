package scanner_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
)

// sniffStream runs in through a Scanner whose pass-through goes to a Sniffer, written in
// pieces of chunk bytes, and returns the dialect Take gave for each payload, in order.
func sniffStream(in []byte, chunk int) []scanner.Dialect {
	var sn scanner.Sniffer
	var got []scanner.Dialect
	sc := scanner.New(&sn, func(p []byte, err error) {
		if err == nil {
			got = append(got, sn.Take())
		}
	}, 0)
	for b := in; len(b) > 0; b = b[min(chunk, len(b)):] {
		_, _ = sc.Write(b[:min(chunk, len(b))])
	}
	_ = sc.Flush()
	return got
}

// TestSnifferKitty026: what the real 0.26 client prints (kitty +kitten transfer, Debian 12,
// recorded in testdata/kitty-0.26) marks its first command, and only that one, as
// Dialect026, in either direction, with the bypass, at every split of the stream.
func TestSnifferKitty026(t *testing.T) {
	for _, name := range []string{"send.raw", "receive.raw", "send-bypass.raw"} {
		in, err := os.ReadFile(filepath.Join("testdata", "kitty-0.26", name))
		if err != nil {
			t.Fatal(err)
		}
		for chunk := 1; chunk <= len(in); chunk++ {
			got := sniffStream(in, chunk)
			if len(got) == 0 || got[0] != scanner.Dialect026 {
				t.Fatalf("%s, chunks of %d: first command is %v, want %v", name, chunk, got, scanner.Dialect026)
			}
			for i, d := range got[1:] {
				if d != scanner.DialectCurrent {
					t.Fatalf("%s, chunks of %d: command %d is %v: the preamble must mark only the first", name, chunk, i+1, d)
				}
			}
		}
	}
}

// TestSnifferNeverMarksCurrentClient: no command of the current client, in any recorded
// transcript (kitten transfer 0.48), is taken for the 0.26 client, not even after the
// 0.26 client's whole preamble was printed just before it (the current client's own
// push of flags 29 comes after it).
func TestSnifferNeverMarksCurrentClient(t *testing.T) {
	old, err := os.ReadFile(filepath.Join("testdata", "kitty-0.26", "send.raw"))
	if err != nil {
		t.Fatal(err)
	}
	preamble := old[:bytes.Index(old, []byte("\x1b]5113;"))]
	for _, tr := range loadTranscripts(t) {
		in := testdata.Stream(tr.chunks, testdata.KittenToTerminal)
		for _, prefix := range [][]byte{nil, preamble} {
			for _, chunk := range []int{1, 7, 4096} {
				for i, d := range sniffStream(append(append([]byte(nil), prefix...), in...), chunk) {
					if d != scanner.DialectCurrent {
						t.Fatalf("%s (prefix %d bytes, chunks of %d): command %d taken for %v", tr.name, len(prefix), chunk, i, d)
					}
				}
			}
		}
	}
}

// TestSniffer: the rules, on hand-made streams.
func TestSniffer(t *testing.T) {
	const (
		s7c1t = "\x1b F"
		lnm   = "\x1b[20l"
		push  = "\x1b[#P"
		k31   = "\x1b[>31u"
		osc   = "\x1b]5113;id=x;ac=send\x1b\\"
	)
	old := s7c1t + "\x1b[?s" + lnm + "\x1b[4l" + push + "\x1b[*x" + k31
	for _, tc := range []struct {
		name string
		in   string
		want []scanner.Dialect
	}{
		{"the preamble marks the next command", old + osc + osc, []scanner.Dialect{scanner.Dialect026, scanner.DialectCurrent}},
		{"text and other sequences may come between", s7c1t + "hi\x1b[1m" + lnm + "\r\n" + push + "\x1b]0;t\x07" + k31 + "Scanning…\r\n" + osc, []scanner.Dialect{scanner.Dialect026}},
		{"a push of other flags after it undoes it", old + "\x1b[>29u" + osc, []scanner.Dialect{scanner.DialectCurrent}},
		{"a pop after it undoes it", old + "\x1b[<u" + osc, []scanner.Dialect{scanner.DialectCurrent}},
		{"a set of flags after it undoes it", old + "\x1b[=1;1u" + osc, []scanner.Dialect{scanner.DialectCurrent}},
		{"flags 31 alone are not enough", k31 + osc, []scanner.Dialect{scanner.DialectCurrent}},
		{"S7C1T and flags 31 are not enough", s7c1t + k31 + osc, []scanner.Dialect{scanner.DialectCurrent}},
		{"markers out of order are not enough", s7c1t + push + lnm + k31 + osc, []scanner.Dialect{scanner.DialectCurrent}},
		{"a push of other flags before the last marker starts again", s7c1t + lnm + "\x1b[>1u" + push + k31 + osc, []scanner.Dialect{scanner.DialectCurrent}},
		{"a second preamble marks again", old + osc + old + osc, []scanner.Dialect{scanner.Dialect026, scanner.Dialect026}},
		{"ESC inside a sequence starts a new one", "\x1b[2" + old + osc, []scanner.Dialect{scanner.Dialect026}},
		{"a long sequence in between is skipped", s7c1t + lnm + "\x1b[38;2;1;2;3m" + push + k31 + osc, []scanner.Dialect{scanner.Dialect026}},
		{"colours between the markers are skipped", s7c1t + "\x1b[31m" + lnm + "\x1b[0;1m" + push + "\x1b[m" + k31 + osc, []scanner.Dialect{scanner.Dialect026}},
		{"a control inside a marker is executed, not a break", s7c1t + "\x1b[\x0720l" + push + k31 + osc, []scanner.Dialect{scanner.Dialect026}},
		{"a sequence that starts like no marker is none", s7c1t + "\x1b[120l" + push + k31 + osc, []scanner.Dialect{scanner.DialectCurrent}},
		{"a long sequence is not taken for a marker", s7c1t + lnm + push + "\x1b[>31;1;1;1u" + osc, []scanner.Dialect{scanner.DialectCurrent}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for chunk := 1; chunk <= len(tc.in); chunk++ {
				got := sniffStream([]byte(tc.in), chunk)
				if !slices.Equal(got, tc.want) {
					t.Fatalf("chunks of %d: %v, want %v", chunk, got, tc.want)
				}
			}
		})
	}
}

// FuzzSniffer: any stream, split anywhere, gives the same dialects as in one piece.
func FuzzSniffer(f *testing.F) {
	f.Add([]byte("\x1b F\x1b[20l\x1b[#P\x1b[>31u\x1b]5113;id=x;ac=send\x1b\\"), uint8(3))
	f.Add([]byte("\x1b[>29u\x1b]5113;id=x;ac=send\x07"), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, split uint8) {
		whole := sniffStream(in, len(in)+1)
		parts := sniffStream(in, 1+int(split)%16)
		if !slices.Equal(whole, parts) {
			t.Fatalf("split changed the dialects: %v vs %v", whole, parts)
		}
	})
}
