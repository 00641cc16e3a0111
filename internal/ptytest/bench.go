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
	WriteFile(b, path, n, func(w io.Writer, rng *rand.Rand) {
		fmt.Fprintf(w, "\x1b[3%dm%6d\x1b[0m │ some log line with words, ünïcödé ✓, and a number %d\r\n",
			rng.IntN(8), rng.IntN(1e6), rng.Uint64())
	})
}

// WriteFile writes exactly n bytes to path, made by calling piece until there are
// enough (the last piece is cut short). rng is seeded the same on every call, so the
// file is the same on every run. Errors of piece's writes come back at the end.
func WriteFile(b *testing.B, path string, n int, piece func(w io.Writer, rng *rand.Rand)) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := &countingWriter{w: bufio.NewWriterSize(f, 1<<20)}
	rng := rand.New(rand.NewPCG(7, 8))
	for w.n < int64(n) {
		piece(w, rng)
	}
	if err := w.w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Truncate(int64(n)); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// countingWriter counts what is written through it.
type countingWriter struct {
	w *bufio.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	k, err := c.w.Write(p)
	c.n += int64(k)
	return k, err
}

// RelayVsProxy times, per iteration of b.Loop, the helper "catfile" of path (n bytes)
// through a minimal relay (a pty and io.Copy) and through viaProxy, both writing to
// /dev/null. viaProxy runs cmd under the proxy with null as its console and returns how
// long the run took, leaving out its own set-up and checks.
//
// The runs are compared by ComparePairs (base "relay", subject "proxy"); the CPU time of
// each is this process's (the child's own work is the same in both and not counted).
func RelayVsProxy(b *testing.B, path string, n int, viaProxy func(cmd *exec.Cmd, null *os.File) time.Duration) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer null.Close()
	ComparePairs(b, n, "relay", "proxy",
		func() Run { return timeRun(b, func() time.Duration { return runRelay(b, path, null) }) },
		func() Run {
			return timeRun(b, func() time.Duration { return viaProxy(Command("catfile", "CATFILE="+path), null) })
		})
}

// Run is what one timed run took: wall time and CPU time.
type Run struct{ Wall, CPU time.Duration }

// ComparePairs runs base and subject once per iteration of b.Loop, back to back in
// alternating order so that both see the same machine, each moving n bytes. Reported,
// with the names given: <base>-MB/s and <subject>-MB/s over all iterations, the CPU per
// wall time of each (<base>-cpu%, <subject>-cpu%), and, as the figures to judge the
// subject by, the medians of the per-iteration ratios subject/base of wall time
// (wall-<subject>/<base>) and of CPU time (cpu-<subject>/<base>): a burst of noise on
// the machine spoils one pair, not the result.
func ComparePairs(b *testing.B, n int, baseName, subjectName string, base, subject func() Run) {
	var baseSum, subjectSum Run
	var wallRatios, cpuRatios []float64
	i := 0
	for b.Loop() {
		var r, s Run
		if i%2 == 0 {
			r, s = base(), subject()
		} else {
			s, r = subject(), base()
		}
		i++
		baseSum.Wall, baseSum.CPU = baseSum.Wall+r.Wall, baseSum.CPU+r.CPU
		subjectSum.Wall, subjectSum.CPU = subjectSum.Wall+s.Wall, subjectSum.CPU+s.CPU
		wallRatios = append(wallRatios, s.Wall.Seconds()/r.Wall.Seconds())
		cpuRatios = append(cpuRatios, s.CPU.Seconds()/r.CPU.Seconds())
	}
	mb := float64(n) * float64(b.N) / 1e6
	b.ReportMetric(mb/baseSum.Wall.Seconds(), baseName+"-MB/s")
	b.ReportMetric(mb/subjectSum.Wall.Seconds(), subjectName+"-MB/s")
	b.ReportMetric(baseSum.CPU.Seconds()/baseSum.Wall.Seconds()*100, baseName+"-cpu%")
	b.ReportMetric(subjectSum.CPU.Seconds()/subjectSum.Wall.Seconds()*100, subjectName+"-cpu%")
	b.ReportMetric(Median(wallRatios), "wall-"+subjectName+"/"+baseName)
	b.ReportMetric(Median(cpuRatios), "cpu-"+subjectName+"/"+baseName)
}

// timeRun runs run, which returns its wall time, and adds the CPU time this process
// spent meanwhile.
func timeRun(b *testing.B, run func() time.Duration) Run {
	c0 := cpuTime(b)
	wall := run()
	return Run{Wall: wall, CPU: cpuTime(b) - c0}
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
