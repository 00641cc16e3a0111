package client_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xferterm/xferterm/client"
)

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB",
		5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB", 2 << 40: "2.0 TiB", 5000 << 40: "5000.0 TiB"} {
		if got := client.FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestStatusLine(t *testing.T) {
	line := client.StatusLine("dir/file.bin", 10<<20, 5<<20, 1, 3, 30<<20, 15<<20, 5*time.Second, 200)
	for _, want := range []string{"dir/file.bin", "5.0 MiB/10.0 MiB", "1.0 MiB/s", "ETA 0:05", "total 1/3 files", "15.0 MiB/30.0 MiB", "3.0 MiB/s"} {
		if !strings.Contains(line, want) {
			t.Errorf("status line %q lacks %q", line, want)
		}
	}
	for _, width := range []int{20, 40, 80, 120} {
		long := strings.Repeat("long-directory-name/", 10) + "file"
		line := client.StatusLine(long, 100, 50, 0, 1, 100, 50, time.Second, width)
		if n := utf8.RuneCountInString(line); n > width-1 {
			t.Errorf("width %d: line of %d cells: %q", width, n, line)
		}
	}
	if line := client.StatusLine("evil\x1b[2J", 1, 0, 0, 1, 1, 0, time.Second, 80); strings.Contains(line, "\x1b") {
		t.Errorf("status line %q carries an escape from a file name", line)
	}
}
