package e2e

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"
)

// benchSize is the size of the files the end-to-end benchmarks move.
const benchSize = 256 << 20

// BenchmarkTransfer moves a 256 MiB random file and a 256 MiB text file through the real sshd on
// loopback with `xferterm transfer`, in both directions, granted by the kitty-1 bypass so that no
// prompt is in the way. Beside xferterm's MB/s (of file data) it reports, measured in the same
// run on the same files:
//
//	scp-MB/s      scp of the same file over the same sshd (a new connection each time, as a person
//	              does)
//	pty-MB/s      the raw PTY ceiling: the same bytes through one pty in raw mode (child → terminal
//	              for send, terminal → child for receive); xferterm's base64 costs 4/3 of that per
//	              byte.
//	ssh-MB/s      the ssh tty ceiling: as many tty bytes as pty-MB/s moves (256 MiB), of base64 like
//	              the transfers', as a raw byte stream through a second connection to the same sshd
//	              with the same ssh_config and a pty requested with -tt, raw at both ends: cat on the
//	              remote pty to a reader of ssh's pty master for send, a writer into ssh's pty master
//	              to head -c on the remote pty for receive. Timed from the remote pty being raw to the
//	              last byte (send) or to head's end (receive): the connection is not counted.
//	xferterm/ssh  xferterm's MB/s × 4/3 ÷ ssh-MB/s: the base64 of the file data that xferterm moved
//	              per second over the tty bytes per second that ssh carries, so 1 is a pipe as full
//	              as ssh allows. The OSC framing of the packets (under 1.5% more bytes) is not
//	              counted; with zlib the bytes on the wire are fewer than 4/3 of the file, so the
//	              ratio can pass 1 where the data compresses (text).
//
// Compression is the client's default (auto), so the figures show what a user gets: the text is
// sent with zlib, and so is the random file (its name says nothing about its content). The
// random-nozlib cases (--compress never) separate the cost of zlib from that of the pipe.
//
//	go test -run='^$' -bench=Transfer -benchtime=2x ./e2e
func BenchmarkTransfer(b *testing.B) {
	r := newRig(b)
	files := filepath.Join(r.Base, "files")
	random := filepath.Join(files, "random.bin")
	text := filepath.Join(files, "text.txt")
	if err := os.MkdirAll(files, 0o755); err != nil {
		b.Fatal(err)
	}
	writeLargeFile(b, random, benchSize, func(chunk uint64, n int) []byte { return randomBytes(1000+chunk, n) })
	writeLargeFile(b, text, benchSize, func(chunk uint64, n int) []byte { return textBytes(2000+chunk, n) })
	wire := filepath.Join(files, "wire.b64") // the ssh baseline's bytes: base64, as on the wire
	writeWireFile(b, wire, random, benchSize)

	localPW := filepath.Join(r.Base, "password")
	remotePW := filepath.Join(r.Base, "remote-password")
	writeFile(b, localPW, []byte("benchmark secret\n"), 0o600)
	writeFile(b, remotePW, []byte("benchmark secret\n"), 0o600)
	r.Login("--password-file", localPW)

	for _, tc := range []struct {
		direction string
		name      string
		src       string
		compress  string // --compress
		dstDir    string // where the copies land
		toChild   bool   // the pty direction that carries the data
	}{
		{"send", "random", random, "auto", r.Local, false},
		{"send", "random-nozlib", random, "never", r.Local, false},
		{"send", "text", text, "auto", r.Local, false},
		{"receive", "random", random, "auto", r.Remote, true},
		{"receive", "random-nozlib", random, "never", r.Remote, true},
		{"receive", "text", text, "auto", r.Remote, true},
	} {
		b.Run(tc.direction+"/"+tc.name, func(b *testing.B) {
			b.SetBytes(benchSize)
			i := 0
			for b.Loop() {
				i++
				dst := filepath.Join(tc.dstDir, fmt.Sprintf("copy-%d", i))
				st := r.runTimed(fmt.Sprintf("xferterm transfer --password-file %s --direction %s --compress %s %s %s",
					shellQuote(remotePW), tc.direction, tc.compress, shellQuote(tc.src), shellQuote(dst)))
				b.StopTimer()
				if st != 0 {
					b.Fatalf("xferterm transfer --direction %s exited %d", tc.direction, st)
				}
				if fi, err := os.Stat(dst); err != nil || fi.Size() != benchSize {
					b.Fatalf("the copy %s is not complete: %v", dst, err)
				}
				_ = os.Remove(dst) // Best effort: only frees space.
				b.StartTimer()
			}
			b.StopTimer()
			xferterm := mbps(benchSize*int64(b.N), b.Elapsed()) // the MB/s the benchmark reports

			// scp in the same direction: send = from the remote host to here.
			dst := filepath.Join(tc.dstDir, "scp-copy")
			args := []string{"-q", "-F", r.SSH.ClientConf, r.SSH.HostAlias + ":" + tc.src, dst}
			if tc.direction == "receive" {
				args = []string{"-q", "-F", r.SSH.ClientConf, tc.src, r.SSH.HostAlias + ":" + dst}
			}
			start := time.Now()
			if out, err := exec.Command(suite.tools["scp"], args...).CombinedOutput(); err != nil {
				b.Fatalf("scp: %v\n%s", err, out)
			}
			b.ReportMetric(mbps(benchSize, time.Since(start)), "scp-MB/s")
			_ = os.Remove(dst) // Best effort.
			b.ReportMetric(mbps(benchSize, ptyCeiling(b, tc.src, benchSize, tc.toChild)), "pty-MB/s")
			ssh := mbps(benchSize, sshTTYCeiling(b, r.SSH, wire, benchSize, tc.toChild))
			b.ReportMetric(ssh, "ssh-MB/s")
			b.ReportMetric(xferterm*wireExpansion/ssh, "xferterm/ssh")
		})
	}
	r.Logout(0)
}

