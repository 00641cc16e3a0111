package fs_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/rsync/librsync"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
)

// raw handles one payload with the dialect the proxy's sniffer gave it and returns the
// bytes the engine writes for the child.
func (h *upHarness) raw(payload string, d scanner.Dialect) string {
	h.t.Helper()
	if err := h.e.HandlePayloadFrom([]byte(payload), d); err != nil {
		h.t.Fatalf("HandlePayloadFrom(%q): %v", payload, err)
	}
	return string(h.e.Pull(nil, 1<<30))
}

// TestDialectPadsReplies: a session opened by kitty's 0.26 client, as the sniffer tells or
// as a padded value shows, gets padded base64 in every reply; the current client's never
// does, and the first padded value of a session turns it for good.
func TestDialectPadsReplies(t *testing.T) {
	h := newUpHarness(t)
	if got, want := h.raw("id=old;ac=send", scanner.Dialect026), "\x1b]5113;ac=status;id=old;st=T0s=\x1b\\"; got != want {
		t.Errorf("0.26 permission reply %q, want %q", got, want)
	}
	if got := h.raw("id=old;ac=file;fid=1;n=YS50eHQ=", scanner.DialectCurrent); !strings.Contains(got, ";st=U1RBUlRFRA==\x1b\\") {
		t.Errorf("0.26 STARTED reply %q is not padded", got)
	}
	if got, want := h.raw("id=new;ac=send", scanner.DialectCurrent), "\x1b]5113;ac=status;id=new;st=T0s\x1b\\"; got != want {
		t.Errorf("current permission reply %q, want %q", got, want)
	}
	if got := h.raw("id=new;ac=file;fid=1;n=Yi50eHQ", scanner.DialectCurrent); !strings.Contains(got, ";st=U1RBUlRFRA\x1b\\") {
		t.Errorf("current STARTED reply %q is padded", got)
	}
	// The bypass of the 0.26 client is padded (sha256:<64 hex> is 71 bytes): its
	// session is the old client's before the first reply, whatever the sniffer said.
	if got := h.raw("id=pw;ac=send;pw=c2hhMjU2OjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMA==", scanner.DialectCurrent); !strings.Contains(got, "st=") || !strings.Contains(got, "=\x1b\\") {
		t.Errorf("reply to a padded bypass %q is not padded", got)
	}
	// A later padded value turns a session for good.
	if got := h.raw("id=new;ac=file;fid=2;n=Yy50eHQ=", scanner.DialectCurrent); !strings.Contains(got, ";st=U1RBUlRFRA==\x1b\\") {
		t.Errorf("reply to a padded command %q is not padded", got)
	}
	if got := h.raw("id=new;ac=end_data;fid=2", scanner.DialectCurrent); !strings.Contains(got, ";st=T0s=\x1b\\") {
		t.Errorf("reply after the session turned %q is not padded", got)
	}
}

// TestDialect026HardLinkBareFileID: the 0.26 client sends a hard link's target as a bare
// file id; it is taken as one in its sessions, and refused in the current client's.
func TestDialect026HardLinkBareFileID(t *testing.T) {
	for _, d := range []scanner.Dialect{scanner.Dialect026, scanner.DialectCurrent} {
		t.Run(d.String(), func(t *testing.T) {
			h := newUpHarness(t)
			h.raw("id=s;ac=send", d)
			wantReplies(t, h, h.do(fileCmd("s", "1", "a.txt")), "status fid=1 st=STARTED n=~/a.txt")
			wantReplies(t, h, h.do(endCmd("s", "1", []byte("aaa\n"))), "status fid=1 st=OK n=~/a.txt sz=4")
			link := fileCmd("s", "2", "h.txt")
			link.FileType = scanner.FileLink
			wantReplies(t, h, h.do(link), "status fid=2 st=STARTED n=~/h.txt")
			got := h.do(endCmd("s", "2", []byte("1")))
			if d == scanner.DialectCurrent {
				wantReplies(t, h, got, "status fid=2 st="+scanner.StatusUnknownLinkTarget)
				return
			}
			wantReplies(t, h, got, "status fid=2 st=OK n=~/h.txt sz=1")
			a, err1 := os.Stat(filepath.Join(h.home, "a.txt"))
			l, err2 := os.Stat(filepath.Join(h.home, "h.txt"))
			if err1 != nil || err2 != nil || !os.SameFile(a, l) {
				t.Errorf("h.txt is not a hard link of a.txt: %v %v", err1, err2)
			}
		})
	}
}

