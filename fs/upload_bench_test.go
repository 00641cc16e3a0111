package fs_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/xferterm/xferterm/scanner"
)

// BenchmarkUpload measures the send direction from payload bytes to the file on disk:
// parse, base64, (zlib), write, PROGRESS, for a 16 MiB file in the client's 4 KiB
// packets.
func BenchmarkUpload(b *testing.B) {
	const size = 16 << 20
	content := bytes.Repeat([]byte("some moderately compressible text, line after line\n"), size/51+1)[:size]
	for _, zip := range []bool{false, true} {
		b.Run(fmt.Sprintf("zlib=%v", zip), func(b *testing.B) {
			wire := content
			if zip {
				wire = zlibOf(b, content)
			}
			var payloads [][]byte
			for i := 0; i < len(wire); i += 4096 {
				c := dataCmd("s", "1", wire[i:min(i+4096, len(wire))])
				if i+4096 >= len(wire) {
					c.Action = scanner.ActionEndData
				}
				payloads = append(payloads, c.AppendTo(nil)[len(scanner.Prefix):])
			}
			h := newUpHarness(b)
			f := fileCmd("s", "1", "bench")
			if zip {
				f.Compression = scanner.CompressionZlib
			}
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				for _, c := range []scanner.Command{sendCmd("s"), f} {
					if err := h.e.Handle(&c); err != nil {
						b.Fatal(err)
					}
				}
				for _, p := range payloads {
					if err := h.e.HandlePayload(p); err != nil {
						b.Fatal(err)
					}
				}
				if out := h.e.Pull(nil, 1<<30); !bytes.HasSuffix(out, []byte(";st=T0s\x1b\\")) {
					b.Fatalf("no OK in %q", out[max(0, len(out)-200):])
				}
				if err := h.e.Handle(&scanner.Command{Action: scanner.ActionFinish, ID: "s"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
