package client_test

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/xferterm/xferterm/client"
	"github.com/xferterm/xferterm/testdata"
)

// TestCompressSend: auto compresses what zlib makes smaller, judged by the content as well
// as the name; always and never do as they say; small files never.
func TestCompressSend(t *testing.T) {
	dir := t.TempDir()
	seed := uint64(0)
	random := func(n int) []byte {
		seed++
		return testdata.RandomBytes(seed, n)
	}
	text := func(n int) []byte {
		return bytes.Repeat([]byte("a line of a log file, as text compresses\n"), n/41+1)[:n]
	}
	// A tar of a compressed archive with text at its end: the end sample sees the text.
	mixed := append(random(1<<20), text(1<<20)...)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo.txt")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		path string
		size int64
		c    client.Compress
		want bool
	}{
		{"text", write("a.txt", text(100_000)), 100_000, client.CompressAuto, true},
		{"random data", write("a.bin", random(100_000)), 100_000, client.CompressAuto, false},
		{"random data, always", write("b.bin", random(100_000)), 100_000, client.CompressAlways, true},
		{"text, never", write("b.txt", text(100_000)), 100_000, client.CompressNever, false},
		{"text named as compressed", write("c.gz", text(100_000)), 100_000, client.CompressAuto, false},
		{"small text", write("d.txt", text(4096)), 4096, client.CompressAuto, false},
		{"text just above the threshold", write("e.txt", text(4097)), 4097, client.CompressAuto, true},
		{"random with text at the end", write("f.tar", mixed), int64(len(mixed)), client.CompressAuto, true},
		{"random with a little text", write("g.bin", append(random(200_000), text(100)...)), 200_100, client.CompressAuto, false},
		{"gone since the scan", filepath.Join(dir, "gone.txt"), 100_000, client.CompressAuto, true},
		{"a FIFO in its place", fifo, 100_000, client.CompressAuto, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := client.CompressSend(tc.c, tc.path, tc.size); got != tc.want {
				t.Errorf("CompressSend(%v, %s, %d) = %v, want %v", tc.c, filepath.Base(tc.path), tc.size, got, tc.want)
			}
		})
	}
}
