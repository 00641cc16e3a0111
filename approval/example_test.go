package approval_test

import (
	"fmt"
	"time"

	"github.com/xferterm/xferterm/approval"
)

// The proxy exports its public key to the child; a client that knows the
// password encodes a kitty-1 bypass with it; the proxy verifies it once.
func Example() {
	key, err := approval.GenerateKeyPair()
	if err != nil {
		panic(err)
	}
	// The child's environment: no password, and our key instead of an
	// inherited one.
	env := approval.FilterEnv([]string{"HOME=/home/u", "XFERTERM_PASSWORD=correct horse", "KITTY_PUBLIC_KEY=1:outer"},
		approval.PasswordEnv, approval.PublicKeyEnvName)
	env = append(env, approval.PublicKeyEnvName+"="+key.PublicKeyEnv())
	fmt.Println(len(env), env[0])

	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	v := approval.NewVerifier(key, approval.NewSecret("correct horse"), func() time.Time { return now })

	// Client side (the value goes, base64-encoded, into the pw key).
	pw, err := approval.EncodeKitty1(key.PublicKeyEnv(), "1a2b3c9f01", "correct horse", now)
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
	// approval: bypass refused: session id already used
	// approval: bypass refused: unknown scheme (value not shown: it may be a plaintext password)
}

// The Guard marks sensitive upload destinations and download sources.
func ExampleGuard() {
	paths := approval.Paths{Home: "/home/u", ConfigDir: "/home/u/.config/xferterm", StateDir: "/home/u/.local/state/xferterm", TempDir: "/tmp"}
	g, err := approval.NewGuard(approval.Defaults(paths), paths.ConfigDir, paths.StateDir)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", g.Write("/home/u/notes.txt", -1))
	fmt.Printf("%+v\n", g.Write("/home/u/.bashrc", 3277))
	fmt.Printf("%+v\n", g.Write("/etc/cron.d/job", -1))
	fmt.Printf("%+v\n", g.Read("/home/u/backup/id_ed25519", false))
	fmt.Printf("%+v\n", g.Read("/home/u", true))
	// Output:
	// {Sensitive:false Reason: Overwrite:false}
	// {Sensitive:true Reason:protected location ~/.bashrc Overwrite:true}
	// {Sensitive:true Reason:outside the allowed directories Overwrite:false}
	// {Sensitive:true Reason:private key or credentials Overwrite:false}
	// {Sensitive:true Reason:contains protected location ~/.ssh/ Overwrite:false}
}
