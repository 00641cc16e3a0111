package bypass_test

import (
	"bufio"
	"crypto/ecdh"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xferterm/xferterm/bypass"
)

// keyFromHex stores the X25519 private key given in hex as the key file of a
// fresh directory and loads it through the public API.
func keyFromHex(t testing.TB, h string) *bypass.KeyPair {
	t.Helper()
	raw, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ecdh.X25519().NewPrivateKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, bypass.KeyFileName), data, 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := bypass.LoadOrCreateKeyPair(dir)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// readFields reads a testdata file of "<key> <value>" lines ('#' starts a comment).
func readFields(t testing.TB, name string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, " ")
		m[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// pythonVector is the kitty-1 value made independently with Python.
type pythonVector struct {
	key      *bypass.KeyPair
	pubEnv   string
	id       string
	password string
	at       time.Time
	pw       string // decoded: "kitty-1:{...}"
}

func loadPythonVector(t testing.TB) pythonVector {
	t.Helper()
	f := readFields(t, "kitty1-python.txt")
	ns, err := strconv.ParseInt(f["ns"], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := base64.RawStdEncoding.DecodeString(f["pw"])
	if err != nil {
		t.Fatal(err)
	}
	return pythonVector{
		key:      keyFromHex(t, f["private"]),
		pubEnv:   f["pubenv"],
		id:       f["id"],
		password: f["password"],
		at:       time.Unix(0, ns),
		pw:       string(pw),
	}
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestVerifyKitty1MadeByPython(t *testing.T) {
	v := loadPythonVector(t)
	if got := v.key.PublicKeyEnv(); got != v.pubEnv {
		t.Fatalf("PublicKeyEnv() = %q, want %q (from Python)", got, v.pubEnv)
	}
	tests := []struct {
		name     string
		password string
		at       time.Time
		want     error
	}{
		{"accepted at its own time", v.password, v.at, nil},
		{"accepted 5 minutes later", v.password, v.at.Add(bypass.Window), nil},
		{"accepted when the terminal's clock is 5 minutes behind", v.password, v.at.Add(-bypass.Window), nil},
		{"refused 5 minutes and 1ns later", v.password, v.at.Add(bypass.Window + 1), bypass.ErrClock},
		{"refused when the terminal's clock is too far behind", v.password, v.at.Add(-bypass.Window - 1), bypass.ErrClock},
		{"refused with another password", "s3cr<e>t", v.at, bypass.ErrMismatch},
		{"refused with no password", "", v.at, bypass.ErrNoPassword},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ver := bypass.NewVerifier(v.key, bypass.NewSecret(tt.password), fixedClock(tt.at))
			scheme, err := ver.Verify(v.id, v.pw)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("Verify = %q, %v; want %v", scheme, err, tt.want)
			}
			if err == nil && scheme != bypass.SchemeKitty1 {
				t.Fatalf("scheme = %q, want kitty-1", scheme)
			}
		})
	}
}

