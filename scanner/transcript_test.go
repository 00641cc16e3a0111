package scanner_test

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
)

var update = flag.Bool("update", false, "rewrite scanner/testdata/*.golden from the transcripts")

// transcript is one recorded scenario of the real client.
type transcript struct {
	name   string // e.g. "01-send-small-file"
	path   string // of the .raw file
	chunks []testdata.Chunk
}

func loadTranscripts(t testing.TB) []transcript {
	t.Helper()
	paths, err := testdata.Transcripts()
	if err != nil {
		t.Fatal(err)
	}
	var ts []transcript
	for _, p := range paths {
		chunks, err := testdata.LoadTranscript(p)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, transcript{strings.TrimSuffix(filepath.Base(p), ".raw"), p, chunks})
	}
	return ts
}

// logPayload is a "raw payload (N bytes): …" line of a .log file: the client's payload as
// the recording harness decoded it, cut short with "..." when long.
type logPayload struct {
	size   int
	prefix string
	whole  bool
}

var rawPayloadLine = regexp.MustCompile(`^\s+raw payload \((\d+) bytes\): (.*)$`)

func loadLogPayloads(t *testing.T, path string) []logPayload {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []logPayload
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m := rawPayloadLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1]) // The regexp admits digits only.
		p := logPayload{size: n, prefix: m[2], whole: len(m[2]) == n}
		if !p.whole {
			p.prefix = strings.TrimSuffix(p.prefix, "...")
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTranscripts replays the client's real byte stream (K->T) of every scenario through
// the scanner at several chunkings: as recorded, one byte at a time, random writes and
// iotest.HalfReader. It must extract exactly the client's payloads, as an independent
// extraction and the harness's own log see them, and forward everything else.
func TestTranscripts(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, tr := range loadTranscripts(t) {
		t.Run(tr.name, func(t *testing.T) {
			in := testdata.Stream(tr.chunks, testdata.KittenToTerminal)
			wantOut, wantEvs := naive(in, scanner.DefaultMaxPayload)
			for _, e := range wantEvs {
				if e.err != nil {
					t.Fatalf("the naive extraction drops a sequence: %v", e.err)
				}
			}
			if strings.Contains(wantOut, "5113") {
				t.Errorf("forwarded output still mentions 5113")
			}

			// The harness's log decoded the same payloads.
			logged := loadLogPayloads(t, strings.TrimSuffix(tr.path, ".raw")+".log")
			if len(logged) != len(wantEvs) {
				t.Errorf("the log has %d payloads, the stream %d", len(logged), len(wantEvs))
			}
			for i := range min(len(logged), len(wantEvs)) {
				l, p := logged[i], wantEvs[i].payload
				if len(p) != l.size || !strings.HasPrefix(p, l.prefix) || (l.whole && p != l.prefix) {
					t.Errorf("payload %d = %q, the log has %d bytes %q", i, abbrev(p), l.size, l.prefix)
				}
			}

			asRecorded := func(_ []byte, write func([]byte)) {
				for _, c := range tr.chunks {
					if c.Dir == testdata.KittenToTerminal {
						write(c.Data)
					}
				}
			}
			for _, sp := range []splitting{
				{"as recorded", asRecorded},
				{"one byte at a time", byteByByte},
				{"random writes", randomSplit(rng, 200)},
				{"iotest.HalfReader", readerSplit(iotest.HalfReader, 4096)},
			} {
				out, evs := feed(t, in, sp.split, 0)
				if d := diffBytes(out, wantOut) + diffEvents(evs, wantEvs); d != "" {
					t.Errorf("%s: %s", sp.name, d)
				}
			}
		})
	}
}

// TestTranscriptReplies runs the terminal side's recorded replies (T->K) through the
// scanner too: a client reading replies frames them the same way, BEL-terminated and
// padded ones included.
func TestTranscriptReplies(t *testing.T) {
	for _, tr := range loadTranscripts(t) {
		in := testdata.Stream(tr.chunks, testdata.TerminalToKitten)
		wantOut, wantEvs := naive(in, scanner.DefaultMaxPayload)
		for _, sp := range []splitting{{"whole", whole}, {"one byte at a time", byteByByte}} {
			out, evs := feed(t, in, sp.split, 0)
			if d := diffBytes(out, wantOut) + diffEvents(evs, wantEvs); d != "" {
				t.Errorf("%s, %s: %s", tr.name, sp.name, d)
			}
		}
	}
}

// TestGoldenTraces compares a readable trace of each transcript's K->T stream with
// testdata/<name>.golden. Run `go test ./scanner -update` to rewrite them, and review the
// diff like code.
func TestGoldenTraces(t *testing.T) {
	for _, tr := range loadTranscripts(t) {
		t.Run(tr.name, func(t *testing.T) {
			in := testdata.Stream(tr.chunks, testdata.KittenToTerminal)
			trace := func(sp func([]byte, func([]byte))) string {
				var tc tracer
				s := scanner.New(&tc, tc.handle, 0)
				sp(in, func(p []byte) {
					if _, err := s.Write(p); err != nil {
						t.Fatal(err)
					}
				})
				if err := s.Flush(); err != nil {
					t.Fatal(err)
				}
				return fmt.Sprintf("# %s.raw: the client's output (K->T), %d bytes, through the scanner\n", tr.name, len(in)) + tc.String()
			}
			got := trace(whole)
			if again := trace(byteByByte); again != got {
				t.Fatalf("the trace depends on how the stream is split")
			}
			golden := filepath.Join("testdata", tr.name+".golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("trace differs from %s (run with -update and review the diff):\n%s", golden, firstDiffLine(got, string(want)))
			}
		})
	}
}

func firstDiffLine(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n  got  %s\n  want %s", i+1, gl, wl)
		}
	}
	return ""
}

// transcriptPayloads returns every payload of every transcript in direction dir.
func transcriptPayloads(t testing.TB, dir string) [][]byte {
	var out [][]byte
	for _, tr := range loadTranscripts(t) {
		in := testdata.Stream(tr.chunks, dir)
		_, evs := naive(in, scanner.DefaultMaxPayload)
		for _, e := range evs {
			out = append(out, []byte(e.payload))
		}
	}
	return out
}
