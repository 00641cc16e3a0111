package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/term"

	"github.com/xferterm/xferterm/bypass"
	"github.com/xferterm/xferterm/internal/ptytest"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
)

// maxRSS is what xferterm may hold at its peak, whatever the remote sends (issue 16,
// findings 3 and 4).
const maxRSS = 64 << 20

// hostileStreams are the streams of TestHostileStreamMemory, each written by the child
// in one go: what each holds on main is in its comment.
var hostileStreams = map[string]func(w *bufio.Writer, r *memReplies){
	// Two receive sessions of 600 specs with 180 KiB names (on main: 290 MiB, before
	// any question; the review's 1 500 took 703 MiB).
	"spec names": func(w *bufio.Writer, _ *memReplies) {
		name := base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte("n"), 180<<10))
		for _, id := range []string{"r1", "r2"} {
			w.WriteString("\x1b]5113;ac=receive;id=" + id + ";sz=600\x1b\\")
			for i := range 600 {
				w.WriteString("\x1b]5113;ac=file;id=" + id + ";fid=" + strconv.Itoa(i) + ";n=" + name + "\x1b\\")
			}
		}
	},
	// A send session with the password and 524 288 entries that fail (under a regular
	// file), each with a 100-byte path (on main: 180 MiB, and a line each in the audit
	// log; the review's 700-byte paths took 420 MiB).
	"failed entries": func(w *bufio.Writer, _ *memReplies) {
		c := scanner.Command{Action: scanner.ActionSend, ID: "u1", Bypass: bypass.EncodeSHA256("u1", os.Getenv("PW"))}
		w.Write(c.AppendOSC(nil))
		name := base64.RawStdEncoding.EncodeToString([]byte("~/plain.txt/" + strings.Repeat("x", 88)))
		for i := range 1 << 19 {
			w.WriteString("\x1b]5113;ac=file;id=u1;fid=" + strconv.Itoa(i) + ";n=" + name + "\x1b\\")
		}
	},
	// A receive session with the password, approved, then 25 requests of the file it
	// listed, each with an rsync signature of 8 MiB, while the child does not read what
	// the first one sends (on main: all held, and decoded, over 700 MiB).
	"queued signatures": func(w *bufio.Writer, r *memReplies) {
		c := scanner.Command{Action: scanner.ActionReceive, ID: "d1", Size: scanner.Some(1), Bypass: bypass.EncodeSHA256("d1", os.Getenv("PW"))}
		spec := scanner.Command{Action: scanner.ActionFile, ID: "d1", FileID: "0", Name: "big.bin"}
		w.Write(c.AppendOSC(nil))
		w.Write(spec.AppendOSC(nil))
		w.Flush()
		r.wait("d1") // the end of the listing
		r.hold()
		defer r.release()
		path := base64.RawStdEncoding.EncodeToString([]byte(filepath.Join(os.Getenv("HOME"), "big.bin")))
		header := binary.LittleEndian.AppendUint32(make([]byte, 8), 64)
		const pieceSize = 180 << 10 // the most a sequence carries, base64-encoded, is 256 KiB
		piece := base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{1, 2, 3, 4, 5}, pieceSize/5))
		for i := range 25 {
			fid := strconv.Itoa(i + 1)
			w.WriteString("\x1b]5113;ac=file;id=d1;fid=" + fid + ";n=" + path + ";tt=rsync\x1b\\")
			w.WriteString("\x1b]5113;ac=data;id=d1;fid=" + fid + ";d=" + base64.RawStdEncoding.EncodeToString(header) + "\x1b\\")
			for range 8 << 20 / pieceSize {
				w.WriteString("\x1b]5113;ac=data;id=d1;fid=" + fid + ";d=" + piece + "\x1b\\")
			}
			w.WriteString("\x1b]5113;ac=end_data;id=d1;fid=" + fid + "\x1b\\")
		}
		w.Flush()
	},
	// Ten send sessions with the password, each with 16 compressed files begun at once
	// (a decompressor and a temporary file each).
	"open files": func(w *bufio.Writer, _ *memReplies) {
		start := base64.RawStdEncoding.EncodeToString([]byte{0x78, 0x9c, 0x62}) // a zlib stream, begun
		for s := range 10 {
			id := "o" + strconv.Itoa(s)
			c := scanner.Command{Action: scanner.ActionSend, ID: id, Bypass: bypass.EncodeSHA256(id, os.Getenv("PW"))}
			w.Write(c.AppendOSC(nil))
			for i := range 16 {
				name := base64.RawStdEncoding.EncodeToString([]byte("f" + strconv.Itoa(s) + "-" + strconv.Itoa(i)))
				w.WriteString("\x1b]5113;ac=file;id=" + id + ";fid=" + strconv.Itoa(i) + ";zip=zlib;n=" + name + "\x1b\\")
				w.WriteString("\x1b]5113;ac=data;id=" + id + ";fid=" + strconv.Itoa(i) + ";d=" + start + "\x1b\\")
			}
		}
		for s := range 10 { // make room for "mark": 10 send sessions at most
			w.WriteString("\x1b]5113;ac=cancel;id=o" + strconv.Itoa(s) + "\x1b\\")
		}
	},
	// Ten receive sessions with the password, each asking for the 4 MiB file it listed
	// compressed, against a signature with 1 MiB blocks and no entry: a differ of 8 MiB
	// and a compressor each, all at work at once (on main; now those the budget cannot
	// hold send a literal delta, or fail).
	"differ windows": func(w *bufio.Writer, r *memReplies) {
		var ids []string
		for s := range 10 {
			id := "w" + strconv.Itoa(s)
			ids = append(ids, id)
			c := scanner.Command{Action: scanner.ActionReceive, ID: id, Size: scanner.Some(1), Bypass: bypass.EncodeSHA256(id, os.Getenv("PW"))}
			spec := scanner.Command{Action: scanner.ActionFile, ID: id, FileID: "0", Name: "big.bin"}
			w.Write(c.AppendOSC(nil))
			w.Write(spec.AppendOSC(nil))
		}
		w.Flush()
		for _, id := range ids {
			r.wait(id)
		}
		path := base64.RawStdEncoding.EncodeToString([]byte(filepath.Join(os.Getenv("HOME"), "big.bin")))
		sig := base64.RawStdEncoding.EncodeToString(binary.LittleEndian.AppendUint32(make([]byte, 8), 1<<20))
		for _, id := range ids {
			w.WriteString("\x1b]5113;ac=file;id=" + id + ";fid=1;n=" + path + ";tt=rsync;zip=zlib\x1b\\")
			w.WriteString("\x1b]5113;ac=end_data;id=" + id + ";fid=1;d=" + sig + "\x1b\\")
		}
		w.Flush()
		for _, id := range ids { // all at work, or failed for want of memory
			r.wait("served " + id)
		}
	},
}