func TestVerifyBypass(t *testing.T) {
	key, err := bypass.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	other, err := bypass.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	const id, password = "1a2b3c9f01", "correct horse"
	kitty1 := func(t *testing.T, pubEnv, id, password string, at time.Time) string {
		t.Helper()
		pw, err := bypass.EncodeKitty1(pubEnv, id, password, at)
		if err != nil {
			t.Fatal(err)
		}
		return pw
	}
	// tamper replaces one character of a JSON field's value.
	tamper := func(t *testing.T, pw, field string) string {
		t.Helper()
		i := strings.Index(pw, `"`+field+`":"`)
		if i < 0 {
			t.Fatalf("no %s in %s", field, pw)
		}
		i += len(field) + 4
		c := byte('0')
		if pw[i] == '0' {
			c = '1'
		}
		return pw[:i] + string(c) + pw[i+1:]
	}
	tests := []struct {
		name string
		id   string
		pw   func(t *testing.T) string
		want error
	}{
		{"kitty-1 with the right password is accepted", id, func(t *testing.T) string {
			return kitty1(t, key.PublicKeyEnv(), id, password, now)
		}, nil},
		{"kitty-1 with a wrong password is refused", id, func(t *testing.T) string {
			return kitty1(t, key.PublicKeyEnv(), id, "correct horse!", now)
		}, bypass.ErrMismatch},
		{"kitty-1 with a prefix of the password is refused", id, func(t *testing.T) string {
			return kitty1(t, key.PublicKeyEnv(), id, "correct", now)
		}, bypass.ErrMismatch},
		{"kitty-1 made for another session id is refused", id, func(t *testing.T) string {
			return kitty1(t, key.PublicKeyEnv(), "othersession", password, now)
		}, bypass.ErrMismatch},
		{"kitty-1 six minutes old is refused", id, func(t *testing.T) string {
			return kitty1(t, key.PublicKeyEnv(), id, password, now.Add(-6*time.Minute))
		}, bypass.ErrClock},
		{"kitty-1 six minutes in the future is refused", id, func(t *testing.T) string {
			return kitty1(t, key.PublicKeyEnv(), id, password, now.Add(6*time.Minute))
		}, bypass.ErrClock},
		{"kitty-1 encrypted for another key is refused", id, func(t *testing.T) string {
			return kitty1(t, other.PublicKeyEnv(), id, password, now)
		}, bypass.ErrDecrypt},
		{"kitty-1 with tampered ciphertext is refused", id, func(t *testing.T) string {
			return tamper(t, kitty1(t, key.PublicKeyEnv(), id, password, now), "encrypted")
		}, bypass.ErrRefused},
		{"kitty-1 with a tampered tag is refused", id, func(t *testing.T) string {
			return tamper(t, kitty1(t, key.PublicKeyEnv(), id, password, now), "tag")
		}, bypass.ErrRefused},
		{"kitty-1 with a tampered nonce is refused", id, func(t *testing.T) string {
			return tamper(t, kitty1(t, key.PublicKeyEnv(), id, password, now), "iv")
		}, bypass.ErrRefused},
		{"kitty-1 with a tampered public key is refused", id, func(t *testing.T) string {
			return tamper(t, kitty1(t, key.PublicKeyEnv(), id, password, now), "pubkey")
		}, bypass.ErrRefused},
		{"a plain password is refused as an unknown scheme", id, func(*testing.T) string {
			return password
		}, bypass.ErrUnknownScheme},
		{"a plain password with a colon is refused as an unknown scheme", id, func(*testing.T) string {
			return "hunter:2"
		}, bypass.ErrUnknownScheme},
		{"the scheme is case-sensitive", id, func(*testing.T) string {
			return "KITTY-1:{}"
		}, bypass.ErrUnknownScheme},
		{"garbage JSON is refused", id, func(*testing.T) string {
			return `kitty-1:{"version":[0,0,0],"iv":`
		}, bypass.ErrMalformed},
		{"an empty kitty-1 value is refused", id, func(*testing.T) string {
			return "kitty-1:"
		}, bypass.ErrMalformed},
		{"a missing public key is refused", id, func(*testing.T) string {
			return `kitty-1:{"iv":"00000","tag":"00000","encrypted":""}`
		}, bypass.ErrMalformed},
		{"version and enc_proto are not looked at", id, func(t *testing.T) string {
			pw := kitty1(t, key.PublicKeyEnv(), id, password, now)
			return strings.Replace(pw, `"version":[0,0,0]`, `"version":"?","enc_proto":"9"`, 1)
		}, nil},
		{"a field of the wrong type is refused", id, func(*testing.T) string {
			return `kitty-1:{"iv":12,"tag":"00000","pubkey":"00000","encrypted":""}`
		}, bypass.ErrMalformed},
		{"a short nonce is refused", id, func(t *testing.T) string {
			return editKitty1(t, kitty1(t, key.PublicKeyEnv(), id, password, now), func(m map[string]any) {
				m["iv"] = m["iv"].(string)[:10] // 8 bytes
			})
		}, bypass.ErrMalformed},
		{"a long tag is refused", id, func(t *testing.T) string {
			return editKitty1(t, kitty1(t, key.PublicKeyEnv(), id, password, now), func(m map[string]any) {
				m["tag"] = m["tag"].(string) + "00000"
			})
		}, bypass.ErrMalformed},
		{"bad base85 is refused", id, func(*testing.T) string {
			return `kitty-1:{"iv":"  ","tag":"00000","pubkey":"00000","encrypted":""}`
		}, bypass.ErrMalformed},
		{"an oversized value is refused", id, func(*testing.T) string {
			return "kitty-1:" + strings.Repeat(" ", bypass.MaxLen)
		}, bypass.ErrMalformed},
		{"an empty session id is refused", "", func(t *testing.T) string {
			return bypass.EncodeSHA256("", password)
		}, bypass.ErrMalformed},
		{"the documented sha256 form is accepted", id, func(*testing.T) string {
			return bypass.EncodeSHA256(id, password)
		}, nil},
		{"sha256 in upper case is accepted", id, func(*testing.T) string {
			return "sha256:" + strings.ToUpper(strings.TrimPrefix(bypass.EncodeSHA256(id, password), "sha256:"))
		}, nil},
		{"sha256 of a wrong password is refused", id, func(*testing.T) string {
			return bypass.EncodeSHA256(id, "wrong")
		}, bypass.ErrMismatch},
		{"sha256 for another session id is refused", id, func(*testing.T) string {
			return bypass.EncodeSHA256("other", password)
		}, bypass.ErrMismatch},
		{"kitty's doubled sha256 prefix is refused", id, func(*testing.T) string {
			return "sha256:" + bypass.EncodeSHA256(id, password)
		}, bypass.ErrMalformed},
		{"a truncated sha256 is refused", id, func(*testing.T) string {
			return bypass.EncodeSHA256(id, password)[:40]
		}, bypass.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := bypass.NewVerifier(key, bypass.NewSecret(password), fixedClock(now))
			pw := tt.pw(t)
			scheme, err := v.Verify(tt.id, pw)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want success", err)
				}
				if want, _, _ := strings.Cut(pw, ":"); string(scheme) != want {
					t.Fatalf("scheme = %q, want %q", scheme, want)
				}
				return
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, bypass.ErrRefused) {
				t.Fatalf("Verify = %q, %v; want %v", scheme, err, tt.want)
			}
			if scheme != "" {
				t.Errorf("scheme = %q on failure, want empty", scheme)
			}
			for _, secret := range []string{password, "hunter", "correct"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q reveals %q", err, secret)
				}
			}
		})
	}
}

