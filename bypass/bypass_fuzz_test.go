package bypass_test

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xferterm/xferterm/bypass"
)

// TestVerifyTranscriptValues runs the pw values the real kitten sent through
// the verifier. The kitty-1 ones parse, and fail only at decryption (the key
// they were made for is gone); the plaintext leaks (T21, T26) are refused as
// unknown schemes without revealing the password.
func TestVerifyTranscriptValues(t *testing.T) {
	key, err := bypass.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.ReadFile(filepath.Join("testdata", "transcript-pw.txt"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.Lines(string(f)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		name, id, wire := fields[0], fields[1], fields[2]
		t.Run("T"+name, func(t *testing.T) {
			raw, err := base64.RawStdEncoding.DecodeString(wire)
			if err != nil {
				t.Fatal(err)
			}
			pw := string(raw)
			// The transcripts ran at about 1795239730 s.
			v := bypass.NewVerifier(key, bypass.NewSecret("secret"), fixedClock(time.Unix(1795239730, 0)))
			_, err = v.Verify(id, pw)
			if data, ok := strings.CutPrefix(pw, "kitty-1:"); ok {
				iv, tag, pub, enc, perr := bypass.ParseKitty1(data)
				if perr != nil {
					t.Fatalf("kitten's kitty-1 value does not parse: %v", perr)
				}
				// "<19-digit ns>:<8-hex id>;secret" is 35 bytes.
				if len(iv) != 12 || len(tag) != 16 || len(pub) != 32 || len(enc) != 35 {
					t.Errorf("field sizes %d/%d/%d/%d, want 12/16/32/35", len(iv), len(tag), len(pub), len(enc))
				}
				if !errors.Is(err, bypass.ErrDecrypt) {
					t.Fatalf("Verify = %v, want ErrDecrypt", err)
				}
				return
			}
			if !errors.Is(err, bypass.ErrUnknownScheme) {
				t.Fatalf("Verify = %v, want ErrUnknownScheme", err)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error %q reveals the plaintext password", err)
			}
		})
		n++
	}
	if n != 5 {
		t.Fatalf("%d transcript values, want 5", n)
	}
}

// FuzzVerify feeds arbitrary session ids and pw values to the verifier. It
// must never panic, must refuse with an ErrRefused whose text is one of
// the fixed messages (so no input can leak into it), and anything it accepts
// must be refused when presented again.
func FuzzVerify(f *testing.F) {
	pv := loadPythonVector(f)
	f.Add(pv.id, pv.pw)
	f.Add("mysession", bypass.EncodeSHA256("mysession", pv.password))
	f.Add("s", "secret")
	f.Add("s", "kitty-1:{}")
	f.Add("s", `kitty-1:{"iv":"0","tag":"~~~~~","pubkey":"|NsC1","encrypted":null}`)
	f.Add("s", "sha256:zz")
	fixed := map[string]bool{}
	for _, e := range []error{
		bypass.ErrNoPassword, bypass.ErrUnknownScheme, bypass.ErrMalformed,
		bypass.ErrDecrypt, bypass.ErrClock, bypass.ErrReplay,
		bypass.ErrBusy, bypass.ErrMismatch, bypass.ErrStore,
	} {
		fixed[e.Error()] = true
	}
	f.Fuzz(func(t *testing.T, id, pw string) {
		v := bypass.NewVerifier(pv.key, bypass.NewSecret(pv.password), fixedClock(pv.at))
		scheme, err := v.Verify(id, pw)
		if err != nil {
			if !errors.Is(err, bypass.ErrRefused) || !fixed[err.Error()] || scheme != "" {
				t.Fatalf("Verify(%q, %q) = %q, %v", id, pw, scheme, err)
			}
			return
		}
		if scheme != bypass.SchemeKitty1 && scheme != bypass.SchemeSHA256 {
			t.Fatalf("accepted with scheme %q", scheme)
		}
		if _, err := v.Verify(id, pw); !errors.Is(err, bypass.ErrReplay) {
			t.Fatalf("accepted twice: %v", err)
		}
	})
}
