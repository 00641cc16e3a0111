package fs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// FuzzRealPath: wherever a path leads through a tree of links (chains, loops, "..",
// absolute and relative texts), realPath finds the file the kernel finds: the same
// device and inode when the path can be stat'ed, an error only for a loop; and its
// answer is always absolute and clean.
func FuzzRealPath(f *testing.F) {
	root := f.TempDir()
	for _, d := range []string{"a/b/c", "home/.ssh", "x"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "home/.ssh/key"), []byte("k"), 0o600); err != nil {
		f.Fatal(err)
	}
	for link, to := range map[string]string{
		"home/photos": ".ssh", "home/up": "..", "a/b/c/top": "../../..", "a/abs": filepath.Join(root, "home"),
		"x/loop1": "loop2", "x/loop2": "loop1", "x/chain": "../home/photos/../photos", "a/b/dot": ".",
		"a/dangling": "nowhere/../home", "x/keylink": "../home/photos/key",
	} {
		if err := os.Symlink(to, filepath.Join(root, link)); err != nil {
			f.Fatal(err)
		}
	}
	for _, seed := range []string{"home/photos/key", "a/b/c/top/home/up/x", "x/chain/key", "x/loop1/a", "a/abs/photos/../photos",
		"a/b/dot/dot/../c", "a/dangling/..", "x/keylink", "home/photos/..", "../../..", "a//b/./c/"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, rel string) {
		if strings.IndexByte(rel, 0) >= 0 || len(rel) > 512 {
			return
		}
		p := root + "/" + rel
		got, _, err := realPath(p)
		want, werr := os.Stat(p)
		if err != nil {
			if !errors.Is(err, syscall.ELOOP) || !errors.Is(werr, syscall.ELOOP) {
				t.Fatalf("realPath(%q): %v; stat: %v", p, err, werr)
			}
			return
		}
		if !filepath.IsAbs(got) || filepath.Clean(got) != got {
			t.Fatalf("realPath(%q) = %q: not absolute and clean", p, got)
		}
		if werr != nil {
			return // nothing there: realPath says where it would be
		}
		if st, err := os.Stat(got); err != nil || !os.SameFile(st, want) {
			t.Fatalf("realPath(%q) = %q, which is not the file the kernel reaches (%v)", p, got, err)
		}
	})
}
