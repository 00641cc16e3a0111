package bypass_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xferterm/xferterm/bypass"
)

// TestFloodOfWrongPasswordsDoesNotLockOutTheRightOne is finding 5 of the adversarial
// review (issue 16): some 4 100 bogus sha256 values made the bypass refuse the right
// password for 10 minutes. Here 5 000 of them, and 500 bogus kitty-1 values for good
// measure, all for fresh ids, come before and between values with the right password.
func TestFloodOfWrongPasswordsDoesNotLockOutTheRightOne(t *testing.T) {
	key := newKey(t)
	other := newKey(t)
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	v := bypass.NewVerifier(key, bypass.NewSecret("right"), fixedClock(now))
	bogusKitty1 := kitty1For(t, other, "x", "right", now)
	for i := range 5000 {
		id := "flood" + strconv.Itoa(i)
		if _, err := v.Verify(id, bypass.EncodeSHA256(id, "guess"+strconv.Itoa(i))); !errors.Is(err, bypass.ErrMismatch) {
			t.Fatalf("bogus value %d: %v, want ErrMismatch", i, err)
		}
		if i%10 == 0 {
			if _, err := v.Verify(id+"k", bogusKitty1); !errors.Is(err, bypass.ErrDecrypt) {
				t.Fatalf("bogus kitty-1 value %d: %v, want ErrDecrypt", i, err)
			}
		}
		if i%1000 == 999 {
			good := "good" + strconv.Itoa(i)
			pw := kitty1For(t, key, good, "right", now)
			if _, err := v.Verify(good, pw); err != nil {
				t.Fatalf("the right kitty-1 value after %d wrong ones: %v", i+1, err)
			}
			if _, err := v.Verify(good+"s", bypass.EncodeSHA256(good+"s", "right")); err != nil {
				t.Fatalf("the right sha256 value after %d wrong ones: %v", i+1, err)
			}
		}
	}
}

// TestBackoffPacesFailedChecksOnly: the first FreeFailures failed checks cost nothing;
// each further one costs 1/FailuresPerSecond of reading nothing, which waiting pays
// back. Values with the right password, and values refused before any check, cost
// nothing, even while failures are being paced.
func TestBackoffPacesFailedChecksOnly(t *testing.T) {
	key := newKey(t)
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	clock := now
	v := bypass.NewVerifier(key, bypass.NewSecret("right"), func() time.Time { return clock })
	step := time.Second / bypass.FailuresPerSecond
	wrong := func(i int) {
		t.Helper()
		id := "w" + strconv.Itoa(i)
		if _, err := v.Verify(id, bypass.EncodeSHA256(id, "guess")); !errors.Is(err, bypass.ErrMismatch) {
			t.Fatal(err)
		}
	}
	for i := range bypass.FreeFailures {
		wrong(i)
		if d := v.Backoff(); d != 0 {
			t.Fatalf("backoff %v after %d failures, want 0", d, i+1)
		}
	}
	wrong(bypass.FreeFailures)
	if d := v.Backoff(); d != step {
		t.Fatalf("backoff %v after %d failures, want %v", d, bypass.FreeFailures+1, step)
	}
	// Cheap refusals and values with the right password add nothing.
	for i, pw := range []string{"kitty-1:{}", "sha256:xyz", "plaintext", strings.Repeat("a", bypass.MaxLen+1)} {
		if _, err := v.Verify("c"+strconv.Itoa(i), pw); err == nil {
			t.Fatalf("%q accepted", pw)
		}
	}
	if _, err := v.Verify("ok1", bypass.EncodeSHA256("ok1", "right")); err != nil {
		t.Fatalf("the right password while paced: %v", err)
	}
	good := kitty1For(t, key, "ok2", "right", now)
	if _, err := v.Verify("ok2", good); err != nil {
		t.Fatalf("the right kitty-1 value while paced: %v", err)
	}
	if d := v.Backoff(); d != step {
		t.Fatalf("backoff %v after values that were not failed checks, want still %v", d, step)
	}
	// Paying the backoff (the caller waits) keeps the rate at FailuresPerSecond.
	for i := range 50 {
		clock = clock.Add(v.Backoff())
		wrong(1000 + i)
		if d := v.Backoff(); d != step {
			t.Fatalf("backoff %v in the steady state, want %v", d, step)
		}
	}
	// Nobody paying piles up at most FreeFailures intervals.
	for i := range 10 * bypass.FreeFailures {
		wrong(2000 + i)
	}
	if d, most := v.Backoff(), bypass.FreeFailures*step; d != most {
		t.Fatalf("unpaid backoff %v, want it capped at %v", d, most)
	}
	// After a quiet spell the budget is whole again.
	clock = clock.Add(2 * bypass.FreeFailures * step)
	for i := range bypass.FreeFailures {
		wrong(5000 + i)
	}
	if d := v.Backoff(); d != 0 {
		t.Fatalf("backoff %v after a quiet spell and %d failures, want 0", d, bypass.FreeFailures)
	}
}

