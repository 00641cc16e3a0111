package proxy_test

import (
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/xferterm/xferterm/internal/ptytest"
	"github.com/xferterm/xferterm/proxy"
	"github.com/xferterm/xferterm/scanner"
)

// BenchmarkPassthroughPTY: a child cats terminal-like text (no OSC 5113) through
// proxy.Run, and through a minimal relay (pty + io.Copy) in the same run; reported as
// MB/s, CPU and the ratios of each (see ptytest.RelayVsProxy).
func BenchmarkPassthroughPTY(b *testing.B) {
	n := ptytest.BenchBytes(b)
	path := filepath.Join(b.TempDir(), "text")
	ptytest.WriteText(b, path, n)
	benchRelayVsProxy(b, path, n, nil)
}

// BenchmarkSendStreamPTY: a child cats a pre-encoded quiet send session (OSC 5113 data
// packets of 4096 bytes) through proxy.Run with an engine that decodes every payload
// (scanner.ParseInto, base64 included) but writes nothing, and through a minimal relay
// of the same bytes. file-MB/s is the decoded data rate through the proxy.
func BenchmarkSendStreamPTY(b *testing.B) {
	n := ptytest.BenchBytes(b)
	path := filepath.Join(b.TempDir(), "stream")
	packet := make([]byte, 4096)
	ptytest.WriteFile(b, path, n, func(w io.Writer, rng *rand.Rand) {
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
// relay and by proxy.Run (with eng, if not nil), both writing to /dev/null.
func benchRelayVsProxy(b *testing.B, path string, n int, eng *decodeEngine) {
	ptytest.RelayVsProxy(b, path, n, func(cmd *exec.Cmd, null *os.File) time.Duration {
		t0 := time.Now()
		cfg := proxy.Config{Console: proxy.NewConsole(null, null)}
		if eng != nil {
			cfg.Engine = eng
		}
		if code, err := proxy.Run(b.Context(), cmd, cfg); code != 0 || err != nil {
			b.Fatalf("Run = %d, %v", code, err)
		}
		d := time.Since(t0)
		if eng != nil {
			eng.elapsed += d
		}
		return d
	})
}

// decodeEngine parses every payload, as the real engine does first, and keeps nothing.
type decodeEngine struct {
	cmd     scanner.Command
	data    int
	elapsed time.Duration
}

func (e *decodeEngine) HandlePayloadFrom(p []byte, _ scanner.Dialect) error {
	if err := scanner.ParseInto(&e.cmd, p); err != nil {
		return err
	}
	e.data += len(e.cmd.Data)
	return nil
}

func (e *decodeEngine) Pull(dst []byte, _ int) []byte { return dst }
func (e *decodeEngine) Ready() <-chan struct{}        { return nil }
func (e *decodeEngine) Running() bool                 { return false }
func (e *decodeEngine) CancelAll() bool               { return false }
func (e *decodeEngine) Tick()                         {}
func (e *decodeEngine) Close() error                  { return nil }
