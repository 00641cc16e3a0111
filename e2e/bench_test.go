package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"

	"github.com/xferterm/xferterm/internal/ptytest"
)

// benchSize is the size of the files the end-to-end benchmarks move: 256 MiB, or
// XFERTERM_BENCH_BYTES.
func benchSize(b *testing.B) int64 { return int64(ptytest.BenchBytes(b)) }

// BenchmarkTransfer moves a random file and a text file (256 MiB each, or
// XFERTERM_BENCH_BYTES) through the real sshd on loopback with `xferterm transfer`, in both
// directions, granted by the kitty-1 bypass so that no prompt is in the way. Each iteration
// times one transfer and the ssh tty ceiling (below) back to back, in alternating order, so
// that both see the same machine. Reported, beside xferterm's MB/s (of file data):
//
//	xferterm/ssh     the median over the iterations of xferterm's MB/s × 4/3 ÷ ssh-MB/s: the
//	                 base64 of the file data that xferterm moved per second over the tty bytes
//	                 per second that ssh carries, so 1 is a pipe as full as ssh allows. The OSC
//	                 framing of the packets (under 1.5% more bytes) is not counted; with zlib the
//	                 bytes on the wire are fewer than 4/3 of the file, so the ratio can pass 1
//	                 where the data compresses (text). Each pair's figures are logged.
//	xferterm/ssh-min the least and the greatest of the per-iteration ratios: how far the
//	xferterm/ssh-max machine moved them in this run.
//	ssh-MB/s         the ssh tty ceiling: as many tty bytes as the file has, of base64 like the
//	                 transfers', as a raw byte stream through a second connection to the same
//	                 sshd with the same ssh_config and a pty requested with -tt, raw at both
//	                 ends: cat on the remote pty to a reader of ssh's pty master for send, a
//	                 writer into ssh's pty master to head -c on the remote pty for receive.
//	                 Timed from the remote pty being raw to the last byte (send) or to head's end
//	                 (receive): the connection is not counted.
//	term-cpu-s/GiB   CPU seconds (user+system) per GiB of file data of each process during the
//	client-cpu-s/GiB transfers: xferterm on the terminal side (the proxy), `xferterm transfer`
//	ssh-cpu-s/GiB    on the remote host, and the ssh client and the sshd session process that
//	sshd-cpu-s/GiB   carry the bytes. What xferterm spends is what competes with ssh and sshd
//	                 for the cores of a small machine.
//	scp-MB/s         scp of the same file over the same sshd (a new connection, as a person does)
//	pty-MB/s         the raw PTY rate: the same bytes through one pty in raw mode (child →
//	                 terminal for send, terminal → child for receive), once per case.
//
// Compression is the client's default (auto), so the figures show what a user gets: the text is
// sent with zlib, and so is the random file (its name says nothing about its content). The
// random-nozlib cases (--compress never) separate the cost of zlib from that of the pipe.
//
//	go test -run='^$' -bench=Transfer -benchtime=2x ./e2e
func BenchmarkTransfer(b *testing.B) {
	size := benchSize(b)
	r := newRig(b)
	files := filepath.Join(r.Base, "files")
	random := filepath.Join(files, "random.bin")
	text := filepath.Join(files, "text.txt")
	if err := os.MkdirAll(files, 0o755); err != nil {
		b.Fatal(err)
	}
	writeLargeFile(b, random, size, func(chunk uint64, n int) []byte { return randomBytes(1000+chunk, n) })
	writeLargeFile(b, text, size, func(chunk uint64, n int) []byte { return textBytes(2000+chunk, n) })
	wire := filepath.Join(files, "wire.b64") // the ssh baseline's bytes: base64, as on the wire
	writeWireFile(b, wire, random, size)

	localPW := filepath.Join(r.Base, "password")
	remotePW := filepath.Join(r.Base, "remote-password")
	writeFile(b, localPW, []byte("benchmark secret\n"), 0o600)
	writeFile(b, remotePW, []byte("benchmark secret\n"), 0o600)
	r.Login("--password-file", localPW)
	procs := r.carriers()

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
			b.SetBytes(size)
			var xferTime, sshTime time.Duration
			var ratios []float64
			var cpu carrierCPU
			i := 0
			for b.Loop() {
				i++
				dst := filepath.Join(tc.dstDir, fmt.Sprintf("copy-%d", i))
				var last carrierCPU // the CPU of the transfer just timed, for the log
				transfer := func() time.Duration {
					before := procs.read(b)
					start := time.Now()
					st, clientCPU := r.runTimedCPU(fmt.Sprintf("xferterm transfer --password-file %s --direction %s --compress %s %s %s",
						shellQuote(remotePW), tc.direction, tc.compress, shellQuote(tc.src), shellQuote(dst)))
					elapsed := time.Since(start)
					if st != 0 {
						b.Fatalf("xferterm transfer --direction %s exited %d", tc.direction, st)
					}
					used := procs.read(b).sub(before)
					used.client = clientCPU
					cpu.add(used)
					last = used
					return elapsed
				}
				ceiling := func() time.Duration { return sshTTYCeiling(b, r.SSH, wire, size, tc.toChild) }
				// b.Loop times the whole iteration; xferterm's rate is computed from its own time.
				var x, s time.Duration
				if i%2 == 1 {
					x, s = transfer(), ceiling()
				} else {
					s, x = ceiling(), transfer()
				}
				xferTime += x
				sshTime += s
				ratios = append(ratios, wireExpansion*s.Seconds()/x.Seconds())
				first := "ssh"
				if i%2 == 1 {
					first = "xferterm"
				}
				b.Logf("pair %d (%s first): xferterm %.2f s, ssh %.2f s, xferterm/ssh %.3f; CPU s of the transfer: term %.2f, client %.2f, ssh %.2f, sshd %.2f",
					i, first, x.Seconds(), s.Seconds(), ratios[len(ratios)-1],
					last.term.Seconds(), last.client.Seconds(), last.ssh.Seconds(), last.sshd.Seconds())
				if fi, err := os.Stat(dst); err != nil || fi.Size() != size {
					b.Fatalf("the copy %s is not complete: %v", dst, err)
				}
				_ = os.Remove(dst) // Best effort: only frees space.
			}
			b.StopTimer()
			moved := size * int64(b.N)
			b.ReportMetric(mbps(moved, xferTime), "MB/s")
			b.ReportMetric(mbps(moved, sshTime), "ssh-MB/s")
			b.ReportMetric(ptytest.Median(ratios), "xferterm/ssh")
			b.ReportMetric(slices.Min(ratios), "xferterm/ssh-min")
			b.ReportMetric(slices.Max(ratios), "xferterm/ssh-max")
			gib := float64(moved) / (1 << 30)
			b.ReportMetric(cpu.term.Seconds()/gib, "term-cpu-s/GiB")
			b.ReportMetric(cpu.client.Seconds()/gib, "client-cpu-s/GiB")
			b.ReportMetric(cpu.ssh.Seconds()/gib, "ssh-cpu-s/GiB")
			b.ReportMetric(cpu.sshd.Seconds()/gib, "sshd-cpu-s/GiB")

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
			b.ReportMetric(mbps(size, time.Since(start)), "scp-MB/s")
			_ = os.Remove(dst) // Best effort.
			b.ReportMetric(mbps(size, ptyCeiling(b, tc.src, size, tc.toChild)), "pty-MB/s")
		})
	}
	r.Logout(0)
}

