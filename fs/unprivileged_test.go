package fs_test

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// nobody is the unprivileged uid and gid tests switch to when they run as root.
const nobody = 65534

// unprivileged runs the calling test as an unprivileged user, for the cases that need
// the kernel to refuse a permission (an unwritable directory, a mode-000 file) and that
// root, whom mode bits do not stop, cannot reproduce. It reports whether the caller should
// go on in this process: true when the process is not root. As root, it copies the test
// binary into a world-readable directory, re-runs just this test there as uid/gid 65534
// (with TMPDIR a sticky, world-writable directory beside it, so the harnesses and their
// t.TempDir work unchanged), fails the test if that run fails or skips, and reports
// false. It skips when uid 65534 cannot be switched to or cannot reach that directory.
func unprivileged(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return true
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "xferterm-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) }) // Best effort: a temporary directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if st, err := os.Stat(d); err != nil || st.Mode().Perm()&0o001 == 0 {
			t.Skipf("running as root, and uid %d cannot reach %s: no way to re-run the test unprivileged", nobody, d)
		}
		if d == filepath.Dir(d) {
			break
		}
	}
	tmp := filepath.Join(dir, "tmp") // the child's TMPDIR, for its t.TempDir
	if err := os.Mkdir(tmp, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, 0o1777); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "fs.test")
	copyFile(t, self, bin, 0o755)

	var pattern []string
	for _, part := range strings.Split(t.Name(), "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	cmd := exec.CommandContext(t.Context(), bin, "-test.run="+strings.Join(pattern, "/"), "-test.v", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody, NoSetGroups: true}}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		// No CAP_SETUID (root in a user namespace without that uid), or a noexec /tmp.
		t.Skipf("running as root and cannot re-run the test as uid %d: %v", nobody, err)
	}
	err = cmd.Wait()
	pass := "--- PASS: " + t.Name() + " "
	if err != nil || !strings.Contains(out.String(), pass) {
		t.Fatalf("as uid %d: %v\n%s", nobody, err, out.String())
	}
	return false
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
