package client_test

import (
	"bytes"
	"testing"

	"github.com/xferterm/xferterm/client"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
)

// FuzzParseStrict checks that whatever ParseStrict accepts, the lenient scanner.Parse
// reads the same way, and that the command survives a round trip through the
// terminal's serializer. Seeds are the replies of every transcript.
func FuzzParseStrict(f *testing.F) {
	paths, err := testdata.Transcripts()
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		chunks, err := testdata.LoadTranscript(p)
		if err != nil {
			f.Fatal(err)
		}
		sc := scanner.New(&bytes.Buffer{}, func(p []byte, err error) {
			if err == nil {
				f.Add(bytes.Clone(p))
			}
		}, 0)
		_, _ = sc.Write(testdata.Stream(chunks, testdata.TerminalToKitten))
	}
	f.Add([]byte("ac=status;id=a;st=T0s="))
	f.Add([]byte("ac=status;id=a;st=T0s;xx=1"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		strict, err := client.ParseStrict(payload)
		if err != nil {
			return
		}
		lenient, err := scanner.Parse(payload)
		if err != nil {
			t.Fatalf("ParseStrict accepted %q, scanner.Parse refused it: %v", payload, err)
		}
		if strict.String() != lenient.String() {
			t.Fatalf("%q: strict %q, lenient %q", payload, strict.String(), lenient.String())
		}
		out := strict.AppendTo(nil)
		again, err := client.ParseStrict(out[len(scanner.Prefix):])
		if err != nil {
			t.Fatalf("re-encoded %q is refused: %v", out, err)
		}
		if again.String() != strict.String() {
			t.Fatalf("round trip of %q: %q, want %q", payload, again.String(), strict.String())
		}
	})
}