// carriers are the long-lived processes of a logged-in rig that a transfer runs through:
// xferterm on the terminal side, its ssh client, and the sshd process of the session
// (the remote shell's parent). `xferterm transfer` itself is timed by the remote shell.
type carriers struct{ term, ssh, sshd int }

// carriers finds the processes of the rig's session (after Login).
func (r *rig) carriers() carriers {
	r.tb.Helper()
	shell, err := strconv.Atoi(strings.TrimSpace(r.TM.tmux("display-message", "-p", "-t", r.TM.target, "#{pane_pid}")))
	if err != nil {
		r.tb.Fatalf("e2e: the pane's shell: %v", err)
	}
	var c carriers
	c.term = childNamed(r.tb, shell, "xferterm")
	c.ssh = childNamed(r.tb, c.term, "ssh")
	if c.sshd, err = strconv.Atoi(r.Value("$PPID")); err != nil {
		r.tb.Fatalf("e2e: the remote shell's parent: %v", err)
	}
	return c
}

// childNamed returns the process id of the child of parent whose command name is name.
func childNamed(tb testing.TB, parent int, name string) int {
	tb.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		tb.Fatal(err)
	}
	for _, p := range stats {
		st, err := readStat(p)
		if err == nil && st.ppid == parent && st.comm == name {
			return st.pid
		}
	}
	tb.Fatalf("e2e: no process %q under %d", name, parent)
	return 0
}

