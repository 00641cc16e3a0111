package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/xferterm/xferterm/approval"
	"github.com/xferterm/xferterm/bypass"
)

// runPubkey is `xferterm pubkey`: it prints the line to paste on a remote host so that
// a client there can encrypt the bypass password for this xferterm (terminal-side.md
// §4.1). Plain ssh does not forward KITTY_PUBLIC_KEY unless SendEnv/AcceptEnv allow it.
// The key pair is created on first use.
func runPubkey(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	flags := flag.NewFlagSet("xferterm pubkey", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprintf(flags.Output(), "usage: xferterm pubkey\n\n"+
			"Prints the shell line that exports this computer's KITTY_PUBLIC_KEY, to paste on a\n"+
			"remote host so that `kitten transfer --permissions-bypass` or\n"+
			"`xferterm transfer --password-file` can skip the prompt there.\n")
	}
	if err := flags.Parse(args); err != nil {
		return usageStatus(err)
	}
	if flags.NArg() > 0 {
		flags.Usage()
		return 2
	}
	paths, err := approval.PathsFromEnv(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "xferterm pubkey: %v\n", err)
		return 1
	}
	key, err := bypass.LoadOrCreateKeyPair(paths.ConfigDir)
	if err != nil {
		fmt.Fprintf(stderr, "xferterm pubkey: %v\n", err)
		return 1
	}
	// The base85 alphabet has no single quote, so single quotes make the value safe to
	// paste into any POSIX shell (it contains ; & | < > $ and backquotes).
	fmt.Fprintf(stdout, "export %s='%s'\n", bypass.PublicKeyEnvName, key.PublicKeyEnv())
	return 0
}
