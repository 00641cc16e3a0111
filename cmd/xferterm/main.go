// Command xferterm runs a command in a pseudo-terminal and serves the OSC 5113 file
// transfers (kitty's protocol) that the command's output carries, against the local disk.
//
//	xferterm [flags] [--] [command [args...]]
//	xferterm transfer [flags] ...
//	xferterm pubkey
//
// Without a command it runs $SHELL (else /bin/sh). The exit status is the command's.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/proxy"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// run is the whole program; main only exits with its result, so that deferred restores
// run first.
func run(args []string, stdin, stdout *os.File, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 {
		switch args[0] {
		case "transfer":
			return runTransfer(args[1:])
		case "pubkey":
			return runPubkey(args[1:])
		}
	}

	flags := flag.NewFlagSet("xferterm", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprintf(flags.Output(), "usage: xferterm [flags] [--] [command [args...]]\n"+
			"       xferterm transfer ...\n"+
			"       xferterm pubkey\n\n"+
			"Runs command (default $SHELL) in a pseudo-terminal and serves the kitty file\n"+
			"transfers (OSC 5113) it asks for.\n\nFlags:\n")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}

	argv := flags.Args()
	if len(argv) == 0 {
		shell := getenv("SHELL")
		if shell == "" {
			shell = "/bin/sh"
		}
		argv = []string{shell}
	}
	home := getenv("HOME")
	if home == "" {
		fmt.Fprintln(stderr, "xferterm: HOME is not set")
		return 1
	}

	console := proxy.NewConsole(stdin, stdout)
	engine, err := fs.NewEngine(fs.Config{
		Home:     home,
		Approver: newApprover(console, stderr),
	})
	if err != nil {
		fmt.Fprintf(stderr, "xferterm: %v\n", err)
		return 1
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	code, err := proxy.Run(context.Background(), cmd, proxy.Config{
		Console: console,
		Engine:  engine,
	})
	if err != nil {
		fmt.Fprintf(stderr, "xferterm: %v\n", err)
	}
	return code
}
