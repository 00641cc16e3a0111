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

	// MaxLen bounds the decoded pw value; the kitten's are about 210
	// bytes. Longer values are refused before any parsing.
	MaxLen = 4096

	// ReplayMemory is how many session ids a Verifier remembers.
	ReplayMemory = 4096

	// replayHorizon is how long a kitty-1 bypass can be replayed at most: it
	// may be presented up to Window after its timestamp, which may be up
	// to Window in the future.
	replayHorizon = 2 * Window
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
	ErrBusy          = fmt.Errorf("%w: too many bypass attempts in the last 10 minutes", ErrRefused)
	ErrMismatch      = fmt.Errorf("%w: wrong password", ErrRefused)
)

// Verifier checks bypass values against the configured password. It is safe
// for concurrent use.
//
// Each session id gets one attempt: the id is remembered before the value is
// checked, and a later bypass for a remembered id is refused, so a captured
// value cannot be replayed (the id is inside the encrypted kitty-1 payload, so
// it cannot be changed either). The memory holds ReplayMemory ids; when it is
// full, the oldest id is forgotten only if it was seen more than 10 minutes
// ago (after which its kitty-1 value has expired); otherwise the attempt is
// refused. A sha256 value never expires, so it can be replayed once its id has
// been forgotten: prefer kitty-1.
type Verifier struct {
	// Read-only after creation.
	key      *KeyPair
	password Secret
	now      func() time.Time

	mu   sync.Mutex // guards used
	used replayMemory
}

// NewVerifier returns a Verifier for password. key may be nil, in which case
// every kitty-1 value is refused. now is the clock (time.Now in production).
// An empty password refuses every bypass.
func NewVerifier(key *KeyPair, password Secret, now func() time.Time) *Verifier {
	return &Verifier{key: key, password: password, now: now, used: newReplayMemory(ReplayMemory)}
}

// Verify checks pw, the decoded value of the pw key ("<scheme>:<data>", after
// base64 decoding), for session id. It returns the scheme on success, and an
// error wrapping ErrRefused otherwise. The decision is synchronous, as
// §3.2 requires.
func (v *Verifier) Verify(id, pw string) (Scheme, error) {
	if len(pw) > MaxLen || id == "" {
		return "", ErrMalformed
	}
	scheme, data, _ := strings.Cut(pw, ":")
	switch Scheme(scheme) {
	case SchemeKitty1, SchemeSHA256:
	default:
		// Also reached with no ':' at all: the plaintext leak of §4.1.
		return "", ErrUnknownScheme
	}
	if v.password.Empty() {
		return "", ErrNoPassword
	}
	now := v.now()
	if err := v.remember(id, now); err != nil {
		return "", err
	}
	var err error
	if Scheme(scheme) == SchemeKitty1 {
		err = v.verifyKitty1(id, data, now)
	} else {
		err = v.verifySHA256(id, data)
	}
	if err != nil {
		return "", err
	}
	return Scheme(scheme), nil
}

// remember records id as used, or reports that it was used already.
func (v *Verifier) remember(id string, now time.Time) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.used.add(id, now)
}

// verifyKitty1 implements the terminal side of §4.1.
func (v *Verifier) verifyKitty1(id, data string, now time.Time) error {
	if v.key == nil {
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
	plain, err := kitty1Open(v.key.priv, peer, msg)
	if err != nil {
		return ErrDecrypt
	}
	ts, payload, ok := strings.Cut(string(plain), ":")
	if !ok {
		return ErrMalformed
	}
	ns, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrMalformed
	}
	if d := now.Sub(time.Unix(0, ns)); d > Window || d < -Window {
		return ErrClock
	}
	if !v.password.matchesPayload(id, payload) {
		return ErrMismatch
	}
	return nil
}

// verifySHA256 implements the documented form of §4.2, correctly (kitty
// compares against the wrong string and so refuses every documented value).
func (v *Verifier) verifySHA256(id, data string) error {
	got, err := hex.DecodeString(data)
	if err != nil || len(got) != sha256.Size {
		return ErrMalformed
	}
	want := v.password.sha256Payload(id)
	if subtle.ConstantTimeCompare(got, want[:]) != 1 {
		return ErrMismatch
	}
	return nil
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
	plain := strconv.FormatInt(now.UnixNano(), 10) + ":" + id + ";" + password
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

// replayMemory is a bounded FIFO of session ids already presented with a
// bypass. It is not safe for concurrent use; Verifier.mu guards it.
type replayMemory struct {
	max   int
	seen  map[string]struct{}
	order []replayEntry // oldest first; a queue with its head at order[head]
	head  int
}

type replayEntry struct {
	id string
	at time.Time
}

func newReplayMemory(max int) replayMemory {
	return replayMemory{max: max, seen: make(map[string]struct{}, max)}
}

// add records id at time now. It fails if id is already recorded, or if the
// memory is full of ids recorded within replayHorizon.
func (r *replayMemory) add(id string, now time.Time) error {
	if _, ok := r.seen[id]; ok {
		return ErrReplay
	}
	if len(r.seen) >= r.max {
		oldest := r.order[r.head]
		if now.Sub(oldest.at) <= replayHorizon {
			return ErrBusy
		}
		delete(r.seen, oldest.id)
		r.order[r.head] = replayEntry{}
		r.head++
		if r.head > len(r.order)/2 {
			// Compact so the slice does not grow without bound.
			r.order = append(r.order[:0], r.order[r.head:]...)
			r.head = 0
		}
	}
	r.seen[id] = struct{}{}
	r.order = append(r.order, replayEntry{id: id, at: now})
	return nil
}