// TestKitty1JSONTricks: what a hostile remote can do with the JSON of a kitty-1 value.
// None of it gets past the password; what the kitten sends still works.
func TestKitty1JSONTricks(t *testing.T) {
	key := newKey(t)
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	const id = "s1"
	good := kitty1For(t, key, id, "right", now)
	bad := kitty1For(t, key, id, "wrong", now)
	body := func(pw string) string { return strings.TrimSuffix(strings.TrimPrefix(pw, "kitty-1:{"), "}") }
	deep := strings.Repeat("[", 1500) + strings.Repeat("]", 1500)
	tests := []struct {
		name string
		pw   string
		want error // nil: accepted
	}{
		{"the kitten's value", good, nil},
		{"duplicate keys: the last one counts, as in kitty (Python's json)", "kitty-1:{" + body(bad) + "," + body(good) + "}", nil},
		{"duplicate keys: a wrong last one is refused", "kitty-1:{" + body(good) + "," + body(bad) + "}", bypass.ErrMismatch},
		{"a huge number where the version is", strings.Replace(good, `"version":[0,0,0]`, `"version":1e999999999`, 1), nil},
		{"deep nesting where the version is", strings.Replace(good, `"version":[0,0,0]`, `"version":`+deep, 1), nil},
		{"an unknown key", strings.Replace(good, `"version"`, `"x":{"y":null},"version"`, 1), nil},
		{"a \\u escape in a base85 field is the same value", escapeFirst(good, "iv"), nil},
		{"trailing bytes after the object", good + "x", bypass.ErrMalformed},
		{"two objects", good + strings.TrimPrefix(good, "kitty-1:"), bypass.ErrMalformed},
		{"an array", "kitty-1:[" + strings.TrimPrefix(good, "kitty-1:") + "]", bypass.ErrMalformed},
		{"a string", `kitty-1:"x"`, bypass.ErrMalformed},
		{"null", "kitty-1:null", bypass.ErrMalformed},
		{"a null public key", `kitty-1:{"iv":"00000","tag":"00000","pubkey":null,"encrypted":""}`, bypass.ErrMalformed},
		{"invalid UTF-8 in a field", strings.Replace(good, `"iv":"`, "\"iv\":\"\xff", 1), bypass.ErrMalformed},
		{"an all-zero (low-order) public key", editPubkey(t, good, make([]byte, 32)), bypass.ErrDecrypt},
		{"deep nesting alone", "kitty-1:" + strings.Repeat("[", bypass.MaxLen-8), bypass.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := bypass.NewVerifier(key, bypass.NewSecret("right"), fixedClock(now))
			_, err := v.Verify(id, tt.pw)
			if (err == nil) != (tt.want == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// escapeFirst writes the first character of a JSON field's string value that is not
// escaped already (Go escapes <, > and &) as a \u escape.
func escapeFirst(pw, field string) string {
	i := strings.Index(pw, `"`+field+`":"`) + len(field) + 4
	for pw[i] == '\\' {
		i += len(`\u003c`)
	}
	return pw[:i] + fmt.Sprintf(`\u%04x`, pw[i]) + pw[i+1:]
}

// encryptPlain returns a kitty-1 value for key holding plain.
func encryptPlain(t *testing.T, key *bypass.KeyPair, plain string) string {
	t.Helper()
	pw, err := bypass.EncodeKitty1Plain(key.PublicKeyEnv(), plain)
	if err != nil {
		t.Fatal(err)
	}
	return pw
}

// editPubkey replaces the public key of a kitty-1 value with raw.
func editPubkey(t *testing.T, pw string, raw []byte) string {
	t.Helper()
	return editKitty1(t, pw, func(m map[string]any) { m["pubkey"] = bypass.EncodeBase85(raw) })
}

// TestKitty1Timestamps: the edges of the timestamp inside a kitty-1 value. A value
// dated ahead (its client's clock runs fast) is refused, and cannot be presented again
// once this computer's clock has caught up.
func TestKitty1Timestamps(t *testing.T) {
	key := newKey(t)
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	// withTS encrypts "<ts>:<id>;<password>" as a client with any timestamp text would.
	withTS := func(ts, id string) string {
		t.Helper()
		return encryptPlain(t, key, ts+":"+id+";right")
	}
	ns := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).UnixNano(), 10) }
	tests := []struct {
		name, ts string
		want     error
	}{
		{"now", ns(0), nil},
		{"with a plus sign", "+" + ns(0), nil},
		{"with leading zeros", "000" + ns(0), nil},
		{"exactly 5 minutes ago", ns(-bypass.Window), nil},
		{"5 minutes and 1 ns ago", ns(-bypass.Window - 1), bypass.ErrClock},
		{"exactly 5 minutes ahead", ns(bypass.Window), nil},
		{"5 minutes and 1 ns ahead", ns(bypass.Window + 1), bypass.ErrClock},
		{"zero", "0", bypass.ErrClock},
		{"negative", "-" + ns(0), bypass.ErrClock},
		{"the largest int64", "9223372036854775807", bypass.ErrClock},
		{"the smallest int64", "-9223372036854775808", bypass.ErrClock},
		{"past int64", "9223372036854775808", bypass.ErrMalformed},
		{"empty", "", bypass.ErrMalformed},
		{"with a space", " " + ns(0), bypass.ErrMalformed},
		{"in seconds, not nanoseconds", strconv.FormatInt(now.Unix(), 10), bypass.ErrClock},
		{"hexadecimal", "0x" + strconv.FormatInt(now.UnixNano(), 16), bypass.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := bypass.NewVerifier(key, bypass.NewSecret("right"), fixedClock(now))
			_, err := v.Verify("s1", withTS(tt.ts, "s1"))
			if (err == nil) != (tt.want == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}

	t.Run("a value dated ahead cannot be replayed once it is due", func(t *testing.T) {
		clock := now
		v := bypass.NewVerifier(key, bypass.NewSecret("right"), func() time.Time { return clock })
		ahead := withTS(ns(time.Hour), "early")
		if _, err := v.Verify("early", ahead); !errors.Is(err, bypass.ErrClock) {
			t.Fatalf("an hour ahead: %v, want ErrClock", err)
		}
		clock = now.Add(time.Hour)
		if _, err := v.Verify("early", ahead); !errors.Is(err, bypass.ErrReplay) {
			t.Fatalf("presented again when due: %v, want ErrReplay", err)
		}
	})
	t.Run("a value with a wrong password and any date is a failed check", func(t *testing.T) {
		v := bypass.NewVerifier(key, bypass.NewSecret("other"), fixedClock(now))
		if _, err := v.Verify("s1", withTS(ns(-time.Hour), "s1")); !errors.Is(err, bypass.ErrMismatch) {
			t.Fatalf("Verify = %v, want ErrMismatch (the password is compared first)", err)
		}
	})
}

// TestOddValues: values at and past the limits, and bytes no client sends.
func TestOddValues(t *testing.T) {
	key := newKey(t)
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	sha := strings.TrimPrefix(bypass.EncodeSHA256("s1", "right"), "sha256:")
	tests := []struct {
		name, id, pw string
		want         error
	}{
		{"a value of exactly MaxLen bytes is parsed", "s1", "kitty-1:" + strings.Repeat(" ", bypass.MaxLen-8), bypass.ErrMalformed},
		{"a value of MaxLen+1 bytes is refused unread", "s1", "sha256:" + strings.Repeat("0", bypass.MaxLen-6), bypass.ErrMalformed},
		{"an id of MaxLen+1 bytes is refused", strings.Repeat("i", bypass.MaxLen+1), bypass.EncodeSHA256(strings.Repeat("i", bypass.MaxLen+1), "right"), bypass.ErrMalformed},
		{"an id of MaxLen bytes is fine", strings.Repeat("i", bypass.MaxLen), bypass.EncodeSHA256(strings.Repeat("i", bypass.MaxLen), "right"), nil},
		{"mixed case hex", "s1", "sha256:" + strings.ToUpper(sha[:32]) + sha[32:], nil},
		{"63 hex digits", "s1", "sha256:" + sha[:63], bypass.ErrMalformed},
		{"65 hex digits", "s1", "sha256:" + sha + "0", bypass.ErrMalformed},
		{"a NUL in the value", "s1", "sha256:" + sha[:10] + "\x00" + sha[11:], bypass.ErrMalformed},
		{"a NUL before the scheme", "s1", "\x00sha256:" + sha, bypass.ErrUnknownScheme},
		{"invalid UTF-8 in the scheme", "s1", "sha\xff256:" + sha, bypass.ErrUnknownScheme},
		{"an empty value", "s1", "", bypass.ErrUnknownScheme},
		{"a bare colon", "s1", ":", bypass.ErrUnknownScheme},
		{"a scheme with a space", "s1", "sha256 :" + sha, bypass.ErrUnknownScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := bypass.NewVerifier(key, bypass.NewSecret("right"), fixedClock(now))
			_, err := v.Verify(tt.id, tt.pw)
			if (err == nil) != (tt.want == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if d := v.Backoff(); d != 0 {
				t.Fatalf("backoff %v after one value", d)
			}
		})
	}
}