// procStat is what readStat takes from /proc/PID/stat.
type procStat struct {
	pid, ppid int
	comm      string
	cpu       time.Duration // utime + stime
}

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

func readStat(path string) (procStat, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return procStat{}, err
	}
	// pid (comm) state ppid … utime stime: comm may hold spaces and parentheses.
	open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("%s: no command name", path)
	}
	f := strings.Fields(string(data[end+1:]))
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("%s: %d fields", path, len(f))
	}
	var st procStat
	st.comm = string(data[open+1 : end])
	st.pid, err = strconv.Atoi(strings.TrimSpace(string(data[:open])))
	if err != nil {
		return procStat{}, fmt.Errorf("%s: %w", path, err)
	}
	ints := make([]int, 0, 3)
	for _, k := range []int{1, 11, 12} { // ppid, utime, stime (fields 4, 14, 15)
		v, err := strconv.Atoi(f[k])
		if err != nil {
			return procStat{}, fmt.Errorf("%s: %w", path, err)
		}
		ints = append(ints, v)
	}
	st.ppid = ints[0]
	st.cpu = time.Duration(ints[1]+ints[2]) * clockTick
	return st, nil
}

// carrierCPU is CPU time of the carriers and of the client.
type carrierCPU struct{ term, ssh, sshd, client time.Duration }

// read returns the CPU time each carrier has used so far.
func (c carriers) read(tb testing.TB) carrierCPU {
	tb.Helper()
	var out carrierCPU
	for _, p := range []struct {
		pid int
		to  *time.Duration
	}{{c.term, &out.term}, {c.ssh, &out.ssh}, {c.sshd, &out.sshd}} {
		st, err := readStat(fmt.Sprintf("/proc/%d/stat", p.pid))
		if err != nil {
			tb.Fatalf("e2e: CPU time of process %d: %v", p.pid, err)
		}
		*p.to = st.cpu
	}
	return out
}

func (c carrierCPU) sub(o carrierCPU) carrierCPU {
	return carrierCPU{c.term - o.term, c.ssh - o.ssh, c.sshd - o.sshd, c.client - o.client}
}

func (c *carrierCPU) add(d carrierCPU) {
	c.term += d.term
	c.ssh += d.ssh
	c.sshd += d.sshd
	c.client += d.client
}

// runTimedCPU is runTimed, and returns the CPU time (user+system) that cmd's processes
// used, as the shell in front counts its children's (bash's times).
func (r *rig) runTimedCPU(cmd string) (int, time.Duration) {
	r.tb.Helper()
	r.seq++
	times := filepath.Join(r.Base, fmt.Sprintf("times-%d", r.seq))
	st := r.runTimed(fmt.Sprintf("times > %s.0; %s; st=$?; times > %s.1; (exit $st)", times, cmd, times))
	return st, childTimes(r.tb, times+".1") - childTimes(r.tb, times+".0")
}

// childTimes reads the output of bash's times and returns the children's user+system time
// (its second line: "0m1.234s 0m0.567s").
func childTimes(tb testing.TB, path string) time.Duration {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("e2e: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 {
		tb.Fatalf("e2e: times printed %q", data)
	}
	var sum time.Duration
	for _, f := range strings.Fields(lines[1]) {
		d, err := time.ParseDuration(f)
		if err != nil {
			tb.Fatalf("e2e: times printed %q: %v", data, err)
		}
		sum += d
	}
	return sum
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
