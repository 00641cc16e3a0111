package proxy_test

import (
	"bufio"
	"errors"
	"fmt"
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

	"github.com/xferterm/xferterm/proxy"
	"github.com/xferterm/xferterm/scanner"
)

// benchBytes is how much each end-to-end benchmark moves per iteration: 256 MiB, or
// XFERTERM_BENCH_BYTES (e.g. 1073741824 for 1 GiB).
func benchBytes(b *testing.B) int {
	if s := os.Getenv("XFERTERM_BENCH_BYTES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("XFERTERM_BENCH_BYTES=%q", s)
		}
		return n
	}
	return 256 << 20
}

// BenchmarkPassthroughPTY: a child cats terminal-like text (no OSC 5113) through
// proxy.Run, and through a minimal relay (pty + io.Copy) in the same run; reported as
// MB/s of each and their ratio (proxy time / relay time).
func BenchmarkPassthroughPTY(b *testing.B) {
	n := benchBytes(b)
	path := filepath.Join(b.TempDir(), "text")
	writeFile(b, path, n, func(w *bufio.Writer, rng *rand.Rand) {
		fmt.Fprintf(w, "\x1b[3%dm%6d\x1b[0m │ some log line with words, ünïcödé ✓, and a number %d\r\n",
			rng.IntN(8), rng.IntN(1e6), rng.Uint64())
	})
	benchRelayVsProxy(b, path, n, nil)
}

// BenchmarkSendStreamPTY: a child cats a pre-encoded quiet send session (OSC 5113 data
// packets of 4096 bytes) through proxy.Run with an engine that decodes every payload
// (scanner.ParseInto, base64 included) but writes nothing, and through a minimal relay
// of the same bytes. file-MB/s is the decoded data rate through the proxy.
func BenchmarkSendStreamPTY(b *testing.B) {
	n := benchBytes(b)
	path := filepath.Join(b.TempDir(), "stream")
	packet := make([]byte, 4096)
	writeFile(b, path, n, func(w *bufio.Writer, rng *rand.Rand) {
		for i := range packet {
			packet[i] = byte(rng.Uint32())
		}
		c := scanner.Command{Action: scanner.ActionData, ID: "bench", FileID: "1", Data: packet}
		w.Write(c.AppendOSC(nil))
	})
	eng := &decodeEngine{}
	benchRelayVsProxy(b, path, n, eng)
	b.ReportMetric(float64(eng.data)/1e6/eng.elapsed.Seconds(), "file-MB/s")
}

// benchRelayVsProxy times, per iteration, the helper "catfile" relayed by a minimal
// relay and by proxy.Run, both writing to /dev/null.
func benchRelayVsProxy(b *testing.B, path string, n int, eng *decodeEngine) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer null.Close()
	helperCmd := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=catfile", "CATFILE="+path, "GORACE=atexit_sleep_ms=0")
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
		if _, err := io.Copy(null, ptmx); err != nil && !isEIO(err) {
			b.Fatal(err)
		}
		_ = cmd.Wait()
		_ = ptmx.Close()
		relay += time.Since(t0)

		t0 = time.Now()
		cfg := proxy.Config{Console: proxy.NewConsole(null, null)}
		if eng != nil {
			cfg.Engine = eng
		}
		if code, err := proxy.Run(b.Context(), helperCmd(), cfg); code != 0 || err != nil {
			b.Fatalf("Run = %d, %v", code, err)
		}
		d := time.Since(t0)
		prox += d
		if eng != nil {
			eng.elapsed += d
		}
	}
	iters := float64(b.N)
	b.ReportMetric(float64(n)*iters/1e6/relay.Seconds(), "relay-MB/s")
	b.ReportMetric(float64(n)*iters/1e6/prox.Seconds(), "proxy-MB/s")
	b.ReportMetric(prox.Seconds()/relay.Seconds(), "proxy/relay")
}

func isEIO(err error) bool { return errors.Is(err, syscall.EIO) }

// writeFile writes about n bytes made by piece to path.
func writeFile(b *testing.B, path string, n int, piece func(*bufio.Writer, *rand.Rand)) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(7, 8))
	for w.Size() > 0 {
		piece(w, rng)
		if st, _ := f.Stat(); st.Size()+int64(w.Buffered()) >= int64(n) {
			break
		}
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

// decodeEngine parses every payload, as the real engine does first, and keeps nothing.
type decodeEngine struct {
	cmd     scanner.Command
	data    int
	elapsed time.Duration
}

func (e *decodeEngine) HandlePayload(p []byte) error {
	if err := scanner.ParseInto(&e.cmd, p); err != nil {
		return err
	}
	e.data += len(e.cmd.Data)
	return nil
}

func (e *decodeEngine) Pull(dst []byte, _ int) []byte { return dst }
func (e *decodeEngine) Ready() <-chan struct{}        { return nil }
func (e *decodeEngine) Active() bool                  { return false }
func (e *decodeEngine) CancelAll() bool               { return false }
func (e *decodeEngine) Tick()                         {}
func (e *decodeEngine) Close() error                  { return nil }
