package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xferterm/xferterm/internal/passthrough"
)

// TestTmuxRedrawLoss: tmux drops what it passes through while a redraw of its client is
// pending, and it puts the redraw off while output for the terminal is still queued. The test
// makes that happen on purpose: it stops the remote sshd (nothing reads tmux's output any
// more), waits until tmux has taken 1 MiB more from the client, makes tmux redraw, waits until
// the client has written 1 MiB more (which tmux drops), and lets sshd go on. The copy misses
// data: the terminal must refuse it (the client announced the size) with a status that says
// so, the destination keeps its old content and no temporary file is left; the client exits 1,
// tmux's setting is back and the shell in the pane works.
func TestTmuxRedrawLoss(t *testing.T) {
	var dst string
	s := startStalledSend(t, 21, func(r *rig) {
		dst = filepath.Join(r.Local, "big-copy.bin")
		writeFile(t, dst, []byte("the old content\n"), 0o644)
	})
	r, m := s.r, s.m
	// The pty between tmux and sshd holds far less than 1 MiB: the rest waits in tmux.
	start := bytesWritten(t, s.client)
	waitFor(t, "tmux to take 1 MiB more from the client", func() bool { return bytesWritten(t, s.client) > start+1<<20 })
	clients := strings.Fields(m.tmux("list-clients", "-F", "#{client_name}"))
	if len(clients) != 1 {
		t.Fatalf("remote tmux has clients %q, want one", clients)
	}
	m.tmux("refresh-client", "-t", clients[0])
	start = bytesWritten(t, s.client)
	waitFor(t, "the client to write 1 MiB more while the redraw waits", func() bool { return bytesWritten(t, s.client) > start+1<<20 })
	s.resume()

	if st := r.Wait(s.mark, transferWait); st != 1 {
		t.Errorf("a send that lost data exited %d, want 1", st)
	}
	if h := r.TM.Screen(); !strings.Contains(h, "data was lost on the way") {
		t.Errorf("the client does not say that data was lost:\n%s", indent(h))
	}
	if got, err := os.ReadFile(dst); err != nil || string(got) != "the old content\n" {
		t.Errorf("the destination was replaced (%d bytes, %v)", len(got), err)
	}
	waitDir(t, r.Local, "no temporary file", func(names []string) bool {
		return !slices.ContainsFunc(names, func(n string) bool { return strings.Contains(n, ".xferterm-") })
	})
	m.checkOption("", "a send that lost data")
	m.checkUsable(s.stty)
}

// TestTmuxSendPaced: tmux takes everything its pane writes at once and holds what the
// terminal has not read, so a send through a slow link would pile the file up in tmux's
// memory. The client keeps at most passthrough.TmuxSendWindow of data unacknowledged: with the
// remote sshd stopped (nothing reads tmux's output), it stops writing after about that much,
// not after the whole file; once sshd goes on the copy arrives whole.
func TestTmuxSendPaced(t *testing.T) {
	s := startStalledSend(t, 22, nil)
	start := bytesWritten(t, s.client)
	written := start
	waitFor(t, "the client to stop writing data", func() bool {
		before := written
		time.Sleep(500 * time.Millisecond) // The sample interval of "stopped writing".
		written = bytesWritten(t, s.client)
		return written-before < 16<<10 // What it still writes is its progress line.
	})
	// Base64 makes 4 bytes of 3; the window is file data. A write and a read of slack.
	if most := int64(passthrough.TmuxSendWindow)*4/3 + 1<<20; written-start > most {
		t.Errorf("with nothing reading tmux's output the client wrote %d bytes, want at most %d", written-start, most)
	}
	t.Logf("the client stopped after %d bytes; remote tmux: %s", written-start, rss(t, processWith(t, "tmux: server", s.m.socket)))
	s.resume()
	if st := s.r.Wait(s.mark, transferWait); st != 0 {
		t.Fatalf("send exited %d", st)
	}
	checkSameFile(t, s.src, filepath.Join(s.r.Local, "big-copy.bin"))
}

// stalledSend is a send of big.bin to big-copy.bin from inside a remote tmux whose remote sshd
// is stopped: nothing reads tmux's output.
type stalledSend struct {
	r      *rig
	m      *remoteMux
	stty   string // the pane's terminal modes before the send
	mark   int
	src    string
	client int   // xferterm transfer
	sshd   []int // the session's sshd processes, stopped until resume
	once   sync.Once
}

