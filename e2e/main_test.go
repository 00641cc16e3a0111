package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// suite is what TestMain prepares once for every test: the xferterm binary and the tools found.
// It is written only by TestMain, before any test runs.
var suite struct {
	bin      string            // absolute path of the xferterm binary under test
	buildErr error             // why the binary could not be built, if it could not
	tools    map[string]string // tool name → absolute path
	missing  []string          // tools that were not found
}

// requiredTools are the programs the end-to-end tests drive (Debian: openssh-server,
// openssh-client, tmux, screen, and kitty for its 0.26 transfer client). `make deps` installs them.
var requiredTools = []string{"sshd", "ssh", "ssh-keygen", "scp", "tmux", "screen", "kitty"}

// TestMain builds bin/xferterm into a temporary directory (with -race when the tests run under the
// race detector) and looks up the tools. XFERTERM_E2E_BIN=/path/to/xferterm tests a given binary
// instead of building one.
func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "xferterm-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }() // Best effort: it is a temporary directory.

	suite.bin, suite.buildErr = buildBinary(dir)
	suite.tools = map[string]string{}
	for _, name := range requiredTools {
		if p, err := lookTool(name); err == nil {
			suite.tools[name] = p
		} else {
			suite.missing = append(suite.missing, name)
		}
	}
	return m.Run()
}

// buildBinary builds ./cmd/xferterm as dir/xferterm, or links $XFERTERM_E2E_BIN there when that
// is set. The shells find it on PATH as `xferterm`.
func buildBinary(dir string) (string, error) {
	bin := filepath.Join(dir, "xferterm")
	if p := os.Getenv("XFERTERM_E2E_BIN"); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("XFERTERM_E2E_BIN: %w", err)
		}
		return bin, os.Symlink(abs, bin)
	}
	args := []string{"build"}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "-o", bin, "github.com/xferterm/xferterm/cmd/xferterm")
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin, nil
}

// lookTool finds name on PATH, then in the sbin directories that a non-root PATH often lacks.
// sshd must be started by its absolute path (it re-executes itself).
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return filepath.Abs(p)
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New("not found")
}

// requireSuite stops the test with a failure (never a skip: a skipped end-to-end test reads as a
// pass in `go test ./...`) when a tool is missing or the binary did not build.
func requireSuite(tb testing.TB) {
	tb.Helper()
	if len(suite.missing) > 0 {
		how := "run: make deps (apt-get install --no-install-recommends openssh-server openssh-client tmux screen kitty)"
		if os.Getenv("CI") != "" {
			how += " (make test does this as root)"
		}
		tb.Fatalf("e2e: %s not found; %s", strings.Join(suite.missing, ", "), how)
	}
	if suite.buildErr != nil {
		tb.Fatalf("e2e: cannot build xferterm: %v", suite.buildErr)
	}
}
