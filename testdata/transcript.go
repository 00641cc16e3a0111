// Package testdata holds the fixtures shared by the tests of several packages: the byte
// streams of the real client recorded in transcripts/ (see transcripts/README.md), and
// the helpers to read them. It is imported only by tests.
package testdata

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
)

// Directions of a Chunk.
const (
	KittenToTerminal = "K->T" // written by the client (kitten) into the pty
	TerminalToKitten = "T->K" // written back by the recorded terminal side
)

// Chunk is one block of a .raw transcript: the bytes of one read (K->T) or one reply
// (T->K), exactly as recorded.
type Chunk struct {
	Dir  string  // KittenToTerminal or TerminalToKitten
	Time float64 // seconds since the start of the scenario
	Data []byte
}

// Dir returns the absolute path of this package's directory, so tests of any package can
// find the fixtures whatever their working directory.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("testdata: cannot locate the source directory")
	}
	return filepath.Dir(file)
}

// TranscriptsDir returns the absolute path of the directory of transcripts.
func TranscriptsDir() string { return filepath.Join(Dir(), "transcripts") }

// Transcripts returns the paths of every .raw transcript, sorted by name.
func Transcripts() ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(TranscriptsDir(), "*.raw"))
	if err == nil && len(paths) == 0 {
		err = errors.New("testdata: no transcripts found in " + TranscriptsDir())
	}
	return paths, err
}

// LoadTranscript reads a .raw transcript. The format is a sequence of blocks, each a
// header line "\n--- <dir> <seconds> <n> bytes ---\n" followed by exactly n bytes of data.
func LoadTranscript(path string) ([]Chunk, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	chunks, err := ParseTranscript(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return chunks, nil
}

// ParseTranscript parses the contents of a .raw transcript (see LoadTranscript).
func ParseTranscript(b []byte) ([]Chunk, error) {
	var chunks []Chunk
	off := 0
	for off < len(b) {
		rest := b[off:]
		if !bytes.HasPrefix(rest, []byte("\n--- ")) {
			return nil, fmt.Errorf("testdata: offset %d: expected a block header", off)
		}
		eol := bytes.IndexByte(rest[1:], '\n')
		if eol < 0 {
			return nil, fmt.Errorf("testdata: offset %d: unterminated block header", off)
		}
		header := string(rest[1 : 1+eol])
		var c Chunk
		var n int
		var tm string
		if _, err := fmt.Sscanf(header, "--- %s %s %d bytes ---", &c.Dir, &tm, &n); err != nil {
			return nil, fmt.Errorf("testdata: offset %d: bad block header %q: %v", off, header, err)
		}
		if c.Dir != KittenToTerminal && c.Dir != TerminalToKitten {
			return nil, fmt.Errorf("testdata: offset %d: bad direction %q", off, c.Dir)
		}
		t, err := strconv.ParseFloat(tm, 64)
		if err != nil {
			return nil, fmt.Errorf("testdata: offset %d: bad time %q", off, tm)
		}
		c.Time = t
		start := off + 1 + eol + 1
		if n < 0 || start+n > len(b) {
			return nil, fmt.Errorf("testdata: offset %d: block of %d bytes is truncated", off, n)
		}
		c.Data = b[start : start+n : start+n]
		chunks = append(chunks, c)
		off = start + n
	}
	return chunks, nil
}

// Stream concatenates the data of the chunks going in direction dir.
func Stream(chunks []Chunk, dir string) []byte {
	var out []byte
	for _, c := range chunks {
		if c.Dir == dir {
			out = append(out, c.Data...)
		}
	}
	return out
}
