package scanner_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
)

// FuzzScanner feeds a stream once whole and once in writes cut by a seeded random source,
// with a small or the default limit. Both must give the same output and payloads, which
// must be what the naive rules give; the output is a subsequence of the input in which no
// terminal model finds an OSC 5113 sequence; and the buffer never exceeds the limit
// (checked by the recorder after every write).
func FuzzScanner(f *testing.F) {
	for _, tc := range framingCases {
		f.Add([]byte(tc.in), uint64(len(tc.in)))
	}
	for _, tc := range attacks {
		f.Add([]byte(tc.in), uint64(len(tc.in)))
	}
	// Seeds stay small: the fuzzer minimizes every new input it finds, which takes long for
	// big ones. A window of 2 KiB cuts sequences in the middle, which is wanted too.
	const window = 2 << 10
	for i, tr := range loadTranscripts(f) {
		for _, dir := range []string{testdata.KittenToTerminal, testdata.TerminalToKitten} {
			in := testdata.Stream(tr.chunks, dir)
			for off := 0; off < len(in) && off < 4*window; off += window {
				f.Add(in[off:min(len(in), off+window)], uint64(i))
			}
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, seed>>32))
		limit := scanner.DefaultMaxPayload
		if seed%2 == 0 {
			limit = 1 + int(seed>>1)%64
		}
		wantOut, wantEvs := naive(in, limit)
		oneOut, oneEvs := feed(t, in, whole, limit)
		if d := diffBytes(oneOut, wantOut) + diffEvents(oneEvs, wantEvs); d != "" {
			t.Fatalf("one write: %s", d)
		}
		out, evs := feed(t, in, randomSplit(rng, 1+int(seed%97)), limit)
		if d := diffBytes(out, oneOut) + diffEvents(evs, oneEvs); d != "" {
			t.Fatalf("random writes differ from one write: %s", d)
		}
		if !isSubsequence([]byte(out), in) {
			t.Fatalf("output is not a subsequence of the input")
		}
		checkNoLeak(t, in, out)
	})
}

// isSubsequence reports whether sub can be made by deleting bytes of s.
func isSubsequence(sub, s []byte) bool {
	for _, c := range sub {
		i := bytes.IndexByte(s, c)
		if i < 0 {
			return false
		}
		s = s[i+1:]
	}
	return true
}

// FuzzParse checks that Parse never panics and that whatever it accepts, AppendTo writes
// back in a form Parse reads as the same command (padded or not, like the input), with no byte that could end the escape
// sequence. AppendTo's output is canonical: writing the reparsed command gives the same
// bytes.
func FuzzParse(f *testing.F) {
	// One seed per shape of payload, with long values cut to keep minimization quick.
	seen := map[string]bool{}
	for _, dir := range []string{testdata.KittenToTerminal, testdata.TerminalToKitten} {
		for _, p := range transcriptPayloads(f, dir) {
			var pairs [][]byte
			for _, kv := range bytes.Split(p, []byte(";")) {
				if len(kv) > 80 {
					kv = kv[:80]
				}
				pairs = append(pairs, kv)
			}
			seed := bytes.Join(pairs, []byte(";"))
			if !seen[string(seed)] {
				seen[string(seed)] = true
				f.Add(seed)
			}
		}
	}
	for _, s := range []string{
		"ac=send;id=x;;e", "a1=b1;c=d;;;1=1", "x;ac=send;id=1", "ac=send;id=a b!c", "ac=send;id=x;sz=+5;mod=-1",
		"ac=send;id=x;n=T0s=", "ac=send;id=x;n=/w", "ac=data;id=x;d=YQ==;d=", "ac=send;id=x;pw=cA==", "ac=send;id=x;q=", "ac=file;id=x;ft=link;tt=rsync;zip=zlib",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		c, err := scanner.Parse(payload)
		if err != nil {
			return
		}
		out := c.AppendTo(nil)
		if bytes.ContainsAny(out, "\x1b\x07") {
			t.Fatalf("AppendTo wrote %q", out)
		}
		body, ok := bytes.CutPrefix(out, []byte(scanner.Prefix))
		if !ok {
			t.Fatalf("AppendTo wrote %q without the prefix", out)
		}
		again, err := scanner.Parse(body)
		if err != nil {
			t.Fatalf("Parse(%q) accepted, but its serialization %q fails: %v", payload, out, err)
		}
		// Padding survives where there is something to pad: a padded command whose
		// base64 values all have lengths divisible by 3 reads back unpadded, but
		// padding never appears from nowhere.
		if again.Padded && !c.Padded {
			t.Fatalf("Parse(%q) is unpadded, but its serialization %q reads as padded", payload, out)
		}
		again.Padded = c.Padded
		if !equalCommand(again, c) {
			t.Fatalf("Parse(%q) = %s, but the serialization parses as %s", payload, out, again.AppendTo(nil))
		}
		if out2 := again.AppendTo(nil); !bytes.Equal(out2, out) {
			t.Fatalf("serialization is not canonical: %q then %q", out, out2)
		}
	})
}
