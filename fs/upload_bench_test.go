package fs_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
)

// BenchmarkUpload measures the send direction from payload bytes to the file on disk:
// parse, base64, (zlib), write, PROGRESS, for a 16 MiB file in the client's 4 KiB
// packets.
func BenchmarkUpload(b *testing.B) {
	const size = 16 << 20
	content := bytes.Repeat([]byte("some moderately compressible text, line after line\n"), size/51+1)[:size]
	for _, zip := range []bool{false, true} {
		b.Run(fmt.Sprintf("zlib=%v", zip), func(b *testing.B) {
			benchUpload(b, content, zip)
		})
	}
}

// BenchmarkUploadZlib measures a zlib-compressed file of the send direction through the
// whole engine into a temporary directory: payload parsing, base64, inflating, the size
// and free-space checks and the disk, for 16 MiB in the client's 4096-byte data packets.
// Unlike BenchmarkUpload's repeated line, these inputs take hundreds or thousands of
// packets, so the inflater's cost per packet shows. The throughput is that of the
// decompressed bytes.
func BenchmarkUploadZlib(b *testing.B) {
	const size = 16 << 20
	for _, c := range testdata.ZlibCases(size) {
		b.Run(c.Name, func(b *testing.B) { benchUpload(b, c.Data, true) })
	}
}

// benchUpload times one send session per iteration that writes content (compressed
// with zlib when zip) to a file, from its payloads in the client's 4096-byte data
// packets to the final OK.
func benchUpload(b *testing.B, content []byte, zip bool) {
	wire := content
	if zip {
		wire = testdata.Zlib(b, content)
	}
	var payloads [][]byte
	for i := 0; i < len(wire); i += fs.MaxDataPacket {
		c := dataCmd("s", "1", wire[i:min(i+fs.MaxDataPacket, len(wire))])
		if i+fs.MaxDataPacket >= len(wire) {
			c.Action = scanner.ActionEndData
		}
		payloads = append(payloads, c.AppendTo(nil)[len(scanner.Prefix):])
	}
	h := newUpHarness(b)
	f := fileCmd("s", "1", "bench")
	if zip {
		f.Compression = scanner.CompressionZlib
	}
	b.SetBytes(int64(len(content)))
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
}
