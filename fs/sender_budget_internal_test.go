package fs

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/internal/inflate"
	"github.com/xferterm/xferterm/rsync"
)

// TestSenderComesBackLaterOverMatchingBlocks: the delta of a large identical file is
// produced in bounded steps. packet answers errNotYet while the differ works through
// matching blocks (so Pull releases the engine's lock), never counts that as a stuck
// source, and the packets carry exactly the delta.
func TestSenderComesBackLaterOverMatchingBlocks(t *testing.T) {
	data := make([]byte, 24<<20+777)
	_, _ = rand.NewChaCha8([32]byte{9}).Read(data) // Never fails.
	p := filepath.Join(t.TempDir(), "same.bin")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	bs := rsync.BlockSize(int64(len(data)))
	raw, err := io.ReadAll(rsync.NewSignatureReader(bytes.NewReader(data), bs))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := rsync.ParseSignature(raw)
	if err != nil {
		t.Fatal(err)
	}
	want, err := io.ReadAll(rsync.NewDiffer(sig, bytes.NewReader(data)))
	if err != nil {
		t.Fatal(err)
	}

	for _, zip := range []bool{false, true} {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		s := &sender{req: &request{fid: "1", rsync: true, zlib: zip}, buf: make([]byte, sendBufSize)}
		s.file = &fileSource{f: f, left: st.Size, size: st.Size, mtime: st.Mtim}
		s.src = rsync.NewDiffer(sig, s.file)
		if zip {
			z := newDeflater()
			z.reset(s.src)
			s.src = z
		}
		var got []byte
		later := 0
		for {
			pkt, last, err := s.packet()
			if errors.Is(err, errNotYet) {
				later++
				continue
			}
			if err != nil {
				t.Fatalf("zip %v: packet: %v", zip, err)
			}
			if len(pkt) > MaxDataPacket {
				t.Fatalf("zip %v: packet of %d bytes", zip, len(pkt))
			}
			got = append(got, pkt...)
			if last {
				break
			}
		}
		s.close()
		if later < 4 {
			t.Errorf("zip %v: packet came back later %d times over %d identical bytes, want at least 4", zip, later, len(data))
		}
		if zip {
			got = inflateAll(t, got)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("zip %v: the packets carry %d bytes, not the %d-byte delta", zip, len(got), len(want))
		}
	}
}

func inflateAll(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	z := inflate.New(&out)
	if _, err := z.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
