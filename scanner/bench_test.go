package scanner_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/xferterm/xferterm/scanner"
)

// terminalText returns n bytes of what `ls -l --color` and a shell prompt look like: mostly
// text, an SGR sequence every few dozen bytes.
func terminalText(n int, colored bool) []byte {
	var b bytes.Buffer
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"scanner", "framer.go", "README.md", "xferterm", "go.sum", "testdata", "transcript_test.go"}
	for b.Len() < n {
		name := names[rng.IntN(len(names))]
		if colored && rng.IntN(2) == 0 {
			name = "\x1b[01;34m" + name + "\x1b[0m"
		}
		fmt.Fprintf(&b, "-rw-r--r-- 1 demo demo %6d Nov 21 05:%02d %s\r\n", rng.IntN(1<<20), rng.IntN(60), name)
	}
	return b.Bytes()[:n]
}

func BenchmarkPassthrough(b *testing.B) {
	for _, colored := range []bool{false, true} {
		for _, size := range []int{4 << 10, 64 << 10} {
			name := fmt.Sprintf("plain/%dKiB", size>>10)
			if colored {
				name = fmt.Sprintf("colored/%dKiB", size>>10)
			}
			b.Run(name, func(b *testing.B) {
				chunk := terminalText(size, colored)
				s := scanner.New(io.Discard, func([]byte, error) {}, 0)
				b.SetBytes(int64(len(chunk)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := s.Write(chunk); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// dataPacket returns a client data packet carrying 4096 bytes, as the kitten sends them.
func dataPacket(fid int) []byte {
	data := make([]byte, 4096)
	for i := range data {
		data[i] = byte(i * 7)
	}
	return fmt.Appendf(nil, "id=14f64e62;ac=data;fid=%d;d=%s", fid, base64.RawStdEncoding.EncodeToString(data))
}

func BenchmarkExtract(b *testing.B) {
	var stream []byte
	for range 192 { // about 1 MiB of packets
		stream = append(stream, introducer...)
		stream = append(stream, dataPacket(1)...)
		stream = append(stream, "\x1b\\"...)
	}
	const chunk = 64 << 10
	payloads := 0
	s := scanner.New(io.Discard, func(p []byte, err error) {
		if err != nil {
			b.Fatal(err)
		}
		payloads++
	}, 0)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		for p := stream; len(p) > 0; {
			n := min(chunk, len(p))
			if _, err := s.Write(p[:n]); err != nil {
				b.Fatal(err)
			}
			p = p[n:]
		}
	}
	if payloads%192 != 0 {
		b.Fatalf("%d payloads, not a multiple of 192", payloads)
	}
}

func BenchmarkParseData(b *testing.B) {
	packet := dataPacket(1)
	b.Run("Parse", func(b *testing.B) {
		b.SetBytes(int64(len(packet)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := scanner.Parse(packet); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ParseInto", func(b *testing.B) {
		var c scanner.Command
		b.SetBytes(int64(len(packet)))
		b.ReportAllocs()
		for b.Loop() {
			if err := scanner.ParseInto(&c, packet); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAppendTo(b *testing.B) {
	for _, tc := range []struct {
		name string
		cmd  scanner.Command
	}{
		{"status", scanner.Command{Action: scanner.ActionStatus, ID: "14f64e62", FileID: "1", Status: scanner.StatusProgress, Size: scanner.Some(37235)}},
		{"data", scanner.Command{Action: scanner.ActionData, ID: "14f64e62", FileID: "1", Data: make([]byte, 4096)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var dst []byte
			b.SetBytes(int64(len(tc.cmd.AppendOSC(nil))))
			b.ReportAllocs()
			for b.Loop() {
				dst = tc.cmd.AppendOSC(dst[:0])
			}
		})
	}
}
