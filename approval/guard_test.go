package approval_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xferterm/xferterm/approval"
)

func testGuard(t *testing.T, protected ...string) *approval.Guard {
	t.Helper()
	c := approval.Defaults(testPaths())
	c.Protected = protected
	g, err := approval.NewGuard(c, "/srv/xferterm-config", "/home/u/weird[dir]")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGuardWrite(t *testing.T) {
	g := testGuard(t, "~/work/*.env", "*.sqlite", "/opt/app/")
	tests := []struct {
		name   string
		path   string
		reason string // "" when not sensitive; else a substring of the reason
	}{
		{"a plain file in home", "/home/u/report.pdf", ""},
		{"a nested file in home", "/home/u/photos/2026/a.jpg", ""},
		{"a file in the temp dir", "/tmp/x", ""},
		{"a file whose name merely starts like a protected one", "/home/u/.sshx", "~/.*"},
		{"a non-dot name that starts like a protected dir", "/home/u/binaries/x", ""},
		{"ssh keys", "/home/u/.ssh/authorized_keys", "protected location ~/.ssh/"},
		{"the ssh directory itself", "/home/u/.ssh", "~/.ssh/"},
		{"a shell start-up file", "/home/u/.bashrc", "~/.bashrc"},
		{"zsh start-up", "/home/u/.zshenv", "~/.zshenv"},
		{"systemd user units", "/home/u/.config/systemd/user/evil.service", "~/.config/systemd/"},
		{"autostart", "/home/u/.config/autostart/x.desktop", "~/.config/autostart/"},
		{"fish config", "/home/u/.config/fish/config.fish", "~/.config/fish/"},
		{"~/.local/bin", "/home/u/.local/bin/ls", "~/.local/bin/"},
		{"~/bin", "/home/u/bin/ls", "~/bin/"},
		{"git config", "/home/u/.gitconfig", "~/.gitconfig"},
		{"gnupg", "/home/u/.gnupg/gpg.conf", "~/.gnupg/"},
		{"netrc", "/home/u/.netrc", "~/.netrc"},
		{"xferterm's own config", "/home/u/.config/xferterm/config.toml", "~/.config/xferterm/"},
		{"any other dotfile in home", "/home/u/.foorc", "~/.*"},
		{"anything in any other dot-directory", "/home/u/.mozilla/firefox/x/prefs.js", "~/.*/"},
		{"a dotfile deeper down is fine", "/home/u/project/.gitignore", ""},
		{"a configured anchored glob", "/home/u/work/prod.env", "~/work/*.env"},
		{"a configured glob does not cross directories", "/home/u/work/a/prod.env", ""},
		{"a configured name pattern matches anywhere", "/home/u/data/app.sqlite", "*.sqlite"},
		{"a private directory given to NewGuard", "/srv/xferterm-config/key", "/srv/xferterm-config/"},
		{"a private directory with glob characters is literal", "/home/u/weird[dir]/x", "weird"},
		{"outside the write roots", "/etc/passwd", "outside the allowed directories"},
		{"a configured anchored directory outside the roots", "/opt/app/x", "/opt/app/"},
		{"the root", "/", "outside"},
		{"a sibling of home with the same prefix", "/home/u2/x", "outside"},
		{"dot-dot is cleaned first", "/home/u/docs/../.ssh/id_rsa", "~/.ssh/"},
		{"dot-dot out of home", "/home/u/../../etc/cron.d/x", "outside"},
		{"device files", "/dev/sda", "/dev/"},
		{"a relative path", "notes.txt", "not an absolute path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := g.Write(tt.path, -1)
			if tt.reason == "" {
				if v.Sensitive || v.Reason != "" {
					t.Fatalf("Write(%q) = %+v, want not sensitive", tt.path, v)
				}
				return
			}
			if !v.Sensitive || !strings.Contains(v.Reason, tt.reason) {
				t.Fatalf("Write(%q) = %+v, want sensitive because of %q", tt.path, v, tt.reason)
			}
		})
	}
	if v := g.Write("/home/u/a.txt", 1234); !v.Overwrite || v.Sensitive {
		t.Errorf("overwrite of a plain file: %+v", v)
	}
	if v := g.Write("/home/u/a.txt", 0); !v.Overwrite {
		t.Errorf("overwrite of an empty file: %+v", v)
	}
	if v := g.Write("/home/u/a.txt", -1); v.Overwrite {
		t.Errorf("a new file: %+v", v)
	}
}

func TestGuardWriteRoots(t *testing.T) {
	c := approval.Defaults(testPaths())
	c.WriteRoots = []string{"/"}
	g, err := approval.NewGuard(c)
	if err != nil {
		t.Fatal(err)
	}
	if v := g.Write("/etc/motd", -1); v.Sensitive {
		t.Errorf("root as a write root: %+v", v)
	}
	if v := g.Write("/proc/self/mem", -1); !v.Sensitive {
		t.Errorf("protected wins over the roots: %+v", v)
	}
	c.WriteRoots = nil
	g, err = approval.NewGuard(c)
	if err != nil {
		t.Fatal(err)
	}
	if v := g.Write("/home/u/a", -1); !v.Sensitive {
		t.Errorf("no write roots: %+v", v)
	}
}

