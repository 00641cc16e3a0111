package bypass

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Scheme names a bypass scheme: the part of the pw value before the first
// ':' (terminal-side.md §4).
type Scheme string

// The bypass schemes Verify accepts.
const (
	SchemeKitty1 Scheme = "kitty-1" // encrypted for the terminal's key; what the kitten sends (§4.1)
	SchemeSHA256 Scheme = "sha256"  // hex SHA-256 of "<id>;<password>", as documented (§4.2)
)

// Limits of the bypass check.
const (
	// Window is how far the kitty-1 timestamp may be from the
	// terminal's clock, in either direction (§4.1).
	Window = 5 * time.Minute

	// MaxLen bounds the decoded pw value, and the session id it is checked for; the
	// kitten's values are about 210 bytes. Longer ones are refused before any parsing.
	MaxLen = 4096
)

// Reasons a bypass is refused. Every refusal wraps ErrRefused. None of
// them carries any part of the pw value, which may be a plaintext password
// (reference-client.md §5: the kitten sends one when KITTY_PUBLIC_KEY is
// missing); callers must not log the value either.
var (
	ErrRefused       = errors.New("bypass: refused")
	ErrNoPassword    = fmt.Errorf("%w: no bypass password is configured", ErrRefused)
	ErrUnknownScheme = fmt.Errorf("%w: unknown scheme (value not shown: it may be a plaintext password)", ErrRefused)
	ErrMalformed     = fmt.Errorf("%w: malformed value", ErrRefused)
	ErrDecrypt       = fmt.Errorf("%w: not encrypted for this terminal's key", ErrRefused)
	ErrClock         = fmt.Errorf("%w: timestamp more than 5 minutes from this computer's clock", ErrRefused)
	ErrReplay        = fmt.Errorf("%w: session id already used", ErrRefused)
	ErrBusy          = fmt.Errorf("%w: too many bypasses accepted in the last 10 minutes", ErrRefused)
	ErrMismatch      = fmt.Errorf("%w: wrong password", ErrRefused)
	ErrStore         = fmt.Errorf("%w: the record of used session ids cannot be used", ErrRefused)
)

// Options configure a Verifier.
type Options struct {
	// Key is the terminal's key pair; nil refuses every kitty-1 value.
	Key *KeyPair
	// Password is the bypass password; empty refuses every bypass.
	Password Secret
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Used records the ids of accepted values; nil means a MemoryIDs of this
	// Verifier's own. Give every Verifier that uses Key the same record (a FileIDs in
	// the key's directory), or a value one accepts can be replayed to another.
	Used UsedIDs
}

// Verifier checks bypass values against the configured password. It is safe
// for concurrent use.
//
// A value is checked for the password first, whatever came before it: nothing a
// remote sends without the password makes a value with the password fail (see the
// package doc). A value with the right password has its session id recorded
// (UsedIDs), and is refused if the id is recorded already, so a captured value
// cannot be replayed: the id is inside the encrypted kitty-1 payload, so it cannot
// be changed either. A sha256 value never expires, so it can be replayed once its id
// has been forgotten (after UsedFor): prefer kitty-1.
//
// Failed checks are paced: Backoff says how long the caller should stop reading
// input.
type Verifier struct {
	opts Options // read-only after New

	mu   sync.Mutex // guards pace
	pace pacer
}

// New returns a Verifier.
func New(opts Options) *Verifier {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Used == nil {
		opts.Used = new(MemoryIDs)
	}
	return &Verifier{opts: opts}
}

// NewVerifier returns a Verifier for password that remembers used ids in this process
// only. key may be nil, in which case every kitty-1 value is refused. now is the
// clock (time.Now in production). An empty password refuses every bypass.
func NewVerifier(key *KeyPair, password Secret, now func() time.Time) *Verifier {
	return New(Options{Key: key, Password: password, Now: now})
}

