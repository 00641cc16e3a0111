package fs_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/rsync"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
)

// rsyncStart sends an rsync `file` for name and returns the signature the engine
// streamed, checking the packet shapes of rsync.md §8.1.
func rsyncStart(t *testing.T, h *upHarness, fid, name string, zip bool, oldSize int) []byte {
	t.Helper()
	f := fileCmd("s", fid, name)
	f.Transmit = scanner.TransmitRsync
	f.Permissions = scanner.Some(0o600)
	if zip {
		f.Compression = scanner.CompressionZlib
	}
	got := h.do(f)
	if len(got) < 2 {
		t.Fatalf("replies: %s", h.show(got))
	}
	want := "status tt=rsync fid=" + fid + " st=STARTED n=~/" + name + " sz=" + itoa(oldSize)
	if s := showCmd(got[0], h.home); s != want {
		t.Fatalf("first reply %s, want %s", s, want)
	}
	var sig []byte
	for i, c := range got[1:] {
		last := i == len(got)-2
		switch {
		case !last && c.Action == scanner.ActionData && c.FileID == fid && len(c.Data) > 0 && len(c.Data) <= fs.MaxDataPacket:
			sig = append(sig, c.Data...)
		case last && c.Action == scanner.ActionEndData && c.FileID == fid && c.Data == nil:
		default:
			t.Fatalf("signature packet %d: %s", i, showCmd(c, h.home))
		}
	}
	return sig
}

func itoa(n int) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// deltaOf computes the client's delta of newData against the engine's signature.
func deltaOf(t *testing.T, sig, newData []byte) []byte {
	t.Helper()
	s, err := rsync.ParseSignature(sig)
	if err != nil {
		t.Fatal(err)
	}
	d, err := io.ReadAll(rsync.NewDiffer(s, bytes.NewReader(newData)))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sendPackets(h *upHarness, fid string, b []byte) []scanner.Command {
	var got []scanner.Command
	for len(b) > 4096 {
		got = append(got, h.do(dataCmd("s", fid, b[:4096]))...)
		b = b[4096:]
	}
	return append(got, h.do(endCmd("s", fid, b))...)
}

func TestUploadRsync(t *testing.T) {
	old := testdata.RandomBytes(1, 300_000)
	newData := slices.Concat(old[:1000], []byte("inserted bytes"), old[1000:250_000], testdata.RandomBytes(2, 5000))
	for _, zip := range []bool{false, true} {
		name := "plain delta"
		if zip {
			name = "zlib delta"
		}
		t.Run(name, func(t *testing.T) {
			h := newUpHarness(t)
			p := filepath.Join(h.home, "r.bin")
			if err := os.WriteFile(p, old, 0o644); err != nil {
				t.Fatal(err)
			}
			h.start("s")
			sig := rsyncStart(t, h, "1", "r.bin", zip, len(old))
			delta := deltaOf(t, sig, newData)
			if len(delta) > len(newData)/4 {
				t.Errorf("delta of %d bytes for a mostly unchanged %d-byte file", len(delta), len(newData))
			}
			wire := delta
			if zip {
				wire = testdata.Zlib(t, delta)
			}
			got := sendPackets(h, "1", wire)
			if n := len(got); n == 0 || showCmd(got[n-1], h.home) != "status fid=1 st=OK n=~/r.bin sz="+itoa(len(newData)) {
				t.Fatalf("replies:\n%s", h.show(got))
			}
			if !bytes.Equal([]byte(readFile(t, p)), newData) {
				t.Error("patched file differs")
			}
			if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
				t.Errorf("mode %v", st.Mode())
			}
			noDebris(t, h.root)
		})
	}
	t.Run("bad delta leaves the original", func(t *testing.T) {
		for _, damage := range []struct {
			name string
			f    func([]byte) []byte
		}{
			{"wrong checksum", func(d []byte) []byte { d = slices.Clone(d); d[len(d)-1] ^= 1; return d }},
			{"no checksum", func(d []byte) []byte { return d[:len(d)-19] }},
			{"cut inside an op", func(d []byte) []byte { return d[:len(d)-5] }},
			{"garbage", func([]byte) []byte { return []byte{9, 9, 9} }},
		} {
			t.Run(damage.name, func(t *testing.T) {
				h := newUpHarness(t)
				p := filepath.Join(h.home, "r.bin")
				if err := os.WriteFile(p, old, 0o644); err != nil {
					t.Fatal(err)
				}
				h.start("s")
				sig := rsyncStart(t, h, "1", "r.bin", false, len(old))
				got := sendPackets(h, "1", damage.f(deltaOf(t, sig, newData)))
				if n := len(got); n == 0 || got[n-1].Status != scanner.StatusDeltaCorrupt {
					t.Errorf("replies:\n%s", h.show(got))
				}
				if !bytes.Equal([]byte(readFile(t, p)), old) {
					t.Error("original changed")
				}
				noDebris(t, h.root)
			})
		}
	})
	t.Run("declined without an existing file or with q=1", func(t *testing.T) {
		h := newUpHarness(t)
		h.start("s")
		f := fileCmd("s", "1", "missing")
		f.Transmit = scanner.TransmitRsync
		wantReplies(t, h, h.do(f), "status fid=1 st=STARTED n=~/missing")
		wantReplies(t, h, h.do(endCmd("s", "1", []byte("plain"))), "status fid=1 st=OK n=~/missing sz=5")

		q := newUpHarness(t)
		if err := os.WriteFile(filepath.Join(q.home, "x"), old, 0o644); err != nil {
			t.Fatal(err)
		}
		send := sendCmd("s")
		send.Quiet = 1
		q.do(send)
		f = fileCmd("s", "1", "x")
		f.Transmit = scanner.TransmitRsync
		wantReplies(t, q, q.do(f))
		wantReplies(t, q, q.do(endCmd("s", "1", []byte("plain"))))
		if readFile(t, filepath.Join(q.home, "x")) != "plain" {
			t.Error("q=1 file not written plainly")
		}
	})
	t.Run("data before the signature ends", func(t *testing.T) {
		h := newUpHarness(t)
		if err := os.WriteFile(filepath.Join(h.home, "x"), old, 0o644); err != nil {
			t.Fatal(err)
		}
		h.start("s")
		f := fileCmd("s", "1", "x")
		f.Transmit = scanner.TransmitRsync
		if err := h.e.Handle(&f); err != nil {
			t.Fatal(err)
		}
		// Nothing pulled yet: the signature is still to be produced.
		d := dataCmd("s", "1", []byte("x"))
		if err := h.e.Handle(&d); err != nil {
			t.Fatal(err)
		}
		got := h.pull()
		if len(got) != 2 || got[0].Status != scanner.StatusStarted || got[1].Status != scanner.StatusDataBeforeSignature {
			t.Errorf("replies:\n%s", h.show(got))
		}
		if !bytes.Equal([]byte(readFile(t, filepath.Join(h.home, "x"))), old) {
			t.Error("original changed")
		}
	})
}

