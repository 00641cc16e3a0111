package fs_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/xferterm/xferterm/rsync"
	"github.com/xferterm/xferterm/rsync/librsync"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
	"github.com/xferterm/xferterm/transfer"
)

// TestUploadSignatureIsNotAReadOracle: an rsync signature is a read of the file a
// destination replaces. It is sent only for a destination the approval side let the
// engine read (never a sensitive one), of at least 4096 bytes, with blocks of at least
// 64 bytes, and never for a short last block; otherwise the client gets STARTED without
// tt=rsync and sends the file whole. The same rules hold for the 0.26 client's librsync
// format.
func TestUploadSignatureIsNotAReadOracle(t *testing.T) {
	noRead := transfer.Fixed{Allow: true, How: "test", SetMode: true} // allowed, but sensitive
	for _, tc := range []struct {
		name    string
		old     []byte
		approve transfer.Approver
		signed  bool
	}{
		{"a 14-byte secret", []byte("PIN=4711-xyzzy"), allowAll, false},
		{"an empty file", nil, allowAll, false},
		{"one byte short of the minimum", testdata.RandomBytes(3, 4095), allowAll, false},
		{"the minimum", testdata.RandomBytes(3, 4096), allowAll, true},
		{"a large file of a sensitive destination", testdata.RandomBytes(4, 300_000), noRead, false},
		{"a large file with a short last block", testdata.RandomBytes(4, 5000), allowAll, true},
	} {
		for _, dialect := range []scanner.Dialect{scanner.DialectCurrent, scanner.Dialect026} {
			t.Run(tc.name+"/"+dialect.String(), func(t *testing.T) {
				h := newUpHarness(t, withApprover(tc.approve))
				p := filepath.Join(h.home, "old.txt")
				must(t, os.WriteFile(p, tc.old, 0o600))
				h.raw("id=s;ac=send", dialect)
				f := fileCmd("s", "1", "old.txt")
				f.Transmit = scanner.TransmitRsync
				f.Padded = dialect == scanner.Dialect026
				got := h.do(f)
				if !tc.signed {
					wantReplies(t, h, got, "status fid=1 st=STARTED n=~/old.txt sz="+itoa(len(tc.old)))
					got = h.do(endCmd("s", "1", []byte("new")))
					wantReplies(t, h, got, "status fid=1 st=OK n=~/old.txt sz=3")
					return
				}
				if len(got) < 2 || got[0].Transmit != scanner.TransmitRsync {
					t.Fatalf("replies:\n%s", h.show(got))
				}
				var sig []byte
				for _, c := range got[1:] {
					sig = append(sig, c.Data...)
				}
				newData := slices.Concat(tc.old[:100], []byte("changed"), tc.old[100:])
				var delta []byte
				if dialect == scanner.Dialect026 {
					s, err := librsync.ParseSignature(sig)
					must(t, err)
					bl := s.Params().BlockLen
					if bl < 64 || s.Len() != len(tc.old)/bl {
						t.Errorf("librsync signature: %d blocks of %d bytes for %d bytes", s.Len(), bl, len(tc.old))
					}
					delta, err = io.ReadAll(librsync.NewDiffer(s, bytes.NewReader(newData)))
					must(t, err)
				} else {
					s, err := rsync.ParseSignature(sig)
					must(t, err)
					if bs := s.BlockSize(); bs < 64 || s.Len() != len(tc.old)/bs {
						t.Errorf("signature: %d blocks of %d bytes for %d bytes", s.Len(), bs, len(tc.old))
					}
					delta = deltaOf(t, sig, newData)
				}
				got = sendPackets(h, "1", delta)
				wantReplies(t, h, got[len(got)-1:], "status fid=1 st=OK n=~/old.txt sz="+itoa(len(newData)))
				if !bytes.Equal([]byte(readFile(t, p)), newData) {
					t.Error("patched file differs")
				}
			})
		}
	}
}