// memReplies are the replies the child of TestHostileStreamMemory waits for: the end of
// a listing, or the refusal of the last session. The rest is read and dropped, except
// while pause is held: then nothing is read.
type memReplies struct {
	c    chan string
	seen map[string]bool // what wait has taken from c; its goroutine's only
	quit chan struct{}   // closed when the key q arrives

	mu     sync.Mutex // guards paused
	paused bool
	resume *sync.Cond // signalled when paused turns false
}

// hold stops the reading until release.
func (r *memReplies) hold() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.paused = true
}

func (r *memReplies) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.paused = false
	r.resume.Broadcast()
}

// read sorts what arrives: the end of a listing or the answer to "mark" as the session
// id; the first data packet of a session, or its CANCELED when it fails, as
// "served <id>".
func (r *memReplies) read() {
	served := map[string]bool{}
	sc := scanner.New(quitKey{r.quit, new(sync.Once)}, func(p []byte, err error) {
		if err != nil {
			return
		}
		c, err := scanner.Parse(p)
		switch {
		case err != nil:
		case c.Action == scanner.ActionStatus && c.FileID == "" && (c.Name != "" || c.ID == "mark"):
			r.c <- c.ID
		case (c.Action == scanner.ActionData || c.Status == scanner.StatusCanceled) && !served[c.ID]:
			served[c.ID] = true
			r.c <- "served " + c.ID
		}
	}, 0)
	buf := make([]byte, 64<<10)
	for {
		r.mu.Lock()
		for r.paused {
			r.resume.Wait()
		}
		r.mu.Unlock()
		n, err := os.Stdin.Read(buf)
		if _, werr := sc.Write(buf[:n]); err != nil || werr != nil {
			return
		}
	}
}

