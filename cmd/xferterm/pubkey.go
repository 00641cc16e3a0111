package main

import (
	"fmt"
	"os"
)

// runPubkey is `xferterm pubkey`. PLACEHOLDER: the approval engineer or the lead replaces
// this file.
func runPubkey(args []string) int {
	_ = args
	fmt.Fprintln(os.Stderr, "xferterm pubkey: not implemented")
	return 1
}
