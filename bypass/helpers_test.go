package bypass_test

import (
	"testing"
	"time"

	"github.com/xferterm/xferterm/bypass"
)

// newKey returns a fresh key pair that is stored nowhere.
func newKey(tb testing.TB) *bypass.KeyPair {
	tb.Helper()
	k, err := bypass.GenerateKeyPair()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// kitty1For returns the kitty-1 value (before base64) that a client makes of password
// for key's terminal, session id and time at.
func kitty1For(tb testing.TB, key *bypass.KeyPair, id, password string, at time.Time) string {
	tb.Helper()
	pw, err := bypass.EncodeKitty1(key.PublicKeyEnv(), id, password, at)
	if err != nil {
		tb.Fatal(err)
	}
	return pw
}
