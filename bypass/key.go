package bypass

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFileName is the name of the bypass key file inside the xferterm
// configuration directory (approval.Paths.ConfigDir).
const KeyFileName = "bypass-key.pem"

// PublicKeyEnvName is the environment variable through which the client finds
// the terminal's public key (terminal-side.md §4.1). The proxy sets it in the
// child's environment, overriding any inherited value.
const PublicKeyEnvName = "KITTY_PUBLIC_KEY"

// maxKeyFileSize bounds how much of a key file is read; a PKCS #8 X25519 key
// in PEM is about 120 bytes.
const maxKeyFileSize = 4096

const pemTypePrivateKey = "PRIVATE KEY"

// KeyPair is the terminal's X25519 key pair for the kitty-1 bypass. It is
// immutable and safe for concurrent use.
type KeyPair struct {
	priv *ecdh.PrivateKey
}

// GenerateKeyPair returns a fresh key pair that is not stored anywhere.
func GenerateKeyPair() (*KeyPair, error) {
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("bypass: generate key: %w", err)
	}
	return &KeyPair{priv: priv}, nil
}

// LoadOrCreateKeyPair reads the key pair from dir/KeyFileName, creating the
// directory (mode 0700) and the file (mode 0600) on first use. A key file
// that group or others may access is refused, not repaired: the key may have
// been read already, so the user should delete it and let a new one be made.
// Two processes racing to create the file end up with the same key.
func LoadOrCreateKeyPair(dir string) (*KeyPair, error) {
	if dir == "" || !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("bypass: key directory %q is not an absolute path", dir)
	}
	path := filepath.Join(dir, KeyFileName)
	k, err := loadKeyPair(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("bypass: create key directory: %w", err)
	}
	k, err = GenerateKeyPair()
	if err != nil {
		return nil, err
	}
	if err := k.create(path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another process won the race: use its key.
			return loadKeyPair(path)
		}
		return nil, err
	}
	return k, nil
}

// create writes the key to a temporary file and links it into place, so the
// file at path is either absent or complete.
func (k *KeyPair) create(path string) error {
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return fmt.Errorf("bypass: encode key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: pemTypePrivateKey, Bytes: der})
	tmp, err := os.CreateTemp(filepath.Dir(path), ".bypass-key-*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("bypass: create key file: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // Best effort: the link below is what counts.
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close() // The write error is the one to report.
		return fmt.Errorf("bypass: write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close() // The sync error is the one to report.
		return fmt.Errorf("bypass: write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("bypass: write key file: %w", err)
	}
	// Link, unlike rename, fails if another process created the file first.
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("bypass: install key file: %w", err)
	}
	return nil
}

// loadKeyPair reads and checks the key file at path.
func loadKeyPair(path string) (*KeyPair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bypass: open key file: %w", err)
	}
	defer func() { _ = f.Close() }() // Read-only: nothing to flush.
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("bypass: key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("bypass: key file %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("bypass: key file %s has mode %04o and may have been read by others; delete it to make a new key", path, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("bypass: read key file: %w", err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("bypass: key file %s is too large", path)
	}
	block, rest := pem.Decode(data)
	if block == nil || block.Type != pemTypePrivateKey || strings.TrimSpace(string(rest)) != "" {
		return nil, fmt.Errorf("bypass: key file %s is not a PEM private key", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("bypass: key file %s: %w", path, err)
	}
	priv, ok := key.(*ecdh.PrivateKey)
	if !ok || priv.Curve() != ecdh.X25519() {
		return nil, fmt.Errorf("bypass: key file %s does not hold an X25519 key", path)
	}
	return &KeyPair{priv: priv}, nil
}

// PublicKey returns the 32-byte X25519 public key.
func (k *KeyPair) PublicKey() []byte {
	return k.priv.PublicKey().Bytes()
}

// PublicKeyEnv returns the value for KITTY_PUBLIC_KEY: "1:" followed by the
// base85 public key (terminal-side.md §4.1).
func (k *KeyPair) PublicKeyEnv() string {
	return "1:" + EncodeBase85(k.PublicKey())
}

// ParsePublicKeyEnv parses a KITTY_PUBLIC_KEY value ("1:<base85 key>"), as a
// client does before encoding a kitty-1 bypass.
func ParsePublicKeyEnv(v string) (*ecdh.PublicKey, error) {
	version, enc, ok := strings.Cut(v, ":")
	if !ok || version != "1" {
		return nil, errors.New("bypass: public key is not of the form 1:<base85>")
	}
	raw, err := DecodeBase85(enc)
	if err != nil {
		return nil, fmt.Errorf("bypass: public key: %w", err)
	}
	pub, err := ecdh.X25519().NewPublicKey(raw)
	if err != nil {
		return nil, fmt.Errorf("bypass: public key: %w", err)
	}
	return pub, nil
}