// runTimed runs cmd in the shell in front and waits for its exit status, written to a file that
// is polled with a short interval: cheaper and finer than reading the pane.
func (r *rig) runTimed(cmd string) int {
	r.tb.Helper()
	r.seq++
	status := filepath.Join(r.Base, fmt.Sprintf("status-%d", r.seq))
	r.TM.Line(fmt.Sprintf(`%s; echo $? > %s.tmp && mv %s.tmp %s`, cmd, status, status, status))
	deadline := time.Now().Add(10 * time.Minute)
	for {
		if data, err := os.ReadFile(status); err == nil {
			st, err := strconv.Atoi(strings.TrimSpace(string(data)))
			if err != nil {
				r.tb.Fatalf("e2e: status file %s: %v", status, err)
			}
			return st
		}
		if time.Now().After(deadline) {
			r.tb.Fatalf("e2e: %q did not finish within 10 minutes; the pane shows:\n%s", cmd, indent(r.TM.Screen()))
		}
		time.Sleep(2 * time.Millisecond) // Polling interval; a transfer takes seconds.
	}
}

func mbps(n int64, d time.Duration) float64 {
	return float64(n) / d.Seconds() / 1e6
}

// ptyCeiling measures how long size bytes of path take through one pty in raw mode: written by a
// child (cat) and read by us, or written by us and read by a child (head -c).
func ptyCeiling(tb testing.TB, path string, size int64, toChild bool) time.Duration {
	tb.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = ptmx.Close() }() // Best effort.
	if _, err := term.MakeRaw(int(tty.Fd())); err != nil {
		tb.Fatal(err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = null.Close() }() // Best effort.

	var cmd *exec.Cmd
	if toChild {
		cmd = exec.Command("head", "-c", strconv.FormatInt(size, 10))
		cmd.Stdin, cmd.Stdout = tty, null
	} else {
		cmd = exec.Command("cat", path)
		cmd.Stdin, cmd.Stdout = null, tty
	}
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	_ = tty.Close() // The child holds its own copy; ours would keep the master from seeing EOF.
	if toChild {
		f, err := os.Open(path)
		if err != nil {
			tb.Fatal(err)
		}
		defer func() { _ = f.Close() }() // Read only.
		copied := make(chan error, 1)
		go func() {
			_, err := io.Copy(ptmx, io.LimitReader(f, size))
			copied <- err
		}()
		if err := cmd.Wait(); err != nil {
			tb.Fatalf("head: %v", err)
		}
		elapsed := time.Since(start)
		if err := <-copied; err != nil {
			tb.Fatalf("writing the pty: %v", err)
		}
		return elapsed
	}
	n, err := io.Copy(io.Discard, ptmx)
	if err != nil && !errors.Is(err, syscall.EIO) { // EIO: the child closed its side.
		tb.Fatalf("reading the pty: %v", err)
	}
	elapsed := time.Since(start)
	if err := cmd.Wait(); err != nil {
		tb.Fatalf("cat: %v", err)
	}
	if n != size {
		tb.Fatalf("read %d bytes from the pty, want %d", n, size)
	}
	return elapsed
}