// TestDialect026RsyncUpload: with the 0.26 client, the terminal signs the existing file in
// librsync's format (RK-BLAKE2, the block length that client's librsync would pick) and
// patches librsync's delta; a delta without END leaves the original alone.
func TestDialect026RsyncUpload(t *testing.T) {
	old := testdata.RandomBytes(1, 300_000)
	newData := slices.Concat(old[:1000], []byte("inserted bytes"), old[1000:250_000], testdata.RandomBytes(2, 5000))
	for _, broken := range []bool{false, true} {
		h := newUpHarness(t)
		p := filepath.Join(h.home, "r.bin")
		must(t, os.WriteFile(p, old, 0o644))
		h.raw("id=s;ac=send", scanner.Dialect026)
		sig := rsyncStart(t, h, "1", "r.bin", false, len(old))
		want := librsync.DefaultParams(int64(len(old)))
		s, err := librsync.ParseSignature(sig)
		if err != nil || s.Params() != want {
			t.Fatalf("signature: %v, %v; want librsync's with %+v", s, err, want)
		}
		delta, err := io.ReadAll(librsync.NewDiffer(s, bytes.NewReader(newData)))
		must(t, err)
		if len(delta) > len(newData)/4 {
			t.Errorf("delta of %d bytes for a mostly unchanged %d-byte file", len(delta), len(newData))
		}
		if broken {
			got := sendPackets(h, "1", delta[:len(delta)-1]) // no END
			wantReplies(t, h, got[len(got)-1:], "status fid=1 st="+scanner.StatusDeltaCorrupt)
			if !bytes.Equal([]byte(readFile(t, p)), old) {
				t.Error("a broken delta changed the original")
			}
		} else {
			got := sendPackets(h, "1", delta)
			wantReplies(t, h, got[len(got)-1:], "status fid=1 st=OK n=~/r.bin sz="+itoa(len(newData)))
			if !bytes.Equal([]byte(readFile(t, p)), newData) {
				t.Error("patched file differs")
			}
		}
		noDebris(t, h.root)
	}
}

// TestDialect026RsyncDownload: with the 0.26 client, whose spec names come padded, the
// terminal reads the client's librsync signature and answers with a librsync delta, in
// padded packets.
func TestDialect026RsyncDownload(t *testing.T) {
	h := newDLHarness(t, dlAllow, fs.Limits{})
	path, newData, old := rsyncFixture(t, h.home)

	spec := specCmd("t", "0", "f")
	spec.Padded = true // as the 0.26 client sends every base64 value
	got := h.do(receiveCmd("t", 1), spec)
	if len(got) != 3 || statusLine(got[0]) != ":OK" || !got[0].Padded || !got[1].Padded || !got[2].Padded {
		t.Fatalf("want padded OK, entry, OK; got\n%s", h.show(got))
	}
	sig, err := io.ReadAll(librsync.NewSignatureReader(bytes.NewReader(old), librsync.DefaultParams(int64(len(old)))))
	must(t, err)
	rq := requestCmd("t", "1", path, false)
	rq.Transmit = scanner.TransmitRsync
	got = h.do(append([]scanner.Command{rq}, signaturePackets("t", "1", sig)...)...)
	for _, c := range got {
		if len(c.Data)%3 != 0 && !c.Padded {
			t.Fatalf("a data packet of %d bytes is not padded", len(c.Data))
		}
	}
	delta := fileData(t, got, "1", false)
	var out bytes.Buffer
	p := librsync.NewPatcher(bytes.NewReader(old), int64(len(old)), &out)
	_, err = p.Write(delta)
	if err == nil {
		err = p.Close()
	}
	if err != nil || !bytes.Equal(out.Bytes(), newData) {
		t.Fatalf("patching the delta: %v (same: %v)", err, bytes.Equal(out.Bytes(), newData))
	}
	if len(delta) > len(newData)/10 {
		t.Errorf("delta of %d bytes for a %d-byte file", len(delta), len(newData))
	}
}
