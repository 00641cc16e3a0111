package client_test

import (
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/xferterm/xferterm/client"
	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// link wires the client to a real fs.Engine the way the proxy does: the client's
// output goes through a scanner into HandlePayload, and a writer goroutine copies what
// Pull returns into the client's input.
type link struct {
	t        *testing.T
	engine   *fs.Engine
	toClient *io.PipeWriter

	c2t, t2c atomic.Int64 // bytes each way

	// onPayload, if set, is called (in the pump goroutine) after each payload is handled.
	onPayload func(l *link, cmd scanner.Command)
	// drop, if set, is asked (in the pump goroutine) about each payload before the engine
	// gets it: true loses it on the way, as a multiplexer does while it redraws.
	drop func(cmd scanner.Command) bool
	// onText, if set, is called (in the pump goroutine) with all the text the client
	// wrote outside OSC 5113 so far, after each piece of it.
	onText func(l *link, text []byte)
	text   []byte // owned by the pump goroutine
}

// linkText passes the client's text output to link.onText.
type linkText struct{ l *link }

func (w linkText) Write(p []byte) (int, error) {
	if w.l.onText != nil {
		w.l.text = append(w.l.text, p...)
		w.l.onText(w.l, w.l.text)
	}
	return len(p), nil
}

// inject writes raw bytes (a key press) to the client, from a goroutine of its own so
// the caller never blocks.
func (l *link) inject(b string) {
	go func() { _, _ = l.toClient.Write([]byte(b)) }() // Fails only after the test ends.
}

type counter struct {
	w io.Writer
	n *atomic.Int64
}

func (c counter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return c.w.Write(p)
}

// runEngine runs the client against an engine serving home.
func runEngine(t *testing.T, home string, approver transfer.Approver, opts client.Options, setup func(l *link)) (*link, error) {
	t.Helper()
	e, err := fs.NewEngine(fs.Config{Home: home, Approver: approver})
	if err != nil {
		t.Fatal(err)
	}
	cr, tw := io.Pipe() // engine → client
	tr, cw := io.Pipe() // client → engine
	l := &link{t: t, engine: e, toClient: tw}
	if setup != nil {
		setup(l)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	pumpDone := make(chan struct{})
	wg.Add(1)
	go func() { // the output pump
		defer close(pumpDone)
		sc := scanner.New(linkText{l}, func(p []byte, err error) {
			if err != nil {
				t.Errorf("client wrote a broken sequence: %v", err)
				return
			}
			// What the client writes passes its own strict parser: table keys only,
			// unpadded base64; and no data packet carries more than 4096 bytes.
			cmd, perr := client.ParseStrict(p)
			if perr != nil {
				t.Errorf("client wrote %q: %v", p, perr)
			} else if len(cmd.Data) > 4096 {
				t.Errorf("client wrote a %s packet of %d bytes", cmd.Action, len(cmd.Data))
			}
			if perr == nil && l.drop != nil && l.drop(cmd) {
				return
			}
			_ = e.HandlePayload(p) // Errors are commands kitty would drop too.
			if perr == nil && l.onPayload != nil {
				l.onPayload(l, cmd)
			}
		}, 0)
		_, _ = io.Copy(counter{sc, &l.c2t}, tr) // Ends when the test closes the pipe.
	}()
	go func() {
		defer wg.Done()
		ptyWriter(e, counter{tw, &l.t2c}, stop)
	}()
	if opts.CancelWait == 0 {
		opts.CancelWait = 2 * time.Second
	}
	res := make(chan error, 1)
	go func() { res <- client.Run(t.Context(), pipeTTY{cr, cw}, opts) }()
	select {
	case err = <-res:
	case <-time.After(watchdog):
		t.Fatalf("client.Run did not return within %s", watchdog)
	}
	// The engine handles what the client wrote last (finish) before it closes, unless
	// it is stuck in an Approve that only Close ends.
	_ = cw.Close()
	select {
	case <-pumpDone:
	case <-time.After(2 * time.Second):
	}
	close(stop)
	_ = e.Close() // Also ends an Approve in progress.
	<-pumpDone
	_ = tw.Close()
	_ = tr.Close()
	_ = cr.Close()
	_ = cw.Close()
	wg.Wait()
	return l, err
}

var allow = transfer.Fixed{Allow: true, ReadOld: true, SetMode: true}

// sides returns a remote directory (this host) and the terminal's home.
func sides(t *testing.T) (string, string) {
	return t.TempDir(), t.TempDir()
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noTemps fails if dir holds any xferterm temporary file.
func noTemps(t *testing.T, dirs ...string) {
	t.Helper()
	for _, dir := range dirs {
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && strings.Contains(d.Name(), ".xferterm") {
				t.Errorf("temporary file left behind: %s", p)
			}
			return nil
		})
	}
}

func sameMeta(t *testing.T, a, b string) {
	t.Helper()
	fa, err := os.Lstat(a)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := os.Lstat(b)
	if err != nil {
		t.Fatal(err)
	}
	if fa.Mode() != fb.Mode() {
		t.Errorf("%s mode %v, %s mode %v", a, fa.Mode(), b, fb.Mode())
	}
	if !fa.ModTime().Equal(fb.ModTime()) {
		t.Errorf("%s mtime %v, %s mtime %v", a, fa.ModTime(), b, fb.ModTime())
	}
}

func textData(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString("line ")
		b.WriteString(strings.Repeat("x", i%50))
		b.WriteString("\n")
	}
	return b.String()[:n]
}

