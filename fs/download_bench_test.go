package fs_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/xferterm/xferterm/fs"
)

// BenchmarkDownloadSend measures a file's trip from the disk to whole escape sequences
// ready for the pty (read, compress when asked, packetize, base64), pulled 64 KiB at a
// time as the pty writer does. MB/s are of file bytes.
func BenchmarkDownloadSend(b *testing.B) {
	const size = 16 << 20
	h := newDLHarness(b, dlAllow, fs.Limits{})
	path := filepath.Join(h.home, "f")
	writeBigFile(b, path, size, 7)
	h.approveAndList("s", "f")
	for _, zip := range []bool{false, true} {
		b.Run(fmt.Sprintf("zip=%v", zip), func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			buf := make([]byte, 0, 128<<10)
			fid := 0
			for b.Loop() {
				fid++
				req := requestCmd("s", fmt.Sprint(fid), path, zip)
				must(b, h.e.Handle(&req))
				for {
					if buf = h.e.Pull(buf[:0], 64<<10); len(buf) == 0 {
						break
					}
				}
			}
		})
	}
}
