package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// muxBenchSize is the size of the file BenchmarkMultiplexer moves each way from each place.
const muxBenchSize = 128 << 20

// muxBenchRounds is how many pieces each of those moves is cut into: the places take turns,
// so that a machine whose load changes meanwhile (other work on its 2 cores) slows all of
// them alike and the ratios hold.
const muxBenchRounds = 4

// BenchmarkMultiplexer measures `xferterm transfer` of a 128 MiB random file (--compress never,
// granted by the bypass) through the private sshd, from the remote shell itself and from a shell
// inside a remote tmux (default settings) and inside a remote GNU screen, in the same run, in
// muxBenchRounds turns of a quarter of the file each:
//
//	plain-send-MB/s, tmux-send-MB/s, screen-send-MB/s        file data per second, send
//	plain-receive-MB/s, tmux-receive-MB/s                     the same, receive (screen cannot)
//	tmux/plain-send, screen/plain-send, tmux/plain-receive   the ratios
//
//	go test -run='^$' -bench=Multiplexer -benchtime=1x ./e2e
func BenchmarkMultiplexer(b *testing.B) {
	r := newRig(b)
	src := filepath.Join(r.Base, "files", "random.bin")
	if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
		b.Fatal(err)
	}
	const piece = muxBenchSize / muxBenchRounds
	writeLargeFile(b, src, piece, func(chunk uint64, n int) []byte { return randomBytes(3000+chunk, n) })
	pw := filepath.Join(r.Base, "password")
	writeFile(b, pw, []byte("benchmark secret\n"), 0o600)
	r.Login("--password-file", pw)

	rates := map[string]float64{}
	seconds := map[string]time.Duration{}
	run := func(where, direction string) {
		dstDir := r.Local
		if direction == "receive" {
			dstDir = r.Remote
		}
		dst := filepath.Join(dstDir, "copy-"+where+"-"+direction)
		start := time.Now()
		st := r.runTimed(fmt.Sprintf("xferterm transfer --password-file %s --compress never --direction %s %s %s",
			shellQuote(pw), direction, shellQuote(src), shellQuote(dst)))
		elapsed := time.Since(start)
		if st != 0 {
			b.Fatalf("xferterm transfer --direction %s in %s exited %d", direction, where, st)
		}
		if fi, err := os.Stat(dst); err != nil || fi.Size() != piece {
			b.Fatalf("the copy %s is not complete: %v", dst, err)
		}
		_ = os.Remove(dst) // Best effort: only frees space.
		seconds[where+"-"+direction] += elapsed
	}
	b.SetBytes(muxBenchSize)
	for b.Loop() {
		for range muxBenchRounds {
			run("plain", "send")
			run("plain", "receive")
			m := r.StartRemoteMux("tmux", "")
			run("tmux", "send")
			run("tmux", "receive")
			m.Exit()
			m = r.StartRemoteMux("screen", "")
			run("screen", "send")
			m.Exit()
		}
	}
	b.StopTimer()
	for k, d := range seconds {
		rates[k] = mbps(muxBenchSize*int64(b.N), d)
		b.ReportMetric(rates[k], k+"-MB/s")
	}
	b.ReportMetric(rates["tmux-send"]/rates["plain-send"], "tmux/plain-send")
	b.ReportMetric(rates["screen-send"]/rates["plain-send"], "screen/plain-send")
	b.ReportMetric(rates["tmux-receive"]/rates["plain-receive"], "tmux/plain-receive")
	r.Logout(0)
}
