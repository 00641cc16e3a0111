package bypass_test

import (
	"fmt"
	"time"

	"github.com/xferterm/xferterm/bypass"
)

// The proxy exports its public key to the child; a client that knows the
// password encodes a kitty-1 bypass with it; the proxy verifies it once.
func Example() {
	key, err := bypass.GenerateKeyPair()
	if err != nil {
		panic(err)
	}
	// The child's environment: no password, and our key instead of an
	// inherited one.
	env := bypass.FilterEnv([]string{"HOME=/home/u", "XFERTERM_PASSWORD=correct horse", "KITTY_PUBLIC_KEY=1:outer"},
		bypass.PasswordEnv, bypass.PublicKeyEnvName)
	env = append(env, bypass.PublicKeyEnvName+"="+key.PublicKeyEnv())
	fmt.Println(len(env), env[0])

	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	v := bypass.NewVerifier(key, bypass.NewSecret("correct horse"), func() time.Time { return now })

	// Client side (the value goes, base64-encoded, into the pw key).
	pw, err := bypass.EncodeKitty1(key.PublicKeyEnv(), "1a2b3c9f01", "correct horse", now)
	if err != nil {
		panic(err)
	}
	scheme, err := v.Verify("1a2b3c9f01", pw)
	fmt.Println(scheme, err)
	_, err = v.Verify("1a2b3c9f01", pw) // The same value again.
	fmt.Println(err)
	_, err = v.Verify("5e6f", "correct horse") // The kitten's plaintext leak.
	fmt.Println(err)
	// Output:
	// 2 HOME=/home/u
	// kitty-1 <nil>
	// bypass: refused: session id already used
	// bypass: refused: unknown scheme (value not shown: it may be a plaintext password)
}
