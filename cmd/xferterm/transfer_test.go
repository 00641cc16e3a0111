package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/client"
)

// freeFD returns a descriptor number below 256 that is not open in this process.
func freeFD(t *testing.T) int {
	t.Helper()
	for fd := 200; fd < 256; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); errors.Is(err, unix.EBADF) {
			return fd
		}
	}
	t.Fatal("no free file descriptor below 256")
	return -1
}

// pipeAt returns a pipe's read end duplicated onto a free descriptor number below 256,
// with content written and the write end closed; the descriptor is closed at cleanup.
func pipeAt(t *testing.T, content string) int {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	if _, err := w.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	from := freeFD(t)
	rc, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	// F_DUPFD_CLOEXEC: the lowest free number from `from` on (that one, unless another
	// test took it meanwhile), close-on-exec from the start. dup3 is not on macOS.
	var fd int
	var dupErr error
	if err := rc.Control(func(src uintptr) { fd, dupErr = unix.FcntlInt(src, unix.F_DUPFD_CLOEXEC, from) }); err != nil {
		t.Fatal(err)
	}
	if dupErr != nil {
		t.Fatal(dupErr)
	}
	t.Cleanup(func() { _ = unix.Close(fd) })
	if fd >= 256 {
		t.Fatalf("descriptor %d, want one below 256", fd)
	}
	return fd
}

func TestTransferPassword(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Chdir(home)
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(home, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // umask-proof
			t.Fatal(err)
		}
		return p
	}
	private := write("private", "  from a file\n", 0o600)
	write("tilde", "from ~\n", 0o600)
	open := write("open", "world readable\n", 0o644)
	empty := write("empty", " \n", 0o600)
	pipeFD := pipeAt(t, "\tfrom a pipe\n")
	emptyFD := pipeAt(t, "\n")
	dir, err := os.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = dir.Close() }()

	tests := []struct {
		name    string
		args    []string
		stdin   string
		want    string // "" with no wantErr: no password
		wantErr string
	}{
		{name: "neither flag", args: nil},
		{name: "literal", args: []string{"-p", " s3cret "}, want: "s3cret"},
		{name: "file", args: []string{"-p", private}, want: "from a file"},
		{name: "relative file", args: []string{"-p", "./" + filepath.Base(private)}, want: "from a file"},
		{name: "~/file", args: []string{"--permissions-bypass", "~/tilde"}, want: "from ~"},
		{name: "--password-file", args: []string{"--password-file", private}, want: "from a file"},
		{name: "stdin", args: []string{"-p", "-"}, stdin: " from stdin \n", want: "from stdin"},
		{name: "fd 0 is stdin", args: []string{"-p", "0"}, stdin: "fd zero\n", want: "fd zero"},
		{name: "a file descriptor", args: []string{"-p", strconv.Itoa(pipeFD)}, want: "from a pipe"},
		{name: "a number of 256 or more is a password", args: []string{"-p", "256"}, want: "256"},

		{name: "a world-readable file", args: []string{"-p", open}, wantErr: "must not be accessible by group or others"},
		{name: "a world-readable --password-file", args: []string{"--password-file", open}, wantErr: "must not be accessible by group or others"},
		{name: "a missing file", args: []string{"-p", "/nonexistent/pw"}, wantErr: "no such file"},
		{name: "an empty file", args: []string{"-p", empty}, wantErr: "empty"},
		{name: "empty stdin", args: []string{"-p", "-"}, stdin: "  \n", wantErr: "empty"},
		{name: "an empty pipe", args: []string{"-p", strconv.Itoa(emptyFD)}, wantErr: "empty"},
		{name: "a closed descriptor", args: []string{"-p", strconv.Itoa(freeFD(t))}, wantErr: "bad file descriptor"},
		{name: "a directory descriptor", args: []string{"-p", strconv.Itoa(int(dir.Fd()))}, wantErr: "not a file, pipe"},
		{name: "too long on stdin", args: []string{"-p", "-"}, stdin: strings.Repeat("x", maxBypassPassword+1), wantErr: "longer than"},
		{name: "both flags", args: []string{"-p", "s3cret", "--password-file", private}, wantErr: "cannot be used together"},
		{name: "an empty literal", args: []string{"-p", ""}, wantErr: "empty password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret, err := func() (string, error) {
				cl, err := client.ParseCommandLine(append(tt.args, "a", "b"), &strings.Builder{})
				if err != nil {
					return "", err
				}
				s, err := transferPassword(cl, strings.NewReader(tt.stdin))
				return s.Reveal(), err
			}()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if secret != tt.want {
				t.Errorf("password %q, want %q", secret, tt.want)
			}
		})
	}
}

// The built command refuses a world-readable -p file before it needs a terminal, and
// says why; a usage error does not show the password.
func TestTransferBypassErrors(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "pw")
	if err := os.WriteFile(open, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-p", open, "a", "b"}, "must not be accessible by group or others"},
		{[]string{"-p", "s3cret", "--password-file", open, "a", "b"}, "cannot be used together"},
	} {
		cmd := exec.Command(xferterm, append([]string{"transfer"}, tc.args...)...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Fatalf("%q: %v, want exit status 1; output %q", tc.args, err, out)
		}
		if !strings.Contains(string(out), tc.want) || strings.Contains(string(out), "s3cret") {
			t.Errorf("%q: output %q, want %q and no password", tc.args, out, tc.want)
		}
	}
}
