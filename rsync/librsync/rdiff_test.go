package librsync_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/xferterm/xferterm/rsync/librsync"
)

// rdiffPath finds rdiff (Debian: rdiff, which .ci/run installs): the tests cross-check this
// package against the real librsync through it, and fail without it.
func rdiffPath(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("rdiff")
	if err != nil {
		tb.Fatalf("rdiff not found (apt-get install rdiff): the cross-checks against librsync need it: %v", err)
	}
	return p
}

// rdiff runs rdiff with args in dir and fails the test on error.
func rdiff(tb testing.TB, dir string, args ...string) {
	tb.Helper()
	cmd := exec.Command(rdiffPath(tb), args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("rdiff %v: %v\n%s", args, err, out)
	}
}

// crossCase is an old and a new file.
type crossCase struct {
	name     string
	old, new []byte
}

// crossCases returns edits of random and low-entropy data of various sizes.
func crossCases(seed uint64) []crossCase {
	rng := rand.New(rand.NewPCG(seed, 7))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	lowEntropy := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = "ab\n"[rng.IntN(3)]
		}
		return b
	}
	edit := func(b []byte) []byte {
		out := append([]byte(nil), b...)
		for range 1 + rng.IntN(4) {
			if len(out) == 0 {
				break
			}
			at := rng.IntN(len(out))
			switch rng.IntN(3) {
			case 0: // insert
				out = append(out[:at], append(random(1+rng.IntN(700)), out[at:]...)...)
			case 1: // delete
				out = append(out[:at], out[min(len(out), at+1+rng.IntN(900)):]...)
			default: // flip
				out[at] ^= 0x5a
			}
		}
		return out
	}
	var cs []crossCase
	for _, n := range []int{0, 1, 255, 256, 257, 4096, 70000, 300001} {
		old := random(n)
		cs = append(cs, crossCase{fmt.Sprintf("random %d edited", n), old, edit(old)})
		lo := lowEntropy(n)
		cs = append(cs, crossCase{fmt.Sprintf("low entropy %d edited", n), lo, edit(lo)})
	}
	same := random(100000)
	cs = append(cs,
		crossCase{"identical", same, same},
		crossCase{"new is empty", same, nil},
		crossCase{"old is empty", nil, same},
		crossCase{"moved halves", same, append(append([]byte(nil), same[50000:]...), same[:50000]...)},
	)
	return cs
}

// TestAgainstRdiff: for each case and both weak sums, this package's signature is byte for
// byte librsync's; librsync patches this package's delta into the new file; and this
// package patches librsync's delta into the new file.
func TestAgainstRdiff(t *testing.T) {
	rdiffPath(t)
	for _, rollsum := range []string{"rabinkarp", "rollsum"} {
		for _, c := range crossCases(1) {
			t.Run(rollsum+"/"+c.name, func(t *testing.T) {
				dir := t.TempDir()
				write := func(name string, b []byte) string {
					p := filepath.Join(dir, name)
					if err := os.WriteFile(p, b, 0o600); err != nil {
						t.Fatal(err)
					}
					return p
				}
				write("old", c.old)
				write("new", c.new)
				params := librsync.DefaultParams(int64(len(c.old)))
				if rollsum == "rollsum" {
					params.Magic = librsync.Blake2Magic
				}
				rdiff(t, dir, "signature", "-H", "blake2", "-R", rollsum,
					"-b", fmt.Sprint(params.BlockLen), "-S", fmt.Sprint(params.StrongLen), "old", "old.sig")
				want, err := os.ReadFile(filepath.Join(dir, "old.sig"))
				if err != nil {
					t.Fatal(err)
				}
				got := readAll(t, librsync.NewSignatureReader(bytes.NewReader(c.old), params))
				if !bytes.Equal(got, want) {
					t.Fatalf("signature differs from rdiff's: got %d bytes %x…, want %d bytes %x…",
						len(got), got[:min(40, len(got))], len(want), want[:min(40, len(want))])
				}

				// Our delta, rdiff's patch.
				sig, err := librsync.ParseSignature(want)
				if err != nil {
					t.Fatal(err)
				}
				delta := readAll(t, librsync.NewDiffer(sig, bytes.NewReader(c.new)))
				write("ours.delta", delta)
				rdiff(t, dir, "patch", "old", "ours.delta", "ours.out")
				if out, _ := os.ReadFile(filepath.Join(dir, "ours.out")); !bytes.Equal(out, c.new) {
					t.Fatalf("rdiff patched our delta (%d bytes) into %d bytes, want the %d of the new file", len(delta), len(out), len(c.new))
				}

				// rdiff's delta, our patch.
				rdiff(t, dir, "delta", "old.sig", "new", "theirs.delta")
				theirs, err := os.ReadFile(filepath.Join(dir, "theirs.delta"))
				if err != nil {
					t.Fatal(err)
				}
				if out := patch(t, c.old, theirs); !bytes.Equal(out, c.new) {
					t.Fatalf("our patch of rdiff's delta gave %d bytes, want the %d of the new file", len(out), len(c.new))
				}
				// Efficiency: an unedited stretch is copied, so our delta stays close to
				// librsync's, never the size of the whole file when most of it matched.
				if len(delta) > len(theirs)+len(theirs)/4+2*params.BlockLen+64 {
					t.Errorf("our delta is %d bytes, librsync's %d", len(delta), len(theirs))
				}
			})
		}
	}
}
