package bypass_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xferterm/xferterm/bypass"
)

func TestSecretNeverPrints(t *testing.T) {
	s := bypass.NewSecret("hunter2")
	for _, got := range []string{
		fmt.Sprint(s), fmt.Sprintf("%s %v %+v %#v %q %x %d", s, s, s, s, s, s, s), s.String(), s.GoString(),
		fmt.Sprintf("%v", struct{ S bypass.Secret }{s}), fmt.Sprintf("%+v", &struct{ S bypass.Secret }{s}),
	} {
		if strings.Contains(got, "hunter2") || strings.Contains(got, "68756e74657232") {
			t.Errorf("printed %q", got)
		}
	}
	j, err := json.Marshal(struct{ S bypass.Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(j), "hunter2") {
		t.Errorf("JSON %s reveals the secret", j)
	}
	if s.Reveal() != "hunter2" || s.Empty() || !bypass.NewSecret("").Empty() {
		t.Error("Reveal/Empty do not work")
	}
}

func TestReadPasswordFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string // password, or "" when an error containing wantErr is expected
		wantErr string
	}{
		{"surrounding whitespace is stripped", "  s3cret pass \n\n", 0o600, "s3cret pass", ""},
		{"a read-only owner file is fine", "pw\n", 0o400, "pw", ""},
		{"a group-readable file is refused", "pw\n", 0o640, "", "must not be accessible by group or others"},
		{"a world-readable file is refused", "pw\n", 0o604, "", "must not be accessible by group or others"},
		{"a group-writable file is refused", "pw\n", 0o620, "", "must not be accessible by group or others"},
		{"an empty file is refused", " \n\t", 0o600, "", "is empty"},
		{"a huge file is refused", strings.Repeat("p", 5000), 0o600, "", "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "pw")
			write(t, p, tt.content, tt.mode)
			s, err := bypass.ReadPasswordFile(p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "pw\n") || strings.Contains(err.Error(), "ppp") {
					t.Fatalf("error %q shows the content", err)
				}
				return
			}
			if err != nil || s.Reveal() != tt.want {
				t.Fatalf("got %q, %v; want %q", s.Reveal(), err, tt.want)
			}
		})
	}
	t.Run("a missing file is an error", func(t *testing.T) {
		if _, err := bypass.ReadPasswordFile(filepath.Join(t.TempDir(), "nope")); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("a directory is refused", func(t *testing.T) {
		if _, err := bypass.ReadPasswordFile(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestResolvePassword(t *testing.T) {
	dir := t.TempDir()
	flagFile, configFile, badFile := filepath.Join(dir, "flag"), filepath.Join(dir, "config"), filepath.Join(dir, "bad")
	write(t, flagFile, "from-flag\n", 0o600)
	write(t, configFile, "from-config\n", 0o600)
	write(t, badFile, "bad\n", 0o644)
	env := func(kv ...string) func(string) (string, bool) {
		return func(name string) (string, bool) {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == name {
					return kv[i+1], true
				}
			}
			return "", false
		}
	}
	tests := []struct {
		name       string
		flag, conf string
		env        func(string) (string, bool)
		want       string
		source     bypass.PasswordSource
		wantErr    bool
	}{
		{"the flag wins over everything", flagFile, configFile, env(bypass.PasswordEnv, "from-env"), "from-flag", bypass.PasswordFlagFile, false},
		{"the environment wins over the config", "", configFile, env(bypass.PasswordEnv, " from-env "), "from-env", bypass.PasswordEnvVar, false},
		{"the config file is the last resort", "", configFile, env(), "from-config", bypass.PasswordConfig, false},
		{"an empty variable is ignored", "", configFile, env(bypass.PasswordEnv, ""), "from-config", bypass.PasswordConfig, false},
		{"a blank variable is an error", "", configFile, env(bypass.PasswordEnv, "  "), "", bypass.PasswordEnvVar, true},
		{"nothing configured means no password", "", "", env(), "", bypass.PasswordNone, false},
		{"an unsafe flag file is an error, not a fallback", badFile, configFile, env(), "", bypass.PasswordFlagFile, true},
		{"an unsafe config file is an error", "", badFile, env(), "", bypass.PasswordConfig, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, src, err := bypass.ResolvePassword(tt.flag, tt.conf, tt.env)
			if (err != nil) != tt.wantErr || s.Reveal() != tt.want || src != tt.source {
				t.Fatalf("got %q, %v, %v; want %q, %v, error %v", s.Reveal(), src, err, tt.want, tt.source, tt.wantErr)
			}
		})
	}
}

func TestFilterEnv(t *testing.T) {
	env := []string{"HOME=/h", "XFERTERM_PASSWORD=pw", "KITTY_PUBLIC_KEY=1:abc", "XFERTERM_PASSWORD_X=keep", "PATH=/bin", "XFERTERM_PASSWORD=again"}
	orig := slices.Clone(env)
	got := bypass.FilterEnv(env, bypass.PasswordEnv, bypass.PublicKeyEnvName)
	want := []string{"HOME=/h", "XFERTERM_PASSWORD_X=keep", "PATH=/bin"}
	if !slices.Equal(got, want) {
		t.Fatalf("FilterEnv = %q, want %q", got, want)
	}
	if !slices.Equal(env, orig) {
		t.Fatal("FilterEnv modified its input")
	}
}
