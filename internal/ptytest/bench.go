package ptytest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
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

// WriteText writes n bytes of terminal-like text to path: log lines with colour (SGR)
// sequences, UTF-8 and CRLF, as a program in a terminal prints them.
func WriteText(b *testing.B, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(7, 8))
	for written := 0; written < n; {
		k, _ := fmt.Fprintf(w, "\x1b[3%dm%6d\x1b[0m │ some log line with words, ünïcödé ✓, and a number %d\r\n",
			rng.IntN(8), rng.IntN(1e6), rng.Uint64()) // A bufio.Writer's error comes back at Flush.
		written += k
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Truncate(int64(n)); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// RelayVsProxy times, per iteration of b.Loop, the helper "catfile" of path (n bytes)
// through a minimal relay (a pty and io.Copy) and through viaProxy, both writing to
// /dev/null. viaProxy runs cmd under the proxy with null as its console and returns how
// long the run took, leaving out its own set-up and checks.
//
// The two runs of an iteration are back to back, in alternating order, so that both see
// the same machine. Reported: relay-MB/s and proxy-MB/s over all iterations; the CPU time
// this process spent in each (relay-cpu%, proxy-cpu%: CPU per wall time; the child's own
// work is the same in both and not counted); and, as the figures to judge the proxy by,
// the medians of the per-iteration ratios proxy/relay of wall time and of CPU time
// (a burst of noise on the machine spoils one pair, not the result).
func RelayVsProxy(b *testing.B, path string, n int, viaProxy func(cmd *exec.Cmd, null *os.File) time.Duration) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer null.Close()
	var relay, prox, relayCPU, proxCPU time.Duration
	var wallRatios, cpuRatios []float64
	i := 0
	for b.Loop() {
		var r, p pairRun
		if i%2 == 0 {
			r = timeRun(b, func() time.Duration { return runRelay(b, path, null) })
			p = timeRun(b, func() time.Duration { return viaProxy(Command("catfile", "CATFILE="+path), null) })
		} else {
			p = timeRun(b, func() time.Duration { return viaProxy(Command("catfile", "CATFILE="+path), null) })
			r = timeRun(b, func() time.Duration { return runRelay(b, path, null) })
		}
		i++
		relay, prox = relay+r.wall, prox+p.wall
		relayCPU, proxCPU = relayCPU+r.cpu, proxCPU+p.cpu
		wallRatios = append(wallRatios, p.wall.Seconds()/r.wall.Seconds())
		cpuRatios = append(cpuRatios, p.cpu.Seconds()/r.cpu.Seconds())
	}
	iters := float64(b.N)
	b.ReportMetric(float64(n)*iters/1e6/relay.Seconds(), "relay-MB/s")
	b.ReportMetric(float64(n)*iters/1e6/prox.Seconds(), "proxy-MB/s")
	b.ReportMetric(relayCPU.Seconds()/relay.Seconds()*100, "relay-cpu%")
	b.ReportMetric(proxCPU.Seconds()/prox.Seconds()*100, "proxy-cpu%")
	b.ReportMetric(Median(wallRatios), "wall-proxy/relay")
	b.ReportMetric(Median(cpuRatios), "cpu-proxy/relay")
}

// pairRun is one timed run: its wall time, as the run reports it, and the CPU time this
// process spent meanwhile.
type pairRun struct{ wall, cpu time.Duration }

func timeRun(b *testing.B, run func() time.Duration) pairRun {
	c0 := cpuTime(b)
	wall := run()
	return pairRun{wall: wall, cpu: cpuTime(b) - c0}
}

// runRelay runs catfile of path through the minimal relay and returns how long it took.
func runRelay(b *testing.B, path string, null *os.File) time.Duration {
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
	return time.Since(t0)
}

// Median returns the median of v (which it sorts).
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// cpuTime is the user and system CPU time this process has used so far (its children
// are not counted: the child's work is the same under the relay and the proxy).
func cpuTime(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