// Verify checks pw, the decoded value of the pw key ("<scheme>:<data>", after
// base64 decoding), for session id. It returns the scheme on success, and an
// error wrapping ErrRefused otherwise. The decision is synchronous, as
// §3.2 requires: it waits only for the file of used ids, and only for a value
// with the right password.
func (v *Verifier) Verify(id, pw string) (Scheme, error) {
	if len(pw) > MaxLen || id == "" || len(id) > MaxLen {
		return "", ErrMalformed
	}
	scheme, data, _ := strings.Cut(pw, ":")
	switch Scheme(scheme) {
	case SchemeKitty1, SchemeSHA256:
	default:
		// Also reached with no ':' at all: the plaintext leak of §4.1.
		return "", ErrUnknownScheme
	}
	if v.opts.Password.Empty() {
		return "", ErrNoPassword
	}
	now := v.opts.Now()
	var err error
	if Scheme(scheme) == SchemeKitty1 {
		err = v.verifyKitty1(id, data, now)
	} else {
		err = v.verifySHA256(id, data, now)
	}
	if err != nil {
		return "", err
	}
	return Scheme(scheme), nil
}

// Backoff returns how long the caller should stop reading the remote's input before
// it hands over anything that may hold another bypass value: zero, unless failed
// checks have outrun FailuresPerSecond by more than FreeFailures. Call it where no
// lock is held (cmd calls it on the output pump, after each payload), so that waiting
// is backpressure on the stream and nothing else. It is at most 1/FailuresPerSecond
// after each failed check, and at most FreeFailures/FailuresPerSecond in all.
func (v *Verifier) Backoff() time.Duration {
	now := v.opts.Now()
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.pace.backoff(now)
}

// failed accounts for a check that failed after the work it is paced for: a
// decryption, or a comparison with the password.
func (v *Verifier) failed(now time.Time, err error) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.pace.fail(now)
	return err
}

// verifyKitty1 implements the terminal side of §4.1. The order differs from kitty's in
// one respect: the password is compared before the timestamp, so that only values
// with the right password are recorded or refused for their clock.
func (v *Verifier) verifyKitty1(id, data string, now time.Time) error {
	if v.opts.Key == nil {
		return ErrDecrypt
	}
	msg, err := parseKitty1(data)
	if err != nil {
		return err
	}
	peer, err := ecdh.X25519().NewPublicKey(msg.pubkey)
	if err != nil {
		return ErrMalformed
	}
	plain, err := kitty1Open(v.opts.Key.priv, peer, msg)
	if err != nil {
		return v.failed(now, ErrDecrypt)
	}
	ts, payload, ok := strings.Cut(string(plain), ":")
	if !ok {
		return v.failed(now, ErrMalformed)
	}
	if !v.opts.Password.matchesPayload(id, payload) {
		return v.failed(now, ErrMismatch)
	}
	ns, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrMalformed
	}
	at := time.Unix(0, ns)
	switch d := now.Sub(at); {
	case d < -Window && d >= -maxAhead:
		// From a client whose clock runs fast: it would be accepted later, so record
		// it now, and an attacker who saw it cannot present it then.
		if err := v.opts.Used.Use(id, at.Add(UsedFor), now); errors.Is(err, ErrStore) {
			return err
		}
		return ErrClock
	case d > Window || d < -Window:
		return ErrClock
	}
	return v.opts.Used.Use(id, at.Add(UsedFor), now)
}

// verifySHA256 implements the documented form of §4.2, correctly (kitty
// compares against the wrong string and so refuses every documented value).
func (v *Verifier) verifySHA256(id, data string, now time.Time) error {
	got, err := hex.DecodeString(data)
	if err != nil || len(got) != sha256.Size {
		return ErrMalformed
	}
	want := v.opts.Password.sha256Payload(id)
	if subtle.ConstantTimeCompare(got, want[:]) != 1 {
		return v.failed(now, ErrMismatch)
	}
	return v.opts.Used.Use(id, now.Add(UsedFor), now)
}

// kitty1JSON is the JSON object inside a kitty-1 value. Field order is the
// kitten's, and encoding/json escapes <, > and & as it does.
type kitty1JSON struct {
	Version   []int  `json:"version"`
	IV        string `json:"iv"`
	Tag       string `json:"tag"`
	Pubkey    string `json:"pubkey"`
	Encrypted string `json:"encrypted"`
}

// kitty1Msg is a parsed kitty-1 value with its fields base85-decoded.
type kitty1Msg struct {
	iv, tag, pubkey, encrypted []byte
}