// editKitty1 changes the JSON of a kitty-1 value.
func editKitty1(t *testing.T, pw string, edit func(map[string]any)) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(pw, "kitty-1:")), &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	j, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return "kitty-1:" + string(j)
}

// kitty1Verifier returns a Verifier with a new key, the password "pw" and a stopped
// clock, and a kitty-1 bypass for session "s1" that it accepts.
func kitty1Verifier(t *testing.T) (*bypass.Verifier, string) {
	t.Helper()
	key, err := bypass.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	pw, err := bypass.EncodeKitty1(key.PublicKeyEnv(), "s1", "pw", now)
	if err != nil {
		t.Fatal(err)
	}
	return bypass.NewVerifier(key, bypass.NewSecret("pw"), fixedClock(now)), pw
}

func TestVerifyRefusesReplay(t *testing.T) {
	v, pw := kitty1Verifier(t)
	if _, err := v.Verify("s1", pw); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if _, err := v.Verify("s1", pw); !errors.Is(err, bypass.ErrReplay) {
		t.Fatalf("second use: %v, want ErrReplay", err)
	}
	if _, err := v.Verify("s1", bypass.EncodeSHA256("s1", "pw")); !errors.Is(err, bypass.ErrReplay) {
		t.Fatalf("the same id with the other scheme: %v, want ErrReplay", err)
	}
	if _, err := v.Verify("s2", bypass.EncodeSHA256("s2", "pw")); err != nil {
		t.Fatalf("sha256, first use: %v", err)
	}
	if _, err := v.Verify("s2", bypass.EncodeSHA256("s2", "pw")); !errors.Is(err, bypass.ErrReplay) {
		t.Fatalf("sha256, second use: %v, want ErrReplay", err)
	}
}

// TestVerifyFailedAttemptsAreNotRecorded: an attempt without the password does not
// use its id up, so a remote cannot fill the record of used ids, or spoil the id a
// client is about to use.
func TestVerifyFailedAttemptsAreNotRecorded(t *testing.T) {
	v, pw := kitty1Verifier(t)
	for _, bogus := range []string{"kitty-1:{}", bypass.EncodeSHA256("s1", "guess"), "sha256:zz", "hunter2"} {
		if _, err := v.Verify("s1", bogus); err == nil || errors.Is(err, bypass.ErrReplay) {
			t.Fatalf("Verify(%q) = %v", bogus, err)
		}
	}
	if _, err := v.Verify("s1", pw); err != nil {
		t.Fatalf("the right value after failed ones for its id: %v", err)
	}
}

func TestVerifyUsedIDsAreBounded(t *testing.T) {
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	clock := now
	const n = 8
	v := bypass.New(bypass.Options{Password: bypass.NewSecret("pw"), Now: func() time.Time { return clock },
		Used: bypass.NewMemoryIDsLimit(n)})
	sha := func(id, password string) error {
		_, err := v.Verify(id, bypass.EncodeSHA256(id, password))
		return err
	}
	for i := range n {
		if err := sha("id"+strconv.Itoa(i), "pw"); err != nil {
			t.Fatal(err)
		}
	}
	if err := sha("new", "pw"); !errors.Is(err, bypass.ErrBusy) {
		t.Fatalf("record full of ids in use: %v, want ErrBusy", err)
	}
	if err := sha("other", "wrong"); !errors.Is(err, bypass.ErrMismatch) {
		t.Fatalf("a wrong password when the record is full: %v, want ErrMismatch", err)
	}
	clock = now.Add(bypass.UsedFor - 1)
	if err := sha("id0", "pw"); !errors.Is(err, bypass.ErrReplay) {
		t.Fatalf("id0 just before UsedFor: %v, want ErrReplay", err)
	}
	clock = now.Add(bypass.UsedFor)
	if err := sha("new", "pw"); err != nil {
		t.Fatalf("after UsedFor the ids are forgotten: %v", err)
	}
	if err := sha("id0", "pw"); err != nil {
		t.Fatalf("id0 was forgotten (documented sha256 weakness): %v", err)
	}
}