func TestGuardRead(t *testing.T) {
	g := testGuard(t)
	tests := []struct {
		name   string
		path   string
		isDir  bool
		reason string
	}{
		{"a document", "/home/u/docs/report.pdf", false, ""},
		{"a directory of photos", "/home/u/photos", true, ""},
		{"a system file outside home", "/usr/share/dict/words", false, ""},
		{"an ssh private key", "/home/u/.ssh/id_ed25519", false, "~/.ssh/"},
		{"a private key outside ~/.ssh", "/home/u/backup/id_rsa", false, "private key"},
		{"a public key is not a private key", "/home/u/backup/id_rsa.pub", false, ""},
		{"a PEM file", "/home/u/certs/server.pem", false, "private key"},
		{"a .key file", "/srv/tls/site.key", false, "private key"},
		{"a password database", "/home/u/Passwords.kdbx", false, "private key"},
		{"a dotfile", "/home/u/project/.env", false, "hidden file"},
		{"inside a dot-directory", "/home/u/project/.git/config", false, "hidden file"},
		{"the home directory contains ~/.ssh", "/home/u", true, "contains protected location ~/.ssh/"},
		{"the root contains everything", "/", true, "contains"},
		{"a file named like home is not a directory", "/home/u", false, ""},
		{"proc", "/proc/self/environ", false, "/proc/"},
		{"the directory above proc", "/", true, "contains"},
		{"a private directory", "/srv/xferterm-config/bypass-key.pem", false, "/srv/xferterm-config/"},
		{"a relative path", "x", false, "not an absolute path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := g.Read(tt.path, tt.isDir)
			if tt.reason == "" {
				if v.Sensitive {
					t.Fatalf("Read(%q) = %+v, want not sensitive", tt.path, v)
				}
				return
			}
			if !v.Sensitive || !strings.Contains(v.Reason, tt.reason) {
				t.Fatalf("Read(%q) = %+v, want sensitive because of %q", tt.path, v, tt.reason)
			}
		})
	}
}

func TestNewGuardErrors(t *testing.T) {
	c := approval.Defaults(testPaths())
	c.WriteRoots = []string{"rel"}
	if _, err := approval.NewGuard(c); err == nil {
		t.Error("relative write root accepted")
	}
	c = approval.Defaults(testPaths())
	c.Protected = []string{"~/["}
	if _, err := approval.NewGuard(c); err == nil {
		t.Error("bad pattern accepted")
	}
	if _, err := approval.NewGuard(approval.Defaults(testPaths()), "rel"); err == nil {
		t.Error("relative private directory accepted")
	}
	for _, p := range approval.DefaultProtected() {
		if !strings.HasPrefix(p, "~/") && !strings.HasPrefix(p, "/") {
			t.Errorf("default pattern %q is not anchored", p)
		}
	}
}

// TestGuardRealPlaces: a protected location or a write root reached through a symbolic
// link is matched at its real place too, where the engine's resolved paths are.
func TestGuardRealPlaces(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir()) // /var is a link on macOS
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(base, "home")
	data := filepath.Join(base, "data")
	for _, d := range []string{filepath.Join(home, "Downloads"), filepath.Join(data, "ssh"), filepath.Join(data, "tmp"), filepath.Join(data, "keys")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		filepath.Join(home, ".ssh"): filepath.Join(data, "ssh"),  // the ssh directory kept elsewhere
		filepath.Join(base, "tmp"):  filepath.Join(data, "tmp"),  // like macOS's /tmp
		filepath.Join(base, "keys"): filepath.Join(data, "keys"), // a configured pattern's prefix
	} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	c := approval.Defaults(approval.Paths{Home: home, ConfigDir: filepath.Join(home, ".config/xferterm"), StateDir: filepath.Join(home, ".local/state/xferterm")})
	c.WriteRoots = []string{filepath.Join(home, "Downloads"), filepath.Join(base, "tmp")}
	c.Protected = []string{filepath.Join(base, "keys") + "/*.txt"}
	g, err := approval.NewGuard(c)
	if err != nil {
		t.Fatal(err)
	}
	real := func(p string) string { return filepath.Join(data, p) }
	for _, tc := range []struct {
		name   string
		read   bool
		path   string
		reason string // "" when not sensitive
	}{
		{"read of the ssh directory's real place", true, real("ssh/authorized_keys"), "~/.ssh/"},
		{"write to the ssh directory's real place", false, real("ssh/authorized_keys"), "~/.ssh/"},
		{"read of the literal path, as before", true, filepath.Join(home, ".ssh/authorized_keys"), "~/.ssh/"},
		{"write into the real place of a write root", false, real("tmp/x"), ""},
		{"write beside it", false, real("other"), "outside the allowed directories"},
		{"a configured pattern at its real place", true, real("keys/a.txt"), "keys/*.txt"},
		{"what it does not match there", true, real("keys/a.bin"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v approval.Verdict
			if tc.read {
				v = g.Read(tc.path, false)
			} else {
				v = g.Write(tc.path, -1)
			}
			if v.Sensitive != (tc.reason != "") || !strings.Contains(v.Reason, tc.reason) {
				t.Errorf("%s: %+v, want reason %q", tc.path, v, tc.reason)
			}
		})
	}
	if !g.KeepsMode(real("tmp")) {
		t.Error("the real place of a write root may be given another mode")
	}
}
