package fs_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
	"github.com/xferterm/xferterm/transfer"
)

// FuzzUploadSession runs random command sequences against a temporary home. Whatever
// the sequence: no panic, nothing written outside home (even through links the
// session itself plants), and no temporary file left once the engine is closed.
func FuzzUploadSession(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 0, 0, 0, 3, 0, 5, 4})
	f.Add([]byte{0, 0, 1, 1, 2, 2, 0, 3, 1, 3, 1, 2, 3, 0, 1, 3, 4, 1, 0, 3, 2, 0, 4})
	f.Add([]byte{0, 1, 1, 0, 6, 0, 0, 2, 0, 9, 3, 0, 1, 7, 6, 1, 1, 0, 8, 0, 0, 3, 1, 8})
	f.Add([]byte{0, 0, 1, 0, 1, 1, 1, 2, 0, 0, 2, 0, 4, 6, 60, 5})
	f.Add([]byte{0, 64, 1, 0, 0, 0, 3, 0, 0, 1, 1, 11, 3, 3, 1, 36, 4, 0})
	f.Fuzz(func(t *testing.T, prog []byte) {
		root := t.TempDir()
		home := filepath.Join(root, "home")
		outside := filepath.Join(root, "outside")
		for _, d := range []string{home, outside} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		sentinel := filepath.Join(outside, "sentinel")
		if err := os.WriteFile(sentinel, []byte("keep"), 0o644); err != nil {
			t.Fatal(err)
		}
		clock := testdata.NewClock(time.Unix(1_800_000_000, 0))
		e, err := fs.NewEngine(fs.Config{
			Home: home,
			Now:  clock.Now,
			Approver: approveFunc(func(r transfer.Request) transfer.Decision {
				if r.File == nil {
					return transfer.Decision{Allow: true}
				}
				p := filepath.Clean(r.File.Path)
				return transfer.Decision{Allow: strings.HasPrefix(p, home+"/")}
			}),
			Limits: fs.Limits{MaxFileSize: 1 << 16, MaxPacket: 1 << 12},
		})
		if err != nil {
			t.Fatal(err)
		}
		names := []string{"a", "d/b", "x", "x/passwd", "../outside/evil", outside + "/abs", "~/c",
			"d", "d/e/f", ".", "", "~/", "link", "link/y", "d/../x/z", "/"}
		linkData := []string{"path:" + outside, "fid:0", "fid_abs:1", "path:../outside", "path:x",
			"fid:3", "path:" + sentinel, "nonsense", "path:d", "1"}
		z := testdata.Zlib(t, bytes.Repeat([]byte("zz"), 3000))
		ids := []string{"a", "b"}
		next := func() byte {
			if len(prog) == 0 {
				return 0
			}
			b := prog[0]
			prog = prog[1:]
			return b
		}
		for len(prog) > 0 {
			op, arg := next(), next()
			id := ids[int(arg)%len(ids)]
			fid := string(rune('0' + arg%4))
			var c scanner.Command
			switch op % 9 {
			case 0:
				c = sendCmd(id)
				c.Quiet = int(arg/2) % 3
				c.Padded = arg&64 != 0 // kitty's 0.26 client: padded replies, librsync, bare link fids
			case 1:
				c = fileCmd(id, fid, names[int(next())%len(names)])
				flags := next()
				c.FileType = scanner.FileType(flags % 4)
				if flags&4 != 0 {
					c.Compression = scanner.CompressionZlib
				}
				if flags&8 != 0 {
					c.Transmit = scanner.TransmitRsync
				}
				if flags&16 != 0 {
					c.Permissions = scanner.Some(int64(flags) << 4)
				}
				if flags&32 != 0 {
					c.Mtime = scanner.Some(int64(flags) * 1e9)
				}
			case 2, 3:
				c = dataCmd(id, fid, nil)
				if op%9 == 3 {
					c.Action = scanner.ActionEndData
				}
				sel := next()
				switch sel % 4 {
				case 0:
					c.Data = []byte(linkData[int(sel/4)%len(linkData)])
				case 1:
					n := int(sel/4) * 97 % len(z)
					c.Data = z[:n]
				case 2:
					c.Data = z[int(sel)%len(z):]
				case 3:
					c.Data = bytes.Repeat([]byte{sel}, int(sel)*40)
				}
			case 4:
				c = scanner.Command{Action: scanner.ActionFinish, ID: id}
			case 5:
				c = scanner.Command{Action: scanner.ActionCancel, ID: id}
			case 6:
				clock.Advance(time.Duration(arg) * 10 * time.Second)
				e.Tick()
				continue
			case 7:
				e.CancelAll()
				continue
			case 8:
				_ = e.Pull(nil, int(arg)*64)
				continue
			}
			if err := e.Handle(&c); err != nil {
				t.Fatal(err)
			}
			if _, err := parseReplies(e.Pull(nil, 1<<30)); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if got := tree(t, outside); !slices.Equal(got, []string{"sentinel"}) || readFile(t, sentinel) != "keep" {
			t.Errorf("outside home changed: %v", got)
		}
		if got := tree(t, root); !slices.Contains(got, "home/") || len(slices.DeleteFunc(got, func(p string) bool {
			return strings.HasPrefix(p, "home/") || strings.HasPrefix(p, "outside/")
		})) != 0 {
			t.Errorf("written beside home: %v", got)
		}
		noDebris(t, root)
	})
}
