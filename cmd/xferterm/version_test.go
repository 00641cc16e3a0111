package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// versionLine is what --version prints.
var versionLine = regexp.MustCompile(`^xferterm (\S+) \(commit ([0-9a-f]{12}|unknown)(, modified)?\) (go\S+)\n$`)

// TestVersion runs the static binary TestMain built: `xferterm --version` and `xferterm
// transfer --version` print the same line, with the Go release that built it.
func TestVersion(t *testing.T) {
	if f, err := elf.Open(xferterm); err != nil {
		t.Fatal(err)
	} else {
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("the binary asks for a dynamic loader: it is not static")
			}
		}
		_ = f.Close() // Read only.
	}
	var lines []string
	for _, args := range [][]string{{"--version"}, {"transfer", "--version"}} {
		out, err := exec.Command(xferterm, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("xferterm %s: %v, %q", strings.Join(args, " "), err, out)
		}
		lines = append(lines, string(out))
	}
	if lines[0] != lines[1] {
		t.Errorf("xferterm --version printed %q, xferterm transfer --version %q", lines[0], lines[1])
	}
	m := versionLine.FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("--version printed %q", lines[0])
	}
	if m[4] != runtime.Version() {
		t.Errorf("Go release %q, want %q", m[4], runtime.Version())
	}
}

// TestVersionFromGit builds a copy of the module in a git repository of its own, as a
// clone is: the version names the commit, and a changed work tree is marked modified.
func TestVersionFromGit(t *testing.T) {
	repo := t.TempDir()
	copyModule(t, filepath.Join("..", ".."), repo)
	git := func(args ...string) string {
		t.Helper()
		// The repository is named explicitly, so that no other one is ever touched.
		cmd := exec.Command("git", append([]string{"--git-dir", filepath.Join(repo, ".git"), "--work-tree", repo,
			"-c", "user.name=test", "-c", "user.email=test@example.com"}, args...)...)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "a commit")
	head := git("rev-parse", "HEAD")

	for _, modified := range []bool{false, true} {
		if modified {
			writeFile(t, filepath.Join(repo, "README.md"), "changed\n")
		}
		m := versionLine.FindStringSubmatch(buildVersion(t, repo, "-buildvcs=auto"))
		switch {
		case m == nil:
			t.Fatal("no version line")
		case m[2] != head[:12]:
			t.Errorf("commit %q, want %q", m[2], head[:12])
		case (m[3] != "") != modified:
			t.Errorf("modified mark %q, want it %v", m[3], modified)
		case !strings.HasPrefix(m[1], "v0.0.0-") || !strings.Contains(m[1], head[:12]):
			t.Errorf("version %q, want a pseudo-version of the commit", m[1])
		}
	}
}

// buildVersion builds cmd/xferterm of the module in dir, statically, with the given flags,
// and returns what its --version prints.
func buildVersion(t *testing.T, dir string, flags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "xferterm")
	build := exec.Command("go", append(append([]string{"build", "-trimpath"}, flags...), "-o", bin, "./cmd/xferterm")...)
	build.Dir, build.Env = dir, goBuildEnv
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// copyModule copies the module's files from src to dst: not its .git (a directory in a
// clone, a file in a git worktree), nor built binaries.
func copyModule(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path) // path is below src.
		switch name := d.Name(); {
		case rel == ".":
			return nil
		case name == ".git" && d.IsDir(), d.IsDir() && (name == "bin" || name == "dist"):
			return filepath.SkipDir
		case name == ".git":
			return nil
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVersionUnknown builds without version control information: the version is devel
// and the commit unknown.
func TestVersionUnknown(t *testing.T) {
	got := buildVersion(t, filepath.Join("..", ".."), "-buildvcs=false")
	if want := "xferterm devel (commit unknown) " + runtime.Version() + "\n"; got != want {
		t.Errorf("--version printed %q, want %q", got, want)
	}
}