func randomData(seed uint64, n int) string {
	var key [32]byte
	key[0] = byte(seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b) // Never fails.
	return string(b)
}

// oneFileCase is a file that one transfer carries, in either direction.
type oneFileCase struct {
	name    string
	content string
	mode    os.FileMode
}

// oneFileCases are the files TestEngineSend and TestEngineReceive carry; the random one
// is n bytes from seed.
func oneFileCases(seed uint64, n int) []oneFileCase {
	return []oneFileCase{
		{"a small file", hello, 0o640},
		{"an empty file", "", 0o600},
		{"a compressible file goes through zlib", textData(300 << 10), 0o644},
		{"a random file over several packets", randomData(seed, n), 0o755},
	}
}

func TestEngineSend(t *testing.T) {
	for _, tt := range oneFileCases(1, 1<<20+123) {
		t.Run(tt.name, func(t *testing.T) {
			local, home := sides(t)
			src := writeFile(t, local, "f.bin", tt.content, tt.mode)
			mt := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
			if err := os.Chtimes(src, mt, mt); err != nil {
				t.Fatal(err)
			}
			l, err := runEngine(t, home, allow, client.Options{Args: []string{"f.bin", "sub/got.bin"}, Cwd: local}, nil)
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(home, "sub/got.bin")
			if got := mustRead(t, dst); got != tt.content {
				t.Fatalf("content differs: %d bytes, want %d", len(got), len(tt.content))
			}
			sameMeta(t, src, dst)
			if len(tt.content) > 100<<10 && strings.HasPrefix(tt.content, "line") && l.c2t.Load() > int64(len(tt.content)/4) {
				t.Errorf("%d bytes on the wire for %d compressible bytes: not compressed?", l.c2t.Load(), len(tt.content))
			}
			noTemps(t, home)
		})
	}
}

func TestEngineReceive(t *testing.T) {
	for _, tt := range oneFileCases(2, 1<<20+77) {
		t.Run(tt.name, func(t *testing.T) {
			local, home := sides(t)
			src := writeFile(t, home, "dir/f.bin", tt.content, tt.mode)
			mt := time.Date(2023, 1, 2, 3, 4, 5, 987654321, time.UTC)
			if err := os.Chtimes(src, mt, mt); err != nil {
				t.Fatal(err)
			}
			l, err := runEngine(t, home, allow, client.Options{Direction: transfer.Receive,
				Args: []string{"dir/f.bin", "got.bin"}, Cwd: local}, nil)
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(local, "got.bin")
			if got := mustRead(t, dst); got != tt.content {
				t.Fatalf("content differs: %d bytes, want %d", len(got), len(tt.content))
			}
			sameMeta(t, src, dst)
			if len(tt.content) > 100<<10 && strings.HasPrefix(tt.content, "line") && l.t2c.Load() > int64(len(tt.content)/4) {
				t.Errorf("%d bytes on the wire for %d compressible bytes: not compressed?", l.t2c.Load(), len(tt.content))
			}
			noTemps(t, local)
		})
	}
}

