package fs_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
)

// TestUploadAnnouncedSize: when a file command announces its size (sz, as xferterm's client
// does), the file is renamed over its destination only if exactly that many bytes were
// written (after zlib, after an rsync patch); otherwise it fails with an EIO status that says
// so, the original stays as it was and no temporary file is left. Without sz, or with kitty's
// "not given" -1, nothing is checked.
func TestUploadAnnouncedSize(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789abcdef"), 1000) // 16000 bytes, 4 packets
	old := testdata.RandomBytes(7, 20_000)
	newData := slices.Concat(old[:5000], []byte("changed"), old[5000:])
	lost := func(b []byte) []byte { return slices.Concat(b[:4096], b[8192:]) } // the 2nd packet
	for _, tc := range []struct {
		name   string
		size   scanner.OptInt
		zip    bool
		rsync  bool
		damage func([]byte) []byte // what the terminal receives of the wire bytes
		want   string              // the last status; "" for OK
	}{
		{name: "the announced size arrives", size: scanner.Some(16000)},
		{name: "a packet was lost", size: scanner.Some(16000), damage: lost,
			want: scanner.StatusSizeMismatch(16000-4096, 16000)},
		{name: "more than announced", size: scanner.Some(100), want: scanner.StatusSizeMismatch(16000, 100)},
		{name: "an empty file announced as empty", size: scanner.Some(0), damage: func([]byte) []byte { return nil }},
		{name: "nothing announced", size: scanner.OptInt{}, damage: lost},
		{name: "kitty's not-given value", size: scanner.Some(-1), damage: lost},
		{name: "zlib: the size after inflating", size: scanner.Some(16000), zip: true},
		{name: "zlib: the compressed size is not the size", size: scanner.Some(int64(len(testdata.Zlib(t, content)))), zip: true,
			want: scanner.StatusSizeMismatch(16000, int64(len(testdata.Zlib(t, content))))},
		{name: "rsync: the patched size", size: scanner.Some(int64(len(newData))), rsync: true},
		{name: "rsync: a wrong size", size: scanner.Some(int64(len(old))), rsync: true,
			want: scanner.StatusSizeMismatch(int64(len(newData)), int64(len(old)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newUpHarness(t)
			p := filepath.Join(h.home, "f.bin")
			if err := os.WriteFile(p, old, 0o644); err != nil {
				t.Fatal(err)
			}
			h.start("s")
			f := fileCmd("s", "1", "f.bin")
			f.Size = tc.size
			wire := content
			if tc.rsync {
				f.Transmit = scanner.TransmitRsync
			}
			if tc.zip {
				f.Compression = scanner.CompressionZlib
				wire = testdata.Zlib(t, content)
			}
			got := h.do(f)
			if tc.rsync {
				var sig []byte
				for _, c := range got[1:] {
					sig = append(sig, c.Data...)
				}
				wire = deltaOf(t, sig, newData)
			}
			if tc.damage != nil {
				wire = tc.damage(wire)
			}
			got = sendPackets(h, "1", wire)
			if len(got) == 0 {
				t.Fatal("no reply to end_data")
			}
			last := got[len(got)-1]
			want := tc.want
			if want == "" {
				want = scanner.StatusOK
			}
			if last.Status != want {
				t.Fatalf("replies:\n%s\nwant the last status %q", h.show(got), want)
			}
			wantContent := old
			switch {
			case tc.want != "":
			case tc.rsync:
				wantContent = newData
			default:
				wantContent = wire
				if tc.zip {
					wantContent = content
				}
			}
			if !bytes.Equal([]byte(readFile(t, p)), wantContent) {
				t.Errorf("the destination holds %d bytes, want %d", len(readFile(t, p)), len(wantContent))
			}
			noDebris(t, h.root)
			h.do(scanner.Command{Action: scanner.ActionFinish, ID: "s"})
			evs := h.fileEvents()
			if len(evs) != 1 || evs[0].Result != want {
				t.Errorf("file events %+v, want one with result %q", evs, want)
			}
		})
	}
}

// TestUploadAnnouncedSizeIgnoredForLinks: sz on a link's file command is not checked (the
// client announces the sizes of regular files only).
func TestUploadAnnouncedSizeIgnoredForLinks(t *testing.T) {
	h := newUpHarness(t)
	h.start("s")
	f := fileCmd("s", "1", "l")
	f.FileType = scanner.FileSymlink
	f.Size = scanner.Some(999)
	h.do(f)
	got := h.do(endCmd("s", "1", []byte("path:target")))
	if len(got) != 1 || got[0].Status != scanner.StatusOK {
		t.Fatalf("replies:\n%s", h.show(got))
	}
}
