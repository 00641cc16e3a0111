package fs_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/rsync"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
	"github.com/xferterm/xferterm/transfer"
)

// fuzzHome builds the tree FuzzDownloadSession plays with. secret.txt is outside pub/:
// it must never be read unless a spec names it.
func fuzzHome(t testing.TB) string {
	home := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(home, "pub", "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(home, "pub", "a.txt"), bytes.Repeat([]byte("alpha "), 2000), 0o644))
	must(t, os.WriteFile(filepath.Join(home, "pub", "sub", "b.txt"), []byte("beta"), 0o644))
	must(t, os.Symlink("a.txt", filepath.Join(home, "pub", "link")))
	must(t, os.Symlink("../secret.txt", filepath.Join(home, "pub", "evil")))
	must(t, os.Link(filepath.Join(home, "pub", "a.txt"), filepath.Join(home, "pub", "sub", "hard")))
	must(t, os.WriteFile(filepath.Join(home, "secret.txt"), []byte(secretText), 0o644))
	return home
}

// fuzzProgram runs one byte program against a fresh engine; see FuzzDownloadSession.
type fuzzProgram struct {
	t      *testing.T
	home   string
	e      *fs.Engine
	clock  *testdata.Clock
	sig    []byte            // a valid signature of pub/a.txt
	listed map[string]bool   // every path some listing named
	asked  map[string]string // "id/fid" -> path of the last request with that fid
	ended  map[string]bool   // "id/fid" whose end_data was sent (since their last request)
	// secretListed is set when a spec named secret.txt (by an absolute path with ..):
	// its content may then be sent.
	secretListed bool
}

func (p *fuzzProgram) handle(c scanner.Command) {
	if c.Action == scanner.ActionFile {
		p.asked[c.ID+"/"+c.FileID] = c.Name
		delete(p.ended, c.ID+"/"+c.FileID)
	}
	if err := p.e.Handle(&c); err != nil {
		p.t.Fatal(err)
	}
	fs.Settle(p.e) // The description of the specs runs in the background: let it end.
}

// pull calls Pull once, checks what it returned, and reports whether it was anything.
func (p *fuzzProgram) pull(max int) bool {
	b := p.e.Pull(nil, max)
	cmds, err := parseReplies(b)
	if err != nil {
		p.t.Fatalf("Pull returned broken sequences: %v", err)
	}
	for _, c := range cmds {
		switch c.Action {
		case scanner.ActionFile:
			p.listed[c.Name] = true
			if filepath.Clean(c.Name) == p.home+"/secret.txt" {
				p.secretListed = true // a spec may name it: then it was approved
			}
		case scanner.ActionData, scanner.ActionEndData:
			key := c.ID + "/" + c.FileID
			path, ok := p.asked[key]
			if !ok || !p.listed[path] {
				p.t.Fatalf("data for fid %s, path %q, which no listing named", c.FileID, path)
			}
			if p.ended[key] {
				p.t.Fatalf("data for fid %s after its end_data", c.FileID)
			}
			if !p.secretListed && bytes.Contains(c.Data, []byte(secretText)) {
				p.t.Fatal("secret content sent")
			}
			if len(c.Data) > fs.MaxDataPacket {
				p.t.Fatalf("packet of %d bytes", len(c.Data))
			}
			if c.Action == scanner.ActionEndData {
				p.ended[key] = true
			}
		}
	}
	return len(b) > 0
}

// FuzzDownloadSession runs random command sequences against receive sessions. Whatever
// the sequence: no panic, Pull returns whole sequences, data is only ever sent for a
// path a listing named (never for secret.txt, which no spec can reach), never after the
// file's end_data, and nothing is left running after CancelAll.
func FuzzDownloadSession(f *testing.F) {
	home := fuzzHome(f)
	sig, err := io.ReadAll(rsync.NewSignatureReader(bytes.NewReader(bytes.Repeat([]byte("alphb "), 2000)), 64))
	if err != nil {
		f.Fatal(err)
	}
	specs := []string{"pub", "pub/a.txt", "pub/sub", "~/pub/sub/b.txt", "missing", "pub/link", "pub/evil", home + "/pub/sub/hard"}
	paths := []string{home + "/pub/a.txt", home + "/secret.txt", home + "/pub", home + "/pub/link", home + "/pub/evil",
		home + "/pub/sub/b.txt", "/etc/passwd", home + "/pub/../secret.txt", "pub/a.txt", home + "/pub/sub/hard"}
	ids := []string{"s", "t"}

	// Seeds. A program is a list of steps: an id byte, an op byte (see the switch
	// below), then the op's arguments.
	const s, pull = 0, 5
	f.Add([]byte{s, 0, 0, 1, s, 1, 0, 0, 0, s, pull, 255, s, 1, 1, 1, 0, s, pull, 255, s, pull, 255, s, 4, 1}) // receive, spec, request, finish
	f.Add([]byte{s, 0, 0, 1, s, 1, 0, 2, 0, s, pull, 255, s, 1, 1, 1, 3, s, 3, 1, s, pull, 9, s, pull, 255})   // rsync + zlib request, signature
	f.Add([]byte{s, 0, 0, 4, s, 1, 0, 0, 0, s, 8, 30, s, pull, 255, s, 9})                                     // no sz, timeout, CancelAll
	f.Add([]byte{s, 0, 0, 1, s, 1, 0, 0, 0, s, pull, 255, s, 1, 1, 3, 0, s, pull, 255})                        // a request for secret.txt
	f.Add([]byte{s, 0, 0, 1, s, 1, 0, 0, 0, s, pull, 255, s, 1, 1, 5, 0, s, 2, 1, 0, 3, s, pull, 255})         // a directory, stray data

	f.Fuzz(func(t *testing.T, prog []byte) {
		clock := testdata.NewClock(time.Unix(1_800_000_000, 0))
		allow := len(prog) == 0 || prog[0]&0x80 == 0
		e, err := fs.NewEngine(fs.Config{Home: home, Now: clock.Now,
			Approver: transfer.Func(func(transfer.Request) transfer.Decision { return transfer.Decision{Allow: allow} })})
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			_ = e.Close()
			fs.Settle(e)
		}()
		p := &fuzzProgram{t: t, home: home, e: e, clock: clock, sig: sig,
			listed: map[string]bool{}, asked: map[string]string{}, ended: map[string]bool{}}
		arg := func() int {
			if len(prog) == 0 {
				return 0
			}
			b := prog[0]
			prog = prog[1:]
			return int(b)
		}
		for steps := 0; len(prog) > 0 && steps < 200; steps++ {
			id := ids[arg()%len(ids)]
			switch arg() % 10 {
			case 0: // receive, sz = arg%4 or absent
				q := arg()
				// q&8: kitty's 0.26 client, whose signatures are librsync's (the valid one
				// here is not, so its requests fail).
				c := scanner.Command{Action: scanner.ActionReceive, ID: id, Quiet: q % 3 / 2, Padded: q&8 != 0}
				if n := arg() % 5; n < 4 {
					c.Size = scanner.Some(int64(n))
				}
				p.handle(c)
			case 1: // file: a spec name or a request path
				c := scanner.Command{Action: scanner.ActionFile, ID: id, FileID: fmt.Sprint(arg() % 6)}
				if a := arg(); a%2 == 0 {
					c.Name = specs[a/2%len(specs)]
				} else {
					c.Name = paths[a/2%len(paths)]
				}
				flags := arg()
				if flags&1 != 0 {
					c.Compression = scanner.CompressionZlib
				}
				if flags&2 != 0 {
					c.Transmit = scanner.TransmitRsync
				}
				p.handle(c)
			case 2: // data / end_data with a piece of the valid signature or garbage
				c := scanner.Command{Action: scanner.ActionData, ID: id, FileID: fmt.Sprint(arg() % 6)}
				a, n := arg(), arg()
				if a&1 != 0 {
					c.Action = scanner.ActionEndData
				}
				if a&2 != 0 {
					c.Data = p.sig[:min(n*20, len(p.sig))]
				} else {
					c.Data = bytes.Repeat([]byte{byte(n)}, n%7)
				}
				p.handle(c)
			case 3: // the whole valid signature
				fid := fmt.Sprint(arg() % 6)
				p.handle(scanner.Command{Action: scanner.ActionData, ID: id, FileID: fid, Data: p.sig})
				p.handle(scanner.Command{Action: scanner.ActionEndData, ID: id, FileID: fid})
			case 4: // the other actions (not send: upload sessions would write into home)
				acts := []scanner.Action{scanner.ActionCancel, scanner.ActionFinish, scanner.ActionStatus}
				p.handle(scanner.Command{Action: acts[arg()%len(acts)], ID: id})
			case 5, 6, 7: // the pty writer
				p.pull(arg()*32 + 1)
			case 8: // time passes
				clock.Advance(time.Duration(arg()) * 100 * time.Millisecond)
				e.Tick()
				fs.Settle(e)
			case 9:
				e.CancelAll()
			}
		}
		// Drain (a listing walk may return nothing for a while), then make sure
		// CancelAll leaves nothing running.
		for range 100_000 {
			if !p.pull(1 << 20) {
				select {
				case <-e.Ready():
					continue
				default:
				}
				break
			}
		}
		e.CancelAll()
		e.Pull(nil, 1<<20)
		if e.Active() {
			t.Fatal("active after CancelAll")
		}
		if b := e.Pull(nil, 1<<20); len(b) != 0 {
			t.Fatalf("output after CancelAll: %q", b)
		}
	})
}