// makeRichTree builds a tree with a nested directory, a relative and an absolute
// symlink to files inside, a symlink outside, a dangling symlink, a hard link and an
// empty file, with distinct modes and mtimes.
func makeRichTree(t *testing.T, root string) {
	t.Helper()
	a := writeFile(t, root, "tree/a.txt", "a\n", 0o644)
	writeFile(t, root, "tree/sub/b.txt", textData(10000), 0o600)
	writeFile(t, root, "tree/sub/deeper/empty", "", 0o444)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink("a.txt", filepath.Join(root, "tree/rel-link")))
	must(os.Symlink("../a.txt", filepath.Join(root, "tree/sub/up-link")))
	must(os.Symlink("/etc/hostname", filepath.Join(root, "tree/outside-link")))
	must(os.Symlink("nowhere", filepath.Join(root, "tree/dangling")))
	must(os.Link(a, filepath.Join(root, "tree/sub/hard-a")))
	must(os.Chmod(filepath.Join(root, "tree/sub"), 0o750))
	mt := time.Date(2022, 2, 2, 2, 2, 2, 0, time.UTC)
	for _, p := range []string{"tree/a.txt", "tree/sub/b.txt", "tree/sub/deeper", "tree/sub", "tree"} {
		must(os.Chtimes(filepath.Join(root, p), mt, mt))
	}
}

func checkRichTree(t *testing.T, src, dst string) {
	t.Helper()
	for _, p := range []string{"a.txt", "sub/b.txt", "sub/deeper/empty"} {
		if mustRead(t, filepath.Join(dst, p)) != mustRead(t, filepath.Join(src, p)) {
			t.Errorf("%s differs", p)
		}
		sameMeta(t, filepath.Join(src, p), filepath.Join(dst, p))
	}
	for _, p := range []string{"sub", "sub/deeper", "."} {
		sameMeta(t, filepath.Join(src, p), filepath.Join(dst, p))
	}
	for p, want := range map[string]string{"rel-link": "a.txt", "sub/up-link": "../a.txt",
		"outside-link": "/etc/hostname", "dangling": "nowhere"} {
		if got, err := os.Readlink(filepath.Join(dst, p)); err != nil || got != want {
			t.Errorf("%s -> %q, %v; want %q", p, got, err, want)
		}
	}
	a, err1 := os.Stat(filepath.Join(dst, "a.txt"))
	h, err2 := os.Stat(filepath.Join(dst, "sub/hard-a"))
	if err1 != nil || err2 != nil {
		t.Fatalf("stat: %v %v", err1, err2)
	}
	if a.Sys().(*syscall.Stat_t).Ino != h.Sys().(*syscall.Stat_t).Ino {
		t.Errorf("sub/hard-a is not a hard link to a.txt")
	}
}

func TestEngineSendTree(t *testing.T) {
	local, home := sides(t)
	makeRichTree(t, local)
	if _, err := runEngine(t, home, allow, client.Options{Args: []string{"tree", "out/"}, Cwd: local}, nil); err != nil {
		t.Fatal(err)
	}
	checkRichTree(t, filepath.Join(local, "tree"), filepath.Join(home, "out/tree"))
	noTemps(t, home)
}

func TestEngineReceiveTree(t *testing.T) {
	local, home := sides(t)
	makeRichTree(t, home)
	if _, err := runEngine(t, home, allow, client.Options{Direction: transfer.Receive, Args: []string{"tree", "out"}, Cwd: local}, nil); err != nil {
		t.Fatal(err)
	}
	checkRichTree(t, filepath.Join(home, "tree"), filepath.Join(local, "out"))
	noTemps(t, local)
}

func TestEngineSeveralSourcesIntoADirectory(t *testing.T) {
	local, home := sides(t)
	writeFile(t, local, "one", "1", 0o644)
	writeFile(t, local, "two", "2", 0o644)
	if _, err := runEngine(t, home, allow, client.Options{Args: []string{"one", "two", "dest"}, Cwd: local}, nil); err != nil {
		t.Fatal(err)
	}
	if mustRead(t, filepath.Join(home, "dest/one")) != "1" || mustRead(t, filepath.Join(home, "dest/two")) != "2" {
		t.Error("files not in dest/")
	}
	// And back, into an existing local directory.
	back := filepath.Join(local, "back")
	if err := os.Mkdir(back, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := runEngine(t, home, allow, client.Options{Direction: transfer.Receive, Args: []string{"dest/one", "back"}, Cwd: local}, nil); err != nil {
		t.Fatal(err)
	}
	if mustRead(t, filepath.Join(back, "one")) != "1" {
		t.Error("file not received into the existing directory")
	}
}

// ptyWriter plays the proxy's pty writer: whenever the engine is ready, it writes what
// the engine has for the client to w, until stop is closed or a write fails.
func ptyWriter(e *fs.Engine, w io.Writer, stop <-chan struct{}) {
	var buf []byte
	for {
		select {
		case <-e.Ready():
		case <-stop:
			return
		}
		buf = e.Pull(buf[:0], 64<<10)
		if len(buf) > 0 {
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	}
}