// TestUploadRsyncSignatureIsLazy checks that a big signature is produced as the pty
// writer pulls, not queued: the outbox limit is far below the signature's size.
func TestUploadRsyncSignatureIsLazy(t *testing.T) {
	h := newUpHarness(t, withLimits(fs.Limits{MaxOutbox: 4096}))
	p := filepath.Join(h.home, "big")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	// 4 MiB at block size 2048: 2048 entries, 40 KiB of signature.
	if err := f.Truncate(4 << 20); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	h.start("s")
	c := fileCmd("s", "1", "big")
	c.Transmit = scanner.TransmitRsync
	if err := h.e.Handle(&c); err != nil {
		t.Fatal(err)
	}
	var sig []byte
	pulls := 0
	for done := false; !done; {
		out := h.e.Pull(nil, 4000)
		if len(out) == 0 {
			t.Fatal("signature stalled")
		}
		if len(out) > 4000+6000 {
			t.Fatalf("Pull returned %d bytes for a max of 4000", len(out))
		}
		pulls++
		cmds, err := parseReplies(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cmds {
			switch c.Action {
			case scanner.ActionData:
				sig = append(sig, c.Data...)
			case scanner.ActionEndData:
				done = true
			}
		}
	}
	s, err := rsync.ParseSignature(sig)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != (4<<20)/s.BlockSize() || pulls < 8 {
		t.Errorf("%d entries of %d bytes in %d pulls", s.Len(), s.BlockSize(), pulls)
	}
}

// TestUploadRsyncManyFilesAfterAPlainOne: the client sends every `file` at once, then
// the data one file at a time in list order. A plain file listed before many rsync
// files must still be writable although their signatures hold old files open (those
// beyond the open-file limit are answered plainly).
func TestUploadRsyncManyFilesAfterAPlainOne(t *testing.T) {
	h := newUpHarness(t)
	h.start("s")
	h.do(fileCmd("s", "1", "new.txt")) // a new file: no rsync
	for i := range fs.MaxOpenUploadFiles + 4 {
		name := "f" + itoa(i)
		if err := os.WriteFile(filepath.Join(h.home, name), testdata.RandomBytes(uint64(i), 10_000), 0o644); err != nil {
			t.Fatal(err)
		}
		f := fileCmd("s", itoa(i+2), name)
		f.Transmit = scanner.TransmitRsync
		h.do(f)
	}
	wantReplies(t, h, h.do(endCmd("s", "1", []byte("plain"))), "status fid=1 st=OK n=~/new.txt sz=5")
}
