package testdata_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/xferterm/xferterm/testdata"
)

// TestLoadTranscriptRoundTrip parses every transcript and writes it back out: the result
// must be the file, byte for byte, so no block is lost or cut.
func TestLoadTranscriptRoundTrip(t *testing.T) {
	paths, err := testdata.Transcripts()
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 40 {
		t.Fatalf("found %d transcripts, want all of them", len(paths))
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			chunks, err := testdata.LoadTranscript(path)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			for _, c := range chunks {
				fmt.Fprintf(&got, "\n--- %s %.3f %d bytes ---\n", c.Dir, c.Time, len(c.Data))
				got.Write(c.Data)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("re-serialized transcript differs from the file")
			}
			if len(testdata.Stream(chunks, testdata.KittenToTerminal)) == 0 {
				t.Errorf("no K->T bytes")
			}
		})
	}
}

func TestParseTranscriptRejectsDamage(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"a block without its header", "hello"},
		{"a header without a newline", "\n--- K->T 0.1 3 bytes ---"},
		{"a block shorter than its header says", "\n--- K->T 0.1 3 bytes ---\nab"},
		{"an unknown direction", "\n--- X->Y 0.1 1 bytes ---\na"},
		{"a malformed size", "\n--- K->T 0.1 x bytes ---\na"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := testdata.ParseTranscript([]byte(tc.in)); err == nil {
				t.Errorf("ParseTranscript(%q) succeeded, want an error", tc.in)
			}
		})
	}
}

func TestDirIsAbsolute(t *testing.T) {
	if !filepath.IsAbs(testdata.TranscriptsDir()) {
		t.Errorf("TranscriptsDir() = %q, want an absolute path", testdata.TranscriptsDir())
	}
	if _, err := os.Stat(filepath.Join(testdata.TranscriptsDir(), "README.md")); err != nil {
		t.Error(err)
	}
}
