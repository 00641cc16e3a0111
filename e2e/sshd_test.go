package e2e

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// sshServer is a private OpenSSH sshd on 127.0.0.1 with its own host key, user key and
// authorized_keys, all in a temporary directory. No system configuration is read or written
// (only /run/sshd, sshd's privilege separation directory, is created when missing).
type sshServer struct {
	Port       int
	User       string
	Dir        string // the server's and client's files
	ClientKey  string // private key of the test user
	ClientConf string // ssh_config for ssh and scp: `ssh -F ClientConf e2e`
	HostAlias  string // the Host name in ClientConf

	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{} // closed when sshd has exited
}

// syncBuffer is a bytes.Buffer that sshd's stderr copier and the test may use at once.
type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startSSHD starts sshd and waits until it accepts connections. It is stopped in tb.Cleanup.
func startSSHD(tb testing.TB) *sshServer {
	tb.Helper()
	requireSuite(tb)
	dir := tb.TempDir()
	u, err := user.Current()
	if err != nil {
		tb.Fatal(err)
	}
	s := &sshServer{User: u.Username, Dir: dir, HostAlias: "e2e"}
	hostKey := filepath.Join(dir, "ssh_host_ed25519_key")
	s.ClientKey = filepath.Join(dir, "id_ed25519")
	keygen(tb, hostKey)
	keygen(tb, s.ClientKey)
	pub, err := os.ReadFile(s.ClientKey + ".pub")
	if err != nil {
		tb.Fatal(err)
	}
	authorized := filepath.Join(dir, "authorized_keys")
	writeFile(tb, authorized, pub, 0o600)

	if os.Geteuid() == 0 {
		// sshd running as root insists on its privilege separation directory.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			tb.Fatalf("e2e: sshd needs /run/sshd: %v", err)
		}
	}

	// A free port can be taken by someone else between our probe and sshd's bind: retry.
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		_ = os.Remove(filepath.Join(dir, "sshd.pid")) // Best effort: a failed attempt may leave one.
		port := freePort(tb)
		conf := filepath.Join(dir, "sshd_config")
		writeFile(tb, conf, []byte(sshdConfig(dir, port, hostKey, authorized)), 0o600)
		if lastErr = s.start(tb, conf, port); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		tb.Fatalf("e2e: starting sshd: %v", lastErr)
	}

	s.ClientConf = filepath.Join(dir, "ssh_config")
	writeFile(tb, s.ClientConf, []byte(fmt.Sprintf(`Host %s
	HostName 127.0.0.1
	Port %d
	User %s
	IdentityFile %s
	IdentitiesOnly yes
	UserKnownHostsFile %s
	StrictHostKeyChecking no
	BatchMode yes
	LogLevel ERROR
	SendEnv KITTY_PUBLIC_KEY XFERTERM_*
`, s.HostAlias, s.Port, s.User, s.ClientKey, filepath.Join(dir, "known_hosts"))), 0o600)
	return s
}

func sshdConfig(dir string, port int, hostKey, authorized string) string {
	return fmt.Sprintf(`ListenAddress 127.0.0.1
Port %d
HostKey %s
PidFile %s
AuthorizedKeysFile %s
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin yes
AcceptEnv KITTY_PUBLIC_KEY XFERTERM_*
Subsystem sftp internal-sftp
PrintMotd no
PrintLastLog no
X11Forwarding no
LogLevel ERROR
`, port, hostKey, filepath.Join(dir, "sshd.pid"), authorized)
}

// start runs sshd in the foreground (-D), logging to stderr (-e), and waits for its port.
func (s *sshServer) start(tb testing.TB, conf string, port int) error {
	tb.Helper()
	s.logs = &syncBuffer{}
	s.cmd = exec.Command(suite.tools["sshd"], "-D", "-e", "-f", conf)
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.logs
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.done = make(chan struct{})
	go func() {
		_ = s.cmd.Wait() // The exit is reported through done and the logs.
		close(s.done)
	}()
	// sshd writes its PidFile once its listening socket is bound. (Probing the port instead would
	// leave a "connection closed" error in the log.)
	pidFile := filepath.Join(filepath.Dir(conf), "sshd.pid")
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("sshd exited at start: %s", s.logs.String())
		default:
		}
		if fi, err := os.Stat(pidFile); err == nil && fi.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("sshd did not start on port %d within 10s: %s", port, s.logs.String())
		}
		time.Sleep(10 * time.Millisecond) // Polling interval under the deadline above.
	}
	s.Port = port
	tb.Cleanup(func() {
		s.stop()
		if tb.Failed() {
			if l := strings.TrimSpace(s.logs.String()); l != "" {
				tb.Logf("sshd log:\n%s", l)
			}
		}
	})
	return nil
}

// stop ends the listening sshd. Sessions it forked end with their connections (tmux is stopped
// first, so their ssh clients are gone).
func (s *sshServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM) // Best effort: it may have exited.
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill() // Best effort.
		<-s.done
	}
}

// keygen makes an ed25519 key pair without passphrase at path and path.pub.
func keygen(tb testing.TB, path string) {
	tb.Helper()
	out, err := exec.Command(suite.tools["ssh-keygen"], "-q", "-t", "ed25519", "-N", "", "-C", "xferterm-e2e", "-f", path).CombinedOutput()
	if err != nil {
		tb.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = l.Close() }() // Only probing.
	return l.Addr().(*net.TCPAddr).Port
}
