package main

import (
	"bufio"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/xferterm/xferterm/fs"
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
	n := 256 << 20
	if s := os.Getenv("XFERTERM_BENCH_BYTES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n <= 0 {
			b.Fatalf("XFERTERM_BENCH_BYTES=%q", s)
		}
	}
	stream, data := writeSendStream(b, filepath.Join(b.TempDir(), "stream"), n)
	home := b.TempDir()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer null.Close()
	helperCmd := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=catfile", "CATFILE="+stream, "GORACE=atexit_sleep_ms=0")
		return cmd
	}
	var relay, prox time.Duration
	for b.Loop() {
		t0 := time.Now()
		cmd := helperCmd()
		ptmx, err := pty.Start(cmd)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(null, ptmx); err != nil && !errors.Is(err, syscall.EIO) {
			b.Fatal(err)
		}
		_ = cmd.Wait()
		_ = ptmx.Close()
		relay += time.Since(t0)

		eng, err := fs.NewEngine(fs.Config{Home: home, Approver: fs.FixedApprover{Allow: true, How: "policy"}})
		if err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		code, err := proxy.Run(b.Context(), helperCmd(), proxy.Config{Console: proxy.NewConsole(null, null), Engine: eng})
		if code != 0 || err != nil {
			b.Fatalf("Run = %d, %v", code, err)
		}
		prox += time.Since(t0)
		if st, err := os.Stat(filepath.Join(home, "bench.bin")); err != nil || st.Size() != int64(data) {
			b.Fatalf("received file: %v, %v; want %d bytes", st, err, data)
		}
	}
	iters := float64(b.N)
	b.ReportMetric(float64(n)*iters/1e6/relay.Seconds(), "relay-MB/s")
	b.ReportMetric(float64(n)*iters/1e6/prox.Seconds(), "proxy-MB/s")
	b.ReportMetric(prox.Seconds()/relay.Seconds(), "proxy/relay")
	b.ReportMetric(float64(data)*iters/1e6/prox.Seconds(), "file-MB/s")
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
