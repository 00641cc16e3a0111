package fs_test

import (
	"bytes"
	"fmt"
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

// deltaCase is an old file, a new one, and how many delta bytes may cross the wire: only
// what changed, plus at most the blocks the change touches and the operations' framing.
type deltaCase struct {
	name     string
	old, new []byte
	// maxDelta returns the bound for a block size.
	maxDelta func(bs int) int
}

// opsSlack covers the operation headers and the trailing 19-byte Hash op.
const opsSlack = 128

func deltaCases() []deltaCase {
	const size = 1 << 20
	old := testdata.RandomBytes(11, size)
	edited := slices.Clone(old)
	copy(edited[size/2:], bytes.Repeat([]byte("edit"), 25)) // 100 bytes in the middle
	return []deltaCase{
		{"identical", old, old, func(int) int { return opsSlack }},
		{"small edit in the middle", old, edited, func(bs int) int { return 100 + 2*bs + opsSlack }},
		{"appended data", old, slices.Concat(old, testdata.RandomBytes(12, 10_000)), func(bs int) int { return 10_000 + bs + opsSlack }},
		{"truncated data", old, old[:size-10_000], func(bs int) int { return bs + opsSlack }},
		{"inserted data", old, slices.Concat(old[:1000], testdata.RandomBytes(13, 3000), old[1000:]), func(bs int) int { return 3000 + 2*bs + opsSlack }},
		{"unrelated content", old, testdata.RandomBytes(14, size), func(int) int { return size + size/64 + opsSlack }},
	}
}

// TestUploadRsyncCases: remote → local with deltas (rsync.md §8.1), plain and zlib. The
// patched file is byte-identical and the delta carries only what changed.
func TestUploadRsyncCases(t *testing.T) {
	for _, tc := range deltaCases() {
		for _, zip := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/zip=%v", tc.name, zip), func(t *testing.T) {
				h := newUpHarness(t)
				p := filepath.Join(h.home, "r.bin")
				must(t, os.WriteFile(p, tc.old, 0o644))
				h.start("s")
				sig := rsyncStart(t, h, "1", "r.bin", zip, len(tc.old))
				parsed, err := rsync.ParseSignature(sig)
				must(t, err)
				if want := rsync.BlockSize(int64(len(tc.old))); parsed.BlockSize() != want {
					t.Errorf("signature block size %d, want the client's rule %d", parsed.BlockSize(), want)
				}
				delta := deltaOf(t, sig, tc.new)
				if max := tc.maxDelta(parsed.BlockSize()); len(delta) > max {
					t.Errorf("delta of %d bytes, want at most %d", len(delta), max)
				}
				wire := delta
				if zip {
					wire = testdata.Zlib(t, delta)
				}
				got := sendPackets(h, "1", wire)
				if n := len(got); n == 0 || showCmd(got[n-1], h.home) != "status fid=1 st=OK n=~/r.bin sz="+itoa(len(tc.new)) {
					t.Fatalf("replies:\n%s", h.show(got))
				}
				if !bytes.Equal([]byte(readFile(t, p)), tc.new) {
					t.Error("patched file differs")
				}
				noDebris(t, h.root)
			})
		}
	}
}

// TestDownloadRsyncCases: local → remote with deltas (rsync.md §8.2), plain and zlib: the
// engine's delta against the client's signature rebuilds the local file and carries only
// what changed.
func TestDownloadRsyncCases(t *testing.T) {
	for _, tc := range deltaCases() {
		for _, zip := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/zip=%v", tc.name, zip), func(t *testing.T) {
				h := newDLHarness(t, dlAllow, fs.Limits{})
				path := filepath.Join(h.home, "f")
				must(t, os.WriteFile(path, tc.new, 0o644))
				h.approveAndList("t", "f")

				// The client makes its signature with the block size of the listed size.
				bs := rsync.BlockSize(int64(len(tc.new)))
				sig, err := io.ReadAll(rsync.NewSignatureReader(bytes.NewReader(tc.old), bs))
				must(t, err)
				rq := requestCmd("t", "1", path, zip)
				rq.Transmit = scanner.TransmitRsync
				cmds := []scanner.Command{rq}
				for off := 0; off < len(sig); off += 4000 {
					cmds = append(cmds, scanner.Command{Action: scanner.ActionData, ID: "t", FileID: "1",
						Data: sig[off:min(off+4000, len(sig))]})
				}
				cmds = append(cmds, scanner.Command{Action: scanner.ActionEndData, ID: "t", FileID: "1"})
				delta := fileData(t, h.do(cmds...), "1", zip)
				if max := tc.maxDelta(bs); len(delta) > max {
					t.Errorf("delta of %d bytes, want at most %d", len(delta), max)
				}
				if got := patch(t, tc.old, delta, bs); !bytes.Equal(got, tc.new) {
					t.Fatal("patched file differs")
				}
			})
		}
	}
}
