package bypass_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/xferterm/xferterm/bypass"
)

func TestLoadOrCreateKeyPairCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "config", "xferterm")
	k, err := bypass.LoadOrCreateKeyPair(dir)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, bypass.KeyFileName): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s has mode %04o, want %04o", path, got, want)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %v, want only the key file", entries)
	}
	again, err := bypass.LoadOrCreateKeyPair(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.PublicKeyEnv() != k.PublicKeyEnv() {
		t.Fatal("second load returned a different key")
	}
}

func TestLoadOrCreateKeyPairRaceAgrees(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	keys := make([]string, 8)
	errs := make([]error, 8)
	for i := range keys {
		wg.Go(func() {
			k, err := bypass.LoadOrCreateKeyPair(dir)
			errs[i] = err
			if err == nil {
				keys[i] = k.PublicKeyEnv()
			}
		})
	}
	wg.Wait()
	for i := range keys {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if keys[i] != keys[0] {
			t.Fatalf("racing callers got different keys: %q and %q", keys[0], keys[i])
		}
	}
}

func TestLoadOrCreateKeyPairRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"a key file readable by others", func(t *testing.T, dir string) {
			mustKey(t, dir)
			chmod(t, filepath.Join(dir, bypass.KeyFileName), 0o644)
		}, "may have been read by others"},
		{"a key file writable by the group", func(t *testing.T, dir string) {
			mustKey(t, dir)
			chmod(t, filepath.Join(dir, bypass.KeyFileName), 0o620)
		}, "may have been read by others"},
		{"a key file that is not PEM", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, bypass.KeyFileName), "not a key", 0o600)
		}, "not a PEM private key"},
		{"a PEM file with trailing junk", func(t *testing.T, dir string) {
			mustKey(t, dir)
			p := filepath.Join(dir, bypass.KeyFileName)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			write(t, p, string(data)+"junk", 0o600)
		}, "not a PEM private key"},
		{"a PEM block of another type", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, bypass.KeyFileName), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 0o600)
		}, "not a PEM private key"},
		{"a PEM private key that is not PKCS #8", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, bypass.KeyFileName), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 0o600)
		}, "key file"},
		{"a directory in place of the key file", func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, bypass.KeyFileName), 0o700); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
		{"a huge key file", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, bypass.KeyFileName), strings.Repeat("x", 5000), 0o600)
		}, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			_, err := bypass.LoadOrCreateKeyPair(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "bypass: ") {
				t.Fatalf("LoadOrCreateKeyPair = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := bypass.LoadOrCreateKeyPair("relative/dir"); err == nil {
		t.Error("a relative directory was accepted")
	}
}

func TestPublicKeyEnvRoundTrip(t *testing.T) {
	k, err := bypass.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	env := k.PublicKeyEnv()
	if !strings.HasPrefix(env, "1:") || len(env) != 2+40 {
		t.Fatalf("PublicKeyEnv() = %q, want 1: and 40 base85 digits", env)
	}
	pub, err := bypass.ParsePublicKeyEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	if string(pub.Bytes()) != string(k.PublicKey()) {
		t.Fatal("ParsePublicKeyEnv does not give back the public key")
	}
}

func mustKey(t *testing.T, dir string) {
	t.Helper()
	if _, err := bypass.LoadOrCreateKeyPair(dir); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	chmod(t, path, mode) // WriteFile keeps the mode of an existing file and applies the umask.
}