// parseKitty1 decodes the JSON part of a kitty-1 value and checks the field
// sizes. version and enc_proto are not looked at, as in kitty.
func parseKitty1(data string) (kitty1Msg, error) {
	var j struct{ IV, Tag, Pubkey, Encrypted string }
	if err := json.Unmarshal([]byte(data), &j); err != nil || j.Pubkey == "" {
		return kitty1Msg{}, ErrMalformed
	}
	var m kitty1Msg
	for _, f := range []struct {
		dst  *[]byte
		src  string
		size int // exact size, or -1 for any
	}{
		{&m.iv, j.IV, 12},
		{&m.tag, j.Tag, 16},
		{&m.pubkey, j.Pubkey, 32},
		{&m.encrypted, j.Encrypted, -1},
	} {
		b, err := DecodeBase85(f.src)
		if err != nil || (f.size >= 0 && len(b) != f.size) {
			return kitty1Msg{}, ErrMalformed
		}
		*f.dst = b
	}
	return m, nil
}

// kitty1AEAD returns the AES-256-GCM cipher keyed with SHA-256 of the X25519
// shared secret (12-byte nonce, 16-byte tag).
func kitty1AEAD(priv *ecdh.PrivateKey, peer *ecdh.PublicKey) (cipher.AEAD, error) {
	shared, err := priv.ECDH(peer)
	if err != nil {
		return nil, err
	}
	key := sha256.Sum256(shared)
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// kitty1Open decrypts m with the terminal's private key; there is no
// additional data.
func kitty1Open(priv *ecdh.PrivateKey, peer *ecdh.PublicKey, m kitty1Msg) ([]byte, error) {
	aead, err := kitty1AEAD(priv, peer)
	if err != nil {
		return nil, err
	}
	sealed := make([]byte, 0, len(m.encrypted)+len(m.tag))
	sealed = append(append(sealed, m.encrypted...), m.tag...)
	return aead.Open(nil, m.iv, sealed, nil)
}

// EncodeKitty1 is the client side of §4.1: it encrypts "<now in ns>:<id>;<password>"
// for the terminal whose KITTY_PUBLIC_KEY value is pubEnv, and returns the pw
// value before base64: "kitty-1:" followed by the JSON object, exactly as the
// kitten builds it. The caller base64-encodes it (unpadded) into the pw key.
func EncodeKitty1(pubEnv, id, password string, now time.Time) (string, error) {
	if password == "" {
		return "", errors.New("bypass: empty password")
	}
	return encodeKitty1Plain(pubEnv, strconv.FormatInt(now.UnixNano(), 10)+":"+id+";"+password)
}

// encodeKitty1Plain encrypts plain as EncodeKitty1 does.
func encodeKitty1Plain(pubEnv, plain string) (string, error) {
	peer, err := ParsePublicKeyEnv(pubEnv)
	if err != nil {
		return "", err
	}
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("bypass: generate key: %w", err)
	}
	aead, err := kitty1AEAD(eph, peer)
	if err != nil {
		return "", fmt.Errorf("bypass: key agreement: %w", err)
	}
	iv := make([]byte, aead.NonceSize())
	if _, err := rand.Read(iv); err != nil {
		return "", fmt.Errorf("bypass: random nonce: %w", err)
	}
	sealed := aead.Seal(nil, iv, []byte(plain), nil)
	ct, tag := sealed[:len(sealed)-aead.Overhead()], sealed[len(sealed)-aead.Overhead():]
	j, err := json.Marshal(kitty1JSON{
		Version:   []int{0, 0, 0},
		IV:        EncodeBase85(iv),
		Tag:       EncodeBase85(tag),
		Pubkey:    EncodeBase85(eph.PublicKey().Bytes()),
		Encrypted: EncodeBase85(ct),
	})
	if err != nil {
		return "", fmt.Errorf("bypass: encode: %w", err)
	}
	return string(SchemeKitty1) + ":" + string(j), nil
}

// EncodeSHA256 returns the documented sha256 bypass value (before base64):
// "sha256:" followed by the lowercase hex SHA-256 of "<id>;<password>" (§4.2).
// kitty itself refuses it; Verify accepts it.
func EncodeSHA256(id, password string) string {
	sum := sha256.Sum256([]byte(id + ";" + password))
	return string(SchemeSHA256) + ":" + hex.EncodeToString(sum[:])
}