// wait waits for the reply of session id (which may have come already).
func (r *memReplies) wait(id string) {
	for !r.seen[id] {
		select {
		case got := <-r.c:
			r.seen[got] = true
		case <-time.After(ptytest.WaitTimeout):
			fmt.Printf("no reply for %s\r\n", id)
			os.Exit(104)
		}
	}
}

// hostileMemory is the child of TestHostileStreamMemory: it writes the stream
// MEM_STREAM names while it drains its input, then starts one more session ("mark",
// refused by the policy); once that is answered, xferterm has handled everything
// before it: it says HANDLED and exits at the key q.
func hostileMemory() int {
	if _, err := term.MakeRaw(0); err != nil {
		return 101
	}
	r := &memReplies{c: make(chan string, 16), seen: map[string]bool{}, quit: make(chan struct{})}
	r.resume = sync.NewCond(&r.mu)
	go r.read()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	hostileStreams[os.Getenv("MEM_STREAM")](w, r)
	mark := scanner.Command{Action: scanner.ActionSend, ID: "mark"}
	w.Write(mark.AppendOSC(nil))
	if err := w.Flush(); err != nil {
		return 102
	}
	r.wait("mark")
	fmt.Print("HANDLED\r\n")
	select {
	case <-r.quit:
		return 0
	case <-time.After(ptytest.WaitTimeout):
		return 105
	}
}

// quitKey closes quit at the first q it is written.
type quitKey struct {
	quit chan struct{}
	once *sync.Once
}

func (k quitKey) Write(p []byte) (int, error) {
	if bytes.IndexByte(p, 'q') >= 0 {
		k.once.Do(func() { close(k.quit) })
	}
	return len(p), nil
}

// vmHWM returns the peak resident set of the live process pid (VmHWM: the high-water
// mark of its address space, which exec started afresh; the rusage of a child also
// counts what it was before exec, a copy of the test binary).
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in %s", b)
	return 0
}

// TestHostileStreamMemory (findings 3 and 4): whatever a hostile remote sends, the
// real binary's peak resident set stays within maxRSS, and the audit log gets a few
// lines for half a million failures.
func TestHostileStreamMemory(t *testing.T) {
	for _, name := range []string{"spec names", "failed entries", "queued signatures", "open files", "differ windows"} {
		t.Run(name, func(t *testing.T) {
			home := t.TempDir()
			for name, data := range map[string][]byte{"plain.txt": []byte("plain"), "big.bin": testdata.RandomBytes(1, 4<<20)} {
				if err := os.WriteFile(filepath.Join(home, name), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			audit := filepath.Join(t.TempDir(), "audit.jsonl")
			flags, env := withPassword(t)
			r := startWith(t, append(flags, "--policy", "deny", "--audit-log", audit), "hostile-memory", nil,
				env, "MEM_STREAM="+name, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
				"XDG_STATE_HOME="+filepath.Join(home, ".local", "state"))
			measured := false
			check := func() {
				measured = true
				peak := vmHWM(t, r.cmd.Process.Pid)
				t.Logf("peak RSS %.1f MiB", float64(peak)/(1<<20))
				if peak > maxRSS {
					t.Errorf("peak RSS %d MiB, want at most %d MiB", peak>>20, maxRSS>>20)
				}
			}
			// Also when xferterm is too slow to handle the stream (on main, the guard's
			// patterns took minutes over 180 KiB names): before it is killed.
			t.Cleanup(func() {
				if !measured {
					check()
				}
			})
			r.Out.WaitForString(t, "HANDLED")
			check()
			r.Type(t, "q")
			if code := r.wait(); code != 0 {
				t.Errorf("exit status %d; stderr %q; output %q", code, r.stderr.String(), r.Out.Tail(300))
			}
			if b, err := os.ReadFile(audit); err != nil || bytes.Count(b, []byte("\n")) > 1000 {
				t.Errorf("audit log: %d lines, %d bytes (%v)", bytes.Count(b, []byte("\n")), len(b), err)
			}
		})
	}
}
