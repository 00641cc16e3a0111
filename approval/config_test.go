package approval_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xferterm/xferterm/approval"
)

func testPaths() approval.Paths {
	return approval.Paths{
		Home:      "/home/u",
		ConfigDir: "/home/u/.config/xferterm",
		StateDir:  "/home/u/.local/state/xferterm",
		TempDir:   "/tmp",
	}
}

func TestPathsFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want approval.Paths
	}{
		{"XDG fallbacks", map[string]string{"HOME": "/home/u/"}, testPaths()},
		{"XDG variables", map[string]string{"HOME": "/home/u", "XDG_CONFIG_HOME": "/cfg", "XDG_STATE_HOME": "/state", "TMPDIR": "/var/tmp"},
			approval.Paths{Home: "/home/u", ConfigDir: "/cfg/xferterm", StateDir: "/state/xferterm", TempDir: "/var/tmp"}},
		{"relative XDG variables are ignored", map[string]string{"HOME": "/home/u", "XDG_CONFIG_HOME": "cfg", "XDG_STATE_HOME": "state", "TMPDIR": "tmp"}, testPaths()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := approval.PathsFromEnv(func(k string) string { return tt.env[k] })
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	for _, home := range []string{"", "relative"} {
		if _, err := approval.PathsFromEnv(func(k string) string { return map[string]string{"HOME": home}[k] }); err == nil {
			t.Errorf("HOME=%q accepted", home)
		}
	}
	if got := testPaths().ConfigFile(); got != "/home/u/.config/xferterm/config.toml" {
		t.Errorf("ConfigFile() = %q", got)
	}
}

func TestDefaults(t *testing.T) {
	got := approval.Defaults(testPaths())
	want := approval.Config{
		Home:          "/home/u",
		WriteRoots:    []string{"/home/u", "/tmp"},
		PromptTimeout: 2 * time.Minute,
		AuditLog:      "/home/u/.local/state/xferterm/transfers.jsonl",
		Policy:        approval.PolicyAsk,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Defaults = %+v\nwant %+v", got, want)
	}
}

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	t.Run("a missing file gives the defaults", func(t *testing.T) {
		got, err := approval.Load(filepath.Join(t.TempDir(), "none.toml"), testPaths())
		if err != nil || !reflect.DeepEqual(got, approval.Defaults(testPaths())) {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
	t.Run("an empty file gives the defaults", func(t *testing.T) {
		got, err := approval.Load(writeConfig(t, "# nothing\n"), testPaths())
		if err != nil || !reflect.DeepEqual(got, approval.Defaults(testPaths())) {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
	t.Run("every key is read", func(t *testing.T) {
		p := writeConfig(t, `
password_file = "secrets/pw"
write_roots = ["~/incoming", "/srv/drop/"]
protected = ["~/work/.env", "*.sqlite"]
prompt_timeout = "45s"
audit_log = "~/logs/xfer.jsonl"
policy = "deny"
`)
		got, err := approval.Load(p, testPaths())
		if err != nil {
			t.Fatal(err)
		}
		want := approval.Config{
			Home:          "/home/u",
			PasswordFile:  filepath.Join(filepath.Dir(p), "secrets/pw"),
			WriteRoots:    []string{"/home/u/incoming", "/srv/drop"},
			Protected:     []string{"~/work/.env", "*.sqlite"},
			PromptTimeout: 45 * time.Second,
			AuditLog:      "/home/u/logs/xfer.jsonl",
			Policy:        approval.PolicyDeny,
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got  %+v\nwant %+v", got, want)
		}
	})
	t.Run("empty values clear optional settings", func(t *testing.T) {
		got, err := approval.Load(writeConfig(t, "audit_log = \"\"\nwrite_roots = []\npassword_file = \"\"\n"), testPaths())
		if err != nil || got.AuditLog != "" || len(got.WriteRoots) != 0 || got.PasswordFile != "" {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string // substrings of the error
	}{
		{"an unknown key", "pasword_file = \"x\"\n", []string{`unknown key "pasword_file"`}},
		{"an unknown table key", "[policy_table]\nx = 1\n", []string{"unknown key", "policy_table"}},
		{"invalid TOML", "policy = \n", []string{"config"}},
		{"a number for a duration", "prompt_timeout = 120\n", []string{"prompt_timeout"}},
		{"a bad duration", "prompt_timeout = \"soon\"\n", []string{"prompt_timeout", "not a duration"}},
		{"a zero duration", "prompt_timeout = \"0s\"\n", []string{"prompt_timeout", "not between"}},
		{"a negative duration", "prompt_timeout = \"-1m\"\n", []string{"prompt_timeout", "not between"}},
		{"a huge duration", "prompt_timeout = \"25h\"\n", []string{"prompt_timeout", "not between"}},
		{"an unknown policy", "policy = \"allow\"\n", []string{"policy", `"allow"`}},
		{"a string for a list", "write_roots = \"/srv\"\n", []string{"write_roots"}},
		{"a relative write root", "write_roots = [\"srv\"]\n", []string{"write_roots", "not an absolute path"}},
		{"a ~user write root", "write_roots = [\"~bob/x\"]\n", []string{"write_roots", "~user"}},
		{"a bad protected glob", "protected = [\"~/a[\"]\n", []string{"protected", "syntax error"}},
		{"a relative protected path", "protected = [\"a/b\"]\n", []string{"protected", "must start with"}},
		{"an empty protected pattern", "protected = [\"\"]\n", []string{"protected", "empty pattern"}},
		{"a relative audit log", "audit_log = \"log.jsonl\"\n", []string{"audit_log", "not an absolute path"}},
		{"a ~user password file", "password_file = \"~root/pw\"\n", []string{"password_file", "~user"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := approval.Load(writeConfig(t, tt.content), testPaths())
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "approval: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	t.Run("an unreadable path", func(t *testing.T) {
		if _, err := approval.Load(t.TempDir(), testPaths()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("a huge file", func(t *testing.T) {
		p := writeConfig(t, "# "+strings.Repeat("x", 1<<20)+"\n")
		if _, err := approval.Load(p, testPaths()); err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestConfigSet(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, value string
		check      func(c approval.Config) bool
	}{
		{"policy", "deny", func(c approval.Config) bool { return c.Policy == approval.PolicyDeny }},
		{"prompt_timeout", "90s", func(c approval.Config) bool { return c.PromptTimeout == 90*time.Second }},
		{"password_file", "~/pw", func(c approval.Config) bool { return c.PasswordFile == "/home/u/pw" }},
		{"password_file", "pw", func(c approval.Config) bool { return c.PasswordFile == filepath.Join(wd, "pw") }},
		{"password_file", "", func(c approval.Config) bool { return c.PasswordFile == "" }},
		{"audit_log", "/var/log/x.jsonl", func(c approval.Config) bool { return c.AuditLog == "/var/log/x.jsonl" }},
		{"audit_log", "", func(c approval.Config) bool { return c.AuditLog == "" }},
		{"write_roots", "~/in:/srv", func(c approval.Config) bool {
			return reflect.DeepEqual(c.WriteRoots, []string{"/home/u/in", "/srv"})
		}},
		{"write_roots", "", func(c approval.Config) bool { return len(c.WriteRoots) == 0 }},
		{"protected", "~/a/:*.db", func(c approval.Config) bool {
			return reflect.DeepEqual(c.Protected, []string{"~/a/", "*.db"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			c := approval.Defaults(testPaths())
			if err := c.Set(tt.key, tt.value); err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Fatalf("config after Set: %+v", c)
			}
		})
	}
	for _, tt := range []struct{ key, value, want string }{
		{"color", "yes", `unknown setting "color"`},
		{"policy", "maybe", "setting policy"},
		{"prompt_timeout", "1", "setting prompt_timeout"},
		{"write_roots", "rel", "setting write_roots"},
		{"protected", "a/b", "setting protected"},
		{"audit_log", "~x/log", "setting audit_log"},
	} {
		t.Run("refuses "+tt.key+"="+tt.value, func(t *testing.T) {
			c := approval.Defaults(testPaths())
			before := c
			err := c.Set(tt.key, tt.value)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "approval: ") {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if !reflect.DeepEqual(c, before) {
				t.Fatalf("a failed Set changed the config: %+v", c)
			}
		})
	}
}
