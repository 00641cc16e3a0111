package main

import (
	"bufio"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/internal/ptytest"
	"github.com/xferterm/xferterm/proxy"
	"github.com/xferterm/xferterm/scanner"
)

// BenchmarkSendFileRealEngine: a child cats a pre-encoded quiet send session (q=2: no
// replies; one file in 4096-byte data packets) through proxy.Run with the real fs engine
// writing to a temporary home, and through a minimal relay (pty + io.Copy to /dev/null)
// of the same bytes in the same run. Reported: tty MB/s of each, their time ratio, and
// the file data rate through the proxy. 256 MiB of tty bytes per iteration, or
// XFERTERM_BENCH_BYTES.
func BenchmarkSendFileRealEngine(b *testing.B) {
	n := ptytest.BenchBytes(b)
	stream, data := writeSendStream(b, filepath.Join(b.TempDir(), "stream"), n)
	home := b.TempDir()
	var prox time.Duration
	ptytest.RelayVsProxy(b, stream, n, func(cmd *exec.Cmd, null *os.File) time.Duration {
		eng, err := fs.NewEngine(fs.Config{Home: home, Approver: fs.FixedApprover{Allow: true, How: "policy"}})
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		code, err := proxy.Run(b.Context(), cmd, proxy.Config{Console: proxy.NewConsole(null, null), Engine: eng})
		if code != 0 || err != nil {
			b.Fatalf("Run = %d, %v", code, err)
		}
		d := time.Since(t0)
		prox += d
		if st, err := os.Stat(filepath.Join(home, "bench.bin")); err != nil || st.Size() != int64(data) {
			b.Fatalf("received file: %v, %v; want %d bytes", st, err, data)
		}
		return d
	})
	b.ReportMetric(float64(data)*float64(b.N)/1e6/prox.Seconds(), "file-MB/s")
}

// writeSendStream writes a quiet send session of about n bytes to path and returns the
// path and the size of the file it carries.
func writeSendStream(b *testing.B, path string, n int) (string, int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	const id = "bench"
	put := func(c scanner.Command) int {
		seq := c.AppendOSC(nil)
		if _, err := w.Write(seq); err != nil {
			b.Fatal(err)
		}
		return len(seq)
	}
	total := put(scanner.Command{Action: scanner.ActionSend, ID: id, Quiet: 2})
	total += put(scanner.Command{Action: scanner.ActionFile, ID: id, FileID: "1", Name: "bench.bin", Quiet: 2})
	rng := rand.New(rand.NewPCG(9, 10))
	packet := make([]byte, fs.MaxDataPacket)
	data := 0
	for total < n {
		for i := range packet {
			packet[i] = byte(rng.Uint32())
		}
		total += put(scanner.Command{Action: scanner.ActionData, ID: id, FileID: "1", Data: packet})
		data += len(packet)
	}
	put(scanner.Command{Action: scanner.ActionEndData, ID: id, FileID: "1"})
	put(scanner.Command{Action: scanner.ActionFinish, ID: id})
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path, data
}