func TestVerifyConcurrentUseAcceptsOnce(t *testing.T) {
	v, pw := kitty1Verifier(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for range 16 {
		wg.Go(func() {
			if _, err := v.Verify("s1", pw); err == nil {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if accepted != 1 {
		t.Fatalf("accepted %d times, want 1", accepted)
	}
}

func TestVerifyWithoutKeyRefusesKitty1(t *testing.T) {
	key, err := bypass.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	pw, err := bypass.EncodeKitty1(key.PublicKeyEnv(), "s1", "pw", now)
	if err != nil {
		t.Fatal(err)
	}
	v := bypass.NewVerifier(nil, bypass.NewSecret("pw"), fixedClock(now))
	if _, err := v.Verify("s1", pw); !errors.Is(err, bypass.ErrDecrypt) {
		t.Fatalf("Verify = %v, want ErrDecrypt", err)
	}
	if _, err := v.Verify("s2", bypass.EncodeSHA256("s2", "pw")); err != nil {
		t.Fatalf("sha256 needs no key: %v", err)
	}
}

func TestEncodeSHA256DocumentedExample(t *testing.T) {
	// Golden value from Python: hashlib.sha256(b"mysession;mypassword").hexdigest().
	const want = "sha256:192bd215915eeaa8c2b2a4c0f8f851826497d12b30036d8b5b1b4fc4411caf2c"
	got := bypass.EncodeSHA256("mysession", "mypassword")
	if got != want {
		t.Fatalf("EncodeSHA256 = %q, want %q", got, want)
	}
	if !strings.HasPrefix(got, "sha256:192bd215") || !strings.HasSuffix(got, "caf2c") {
		t.Fatalf("%q does not match the protocol document's example", got)
	}
	v := bypass.NewVerifier(nil, bypass.NewSecret("mypassword"), time.Now)
	if _, err := v.Verify("mysession", want); err != nil {
		t.Fatalf("Verify(documented example) = %v", err)
	}
}

func TestEncodeKitty1Shape(t *testing.T) {
	key, err := bypass.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	// A password with <, > and & shows Go's HTML escaping is irrelevant to
	// the ciphertext but the JSON keys are in the kitten's order.
	pw, err := bypass.EncodeKitty1(key.PublicKeyEnv(), "id", "<&>", time.Unix(0, 1795239730772457500))
	if err != nil {
		t.Fatal(err)
	}
	data, ok := strings.CutPrefix(pw, "kitty-1:")
	if !ok {
		t.Fatalf("%q lacks the kitty-1: prefix", pw)
	}
	if !strings.HasPrefix(data, `{"version":[0,0,0],"iv":"`) {
		t.Errorf("JSON does not start like the kitten's: %s", data)
	}
	for i, k := range []string{`"iv"`, `"tag"`, `"pubkey"`, `"encrypted"`} {
		if j := strings.Index(data, k); j < 0 || (i > 0 && j < strings.Index(data, []string{`"iv"`, `"tag"`, `"pubkey"`}[i-1])) {
			t.Errorf("key %s missing or out of order in %s", k, data)
		}
	}
	if strings.ContainsAny(data, "<>&") {
		t.Errorf("JSON is not HTML-escaped like Go's: %s", data)
	}
	iv, tag, pub, enc, err := bypass.ParseKitty1(data)
	if err != nil {
		t.Fatal(err)
	}
	// "1795239730772457500:id;<&>" is 26 bytes.
	if len(iv) != 12 || len(tag) != 16 || len(pub) != 32 || len(enc) != 26 {
		t.Errorf("field sizes %d/%d/%d/%d, want 12/16/32/26", len(iv), len(tag), len(pub), len(enc))
	}
}

func TestEncodeKitty1Errors(t *testing.T) {
	key, err := bypass.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, pubEnv, password string }{
		{"empty password", key.PublicKeyEnv(), ""},
		{"no version", strings.TrimPrefix(key.PublicKeyEnv(), "1:"), "pw"},
		{"unknown version", "2:" + strings.TrimPrefix(key.PublicKeyEnv(), "1:"), "pw"},
		{"garbage key (transcript T26)", "garbage", "pw"},
		{"short key", "1:" + bypass.EncodeBase85(make([]byte, 30)), "pw"},
		{"bad base85", "1:" + strings.Repeat(" ", 40), "pw"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if pw, err := bypass.EncodeKitty1(tt.pubEnv, "id", tt.password, time.Now()); err == nil {
				t.Fatalf("EncodeKitty1 = %q, want an error", pw)
			}
		})
	}
}
