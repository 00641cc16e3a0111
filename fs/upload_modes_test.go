package fs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// TestUploadDirectoryModes (finding 8): a directory entry gets the remote's permissions
// at finish only where the approval side allowed it (Decision.SetMode: never HOME, a
// write root or above; an existing directory opened to others only when asked), and
// only the very directory the entry made or found: one put in its place meanwhile keeps
// its mode. The request says what is there and what the remote asks for.
func TestUploadDirectoryModes(t *testing.T) {
	var reqs []transfer.Item
	h := newUpHarness(t, withApprover(approveFunc(func(r transfer.Request) transfer.Decision {
		if r.File == nil {
			return transfer.Decision{Allow: true}
		}
		reqs = append(reqs, *r.File)
		return transfer.Decision{Allow: true, SetMode: filepath.Base(r.File.Path) != "kept"}
	})))
	for name, mode := range map[string]os.FileMode{"kept": 0o700, "changed": 0o755, "swapped": 0o755} {
		p := filepath.Join(h.home, name)
		must(t, os.Mkdir(p, 0o700))
		must(t, os.Chmod(p, mode))
	}
	h.start("s")
	for i, e := range []struct {
		name string
		prm  int64
	}{{"kept", 0o777}, {"changed", 0o700}, {"fresh", 0o750}, {"swapped", 0o700}} {
		d := withMode(fileCmd("s", itoa(i+1), e.name), e.prm)
		d.FileType = scanner.FileDirectory
		wantReplies(t, h, h.do(d), "status fid="+itoa(i+1)+" st=OK n=~/"+e.name)
	}
	// Another directory takes the place of "swapped" before the finish.
	swapped := filepath.Join(h.home, "swapped")
	must(t, os.Rename(swapped, swapped+".old"))
	must(t, os.Mkdir(swapped, 0o700))
	must(t, os.Chmod(swapped, 0o711))
	h.do(scanner.Command{Action: scanner.ActionFinish, ID: "s"})

	for name, want := range map[string]os.FileMode{
		"kept": 0o700, "changed": 0o700, "fresh": 0o750, "swapped": 0o711, "swapped.old": 0o755,
	} {
		st, err := os.Stat(filepath.Join(h.home, name))
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", name, st.Mode().Perm(), err, want)
		}
	}
	if len(reqs) != 4 || !reqs[0].Exists || reqs[0].Mode != 0o700 || reqs[0].Perm != scanner.Some(0o777) || reqs[2].Exists {
		t.Errorf("requests %+v", reqs)
	}
}
