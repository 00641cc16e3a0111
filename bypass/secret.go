package bypass

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// PasswordEnv is the environment variable that may hold the bypass password.
// The caller removes it from the child's environment (see FilterEnv).
const PasswordEnv = "XFERTERM_PASSWORD"

// maxPasswordFileSize bounds how much of a password file is read.
const maxPasswordFileSize = 4096

// Secret is the pre-shared bypass password. Its String method and fmt
// verbs print "[redacted]", so a Secret that ends up in a log or an error by
// mistake does not reveal the password. The zero value is the empty password,
// which never matches.
type Secret struct {
	b []byte
}

// NewSecret returns a Secret holding password.
func NewSecret(password string) Secret {
	return Secret{b: []byte(password)}
}

// Empty reports whether no password is set.
func (s Secret) Empty() bool { return len(s.b) == 0 }

// String returns "[redacted]", never the password.
func (s Secret) String() string { return "[redacted]" }

// GoString returns "[redacted]", never the password.
func (s Secret) GoString() string { return "[redacted]" }

// Format prints "[redacted]" whatever the verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "[redacted]") }

// MarshalText returns "[redacted]", never the password.
func (s Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the password. Use it only to hand the password to a
// client-side encoder such as EncodeKitty1.
func (s Secret) Reveal() string { return string(s.b) }

// matchesPayload reports in constant time whether payload is
// "<id>;<password>". Both sides are hashed first so that not even the length
// of the password leaks through timing. An empty password never matches.
func (s Secret) matchesPayload(id, payload string) bool {
	if s.Empty() {
		return false
	}
	want := s.sha256Payload(id)
	got := sha256.Sum256([]byte(payload))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// sha256Payload returns SHA-256 of "<id>;<password>".
func (s Secret) sha256Payload(id string) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(id))
	h.Write([]byte{';'})
	h.Write(s.b)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// ReadPasswordFile reads the bypass password from path. Like ssh with private
// keys, it refuses a file that group or others can access (any of the 077
// permission bits), and a file that is not a regular file. Surrounding
// whitespace is stripped, and an empty password is an error. Errors never
// contain the file's content.
func ReadPasswordFile(path string) (Secret, error) {
	f, err := os.Open(path)
	if err != nil {
		return Secret{}, fmt.Errorf("bypass: password file: %w", err)
	}
	defer func() { _ = f.Close() }() // Read-only: nothing to flush.
	st, err := f.Stat()
	if err != nil {
		return Secret{}, fmt.Errorf("bypass: password file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return Secret{}, fmt.Errorf("bypass: password file %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return Secret{}, fmt.Errorf("bypass: password file %s has mode %04o: it must not be accessible by group or others (chmod 600)", path, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPasswordFileSize+1))
	if err != nil {
		return Secret{}, fmt.Errorf("bypass: read password file %s: %w", path, err)
	}
	if len(data) > maxPasswordFileSize {
		return Secret{}, fmt.Errorf("bypass: password file %s is larger than %d bytes", path, maxPasswordFileSize)
	}
	pw := strings.TrimSpace(string(data))
	if pw == "" {
		return Secret{}, fmt.Errorf("bypass: password file %s is empty", path)
	}
	return NewSecret(pw), nil
}

// PasswordSource says where a password came from.
type PasswordSource int

// Password sources, in order of precedence.
const (
	PasswordNone     PasswordSource = iota // no password: bypasses are refused
	PasswordFlagFile                       // the --password-file flag
	PasswordEnvVar                         // the XFERTERM_PASSWORD environment variable
	PasswordConfig                         // the password_file key of the config file
)

func (s PasswordSource) String() string {
	switch s {
	case PasswordNone:
		return "none"
	case PasswordFlagFile:
		return "--password-file"
	case PasswordEnvVar:
		return PasswordEnv
	case PasswordConfig:
		return "config password_file"
	}
	return fmt.Sprintf("PasswordSource(%d)", int(s))
}

// ResolvePassword finds the bypass password: the file named by flagFile if
// not empty, else the XFERTERM_PASSWORD variable if set and not blank
// (whitespace stripped), else the file named by configFile if not empty, else
// none. lookupEnv is os.LookupEnv in production. The caller must also remove
// XFERTERM_PASSWORD from the child's environment (FilterEnv), whichever source
// wins.
func ResolvePassword(flagFile, configFile string, lookupEnv func(string) (string, bool)) (Secret, PasswordSource, error) {
	if flagFile != "" {
		s, err := ReadPasswordFile(flagFile)
		return s, PasswordFlagFile, err
	}
	if v, ok := lookupEnv(PasswordEnv); ok {
		if pw := strings.TrimSpace(v); pw != "" {
			return NewSecret(pw), PasswordEnvVar, nil
		}
		if v != "" {
			return Secret{}, PasswordEnvVar, errors.New("bypass: " + PasswordEnv + " holds only whitespace")
		}
	}
	if configFile != "" {
		s, err := ReadPasswordFile(configFile)
		return s, PasswordConfig, err
	}
	return Secret{}, PasswordNone, nil
}

// FilterEnv returns env (in os.Environ form) without the entries for the
// given variable names. It does not modify env. Use it to drop
// XFERTERM_PASSWORD (and an inherited KITTY_PUBLIC_KEY, before appending the
// proxy's own) from the child's environment.
func FilterEnv(env []string, names ...string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			if name == n {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}
