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
	"github.com/xferterm/xferterm/transfer"
)

// BenchmarkSendFileRealEngine: a child cats a pre-encoded quiet send session (q=2: no
// replies; one file in 4096-byte data packets) through proxy.Run with the real fs engine
// writing to a temporary home, and through a minimal relay (pty + io.Copy to /dev/null)
// of the same bytes in the same run. Reported: tty MB/s of each, their time ratio, and
// the file data rate through the proxy. 256 MiB of tty bytes per iteration, or
// XFERTERM_BENCH_BYTES. Each iteration writes a new file.
func BenchmarkSendFileRealEngine(b *testing.B) {
	n := ptytest.BenchBytes(b)
	stream, data := writeSendStream(b, filepath.Join(b.TempDir(), "stream"), n)
	home := b.TempDir()
	var prox time.Duration
	ptytest.RelayVsProxy(b, stream, n, func(cmd *exec.Cmd, null *os.File) time.Duration {
		// A new file each time: replacing one adds an fsync of it (fs flushes a file to
		// disk before it replaces another), a cost of the disk, not of the relay.
		if err := os.Remove(filepath.Join(home, "bench.bin")); err != nil && !os.IsNotExist(err) {
			b.Fatal(err)
		}
		eng, err := fs.NewEngine(fs.Config{Home: home, Approver: transfer.Fixed{Allow: true, How: "policy"}})
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

// BenchmarkPassthroughBinary is the pass-through benchmark as a user would run it: cat
// of terminal-like text inside the xferterm binary (xferterm -- cat FILE) against the
// same cat inside script(1), util-linux's pty relay (script -q -c 'cat FILE' /dev/null),
// both with stdin and stdout on /dev/null, back to back in alternating order.
// Reported: MB/s of each, CPU (user+system of the relay and cat together, from wait4)
// per wall time, and the medians of the per-iteration ratios xferterm/script of wall and
// of CPU time. 256 MiB per iteration, or XFERTERM_BENCH_BYTES.
func BenchmarkPassthroughBinary(b *testing.B) {
	n := ptytest.BenchBytes(b)
	path := filepath.Join(b.TempDir(), "text")
	ptytest.WriteText(b, path, n)
	script, err := exec.LookPath("script")
	if err != nil {
		b.Fatal("script(1) is needed as the baseline (Debian: bsdutils):", err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer null.Close()
	run := func(name string, args ...string) ptytest.Run {
		cmd := exec.Command(name, args...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s: %v", cmd, err)
		}
		return ptytest.Run{Wall: time.Since(t0), CPU: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	}
	ptytest.ComparePairs(b, n, "script", "xferterm",
		func() ptytest.Run { return run(script, "-q", "-c", "cat '"+path+"'", os.DevNull) },
		func() ptytest.Run { return run(xferterm, "--", "cat", path) })
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
