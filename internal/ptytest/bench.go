package ptytest

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// BenchBytes is how much each end-to-end benchmark moves per iteration: 256 MiB, or
// XFERTERM_BENCH_BYTES (e.g. 1073741824 for 1 GiB).
func BenchBytes(b *testing.B) int {
	if s := os.Getenv("XFERTERM_BENCH_BYTES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("XFERTERM_BENCH_BYTES=%q", s)
		}
		return n
	}
	return 256 << 20
}

// RelayVsProxy times, per iteration of b.Loop, the helper "catfile" of path (n bytes)
// through a minimal relay (a pty and io.Copy) and through viaProxy, both writing to
// /dev/null, and reports relay-MB/s, proxy-MB/s and their time ratio proxy/relay.
// viaProxy runs cmd under the proxy with null as its console and returns how long the
// run took, leaving out its own set-up and checks.
func RelayVsProxy(b *testing.B, path string, n int, viaProxy func(cmd *exec.Cmd, null *os.File) time.Duration) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer null.Close()
	var relay, prox time.Duration
	for b.Loop() {
		t0 := time.Now()
		cmd := Command("catfile", "CATFILE="+path)
		ptmx, err := pty.Start(cmd)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(null, ptmx); err != nil && !errors.Is(err, syscall.EIO) {
			b.Fatal(err)
		}
		_ = cmd.Wait()   // The relay's time is what matters, not the child's status.
		_ = ptmx.Close() // Best effort.
		relay += time.Since(t0)

		prox += viaProxy(Command("catfile", "CATFILE="+path), null)
	}
	iters := float64(b.N)
	b.ReportMetric(float64(n)*iters/1e6/relay.Seconds(), "relay-MB/s")
	b.ReportMetric(float64(n)*iters/1e6/prox.Seconds(), "proxy-MB/s")
	b.ReportMetric(prox.Seconds()/relay.Seconds(), "proxy/relay")
}