// startStalledSend starts a send of 48 MiB of random data (seed) from inside a remote tmux with
// its default settings, and once the copy is being written stops the remote sshd. before, if
// set, runs before the login. The test must resume; the cleanup does if it failed first.
func startStalledSend(t *testing.T, seed uint64, before func(r *rig)) *stalledSend {
	t.Helper()
	s := &stalledSend{r: newRig(t)}
	r := s.r
	s.src = filepath.Join(r.Remote, "big.bin")
	writeFile(t, s.src, randomBytes(seed, 48<<20), 0o644)
	if before != nil {
		before(r)
	}
	r.Login()
	s.m = r.StartRemoteMux("tmux", "")
	s.stty = r.SttyState()
	s.mark = r.Transfer("--compress", "never", "big.bin", "big-copy.bin")
	r.Answer(s.mark, promptSend, "y")
	waitDir(t, r.Local, "the copy being written", func(names []string) bool {
		return slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, ".big-copy.bin.xferterm-") })
	})
	s.client = processWith(t, "xferterm", "big-copy.bin")
	s.sshd = descendants(t, r.SSH.cmd.Process.Pid, "sshd")
	signalAll(t, s.sshd, syscall.SIGSTOP)
	t.Cleanup(s.resume)
	return s
}

// resume lets the stopped sshd go on; only the first call does anything.
func (s *stalledSend) resume() {
	s.once.Do(func() { signalAll(s.r.tb, s.sshd, syscall.SIGCONT) })
}

// rss is the resident size of process pid (VmRSS).
func rss(tb testing.TB, pid int) string {
	tb.Helper()
	return "VmRSS " + procField(tb, pid, "status", "VmRSS:")
}

// procField is the value of the line of /proc/pid/file that starts with key.
func procField(tb testing.TB, pid int, file, key string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), file))
	if err != nil {
		tb.Fatal(err)
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key); ok {
			return strings.TrimSpace(v)
		}
	}
	tb.Fatalf("e2e: no %s in /proc/%d/%s", key, pid, file)
	return ""
}

// processWith returns the pid of the one process named comm whose command line contains arg.
func processWith(tb testing.TB, comm, arg string) int {
	tb.Helper()
	var found []int
	for _, p := range processes(tb) {
		if p.comm == comm && strings.Contains(p.cmdline, arg) {
			found = append(found, p.pid)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("e2e: %d processes %s with %q, want one", len(found), comm, arg)
	}
	return found[0]
}

// descendants returns the processes below pid whose name starts with comm.
func descendants(tb testing.TB, pid int, comm string) []int {
	tb.Helper()
	ps := processes(tb)
	below := map[int]bool{pid: true}
	for changed := true; changed; {
		changed = false
		for _, p := range ps {
			if below[p.ppid] && !below[p.pid] {
				below[p.pid], changed = true, true
			}
		}
	}
	var out []int
	for _, p := range ps {
		if p.pid != pid && below[p.pid] && strings.HasPrefix(p.comm, comm) {
			out = append(out, p.pid)
		}
	}
	if len(out) == 0 {
		tb.Fatalf("e2e: no %s process below %d", comm, pid)
	}
	return out
}

type process struct {
	pid, ppid     int
	comm, cmdline string
}

// processes lists the processes of /proc (those that vanish meanwhile are left out).
func processes(tb testing.TB) []process {
	tb.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		tb.Fatal(err)
	}
	var out []process
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err1 := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		cl, err2 := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err1 != nil || err2 != nil {
			continue
		}
		s := string(stat)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		fields := strings.Fields(s[close+1:])
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		out = append(out, process{pid: pid, ppid: ppid, comm: s[open+1 : close], cmdline: strings.ReplaceAll(string(cl), "\x00", " ")})
	}
	return out
}

func signalAll(tb testing.TB, pids []int, sig syscall.Signal) {
	tb.Helper()
	for _, pid := range pids {
		if err := syscall.Kill(pid, sig); err != nil {
			tb.Errorf("e2e: kill %d: %v", pid, err)
		}
	}
}

// bytesWritten is what process pid has written so far (wchar of /proc/pid/io).
func bytesWritten(tb testing.TB, pid int) int64 {
	tb.Helper()
	n, err := strconv.ParseInt(procField(tb, pid, "io", "wchar:"), 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// waitFor polls cond until it holds, and fails the test after shortWait.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(shortWait)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("e2e: waited %v for %s", shortWait, what)
		}
		time.Sleep(pollInterval)
	}
}
