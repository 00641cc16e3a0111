package client

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// CommandLine is the parsed command line of `xferterm transfer`: the Options, plus what
// the command must resolve before calling Run.
type CommandLine struct {
	Options
	PasswordFile string // --password-file: read the bypass password from this file
}

// Usage is the synopsis of `xferterm transfer`.
const Usage = `usage: xferterm transfer [flags] SOURCE... DESTINATION
       xferterm transfer --mode mirror [flags] PATH...

Run inside a session wrapped by xferterm (or a terminal that speaks kitty's OSC 5113
file transfer protocol) to move files between this host and the terminal's machine.

  --direction send      files go from this host to the terminal's machine (default)
  --direction receive   files come from the terminal's machine to this host

Relative remote paths are relative to the terminal's home directory.
Ctrl+C or Esc cancels.

flags:
`

// ParseCommandLine parses the arguments of `xferterm transfer` (after the word
// "transfer"). Flags come before the paths. Help goes to out; -h and --help return
// flag.ErrHelp. Other errors wrap ErrUsage.
func ParseCommandLine(args []string, out io.Writer) (CommandLine, error) {
	var cl CommandLine
	fset := flag.NewFlagSet("xferterm transfer", flag.ContinueOnError)
	fset.SetOutput(out)
	fset.Usage = func() {
		fmt.Fprint(out, Usage)
		fset.PrintDefaults()
	}
	direction := fset.String("direction", "send", "`send` (this host → terminal; also: download) or receive (terminal → this host; also: upload)")
	fset.StringVar(direction, "d", "send", "short for --direction")
	compress := fset.String("compress", "auto", "zlib compression: `auto` (files over 4096 bytes not already compressed), always or never")
	mode := fset.String("mode", "normal", "`normal` (the last path is the destination) or mirror (every path goes to the same path on the other side)")
	fset.StringVar(mode, "m", "normal", "short for --mode")
	fset.BoolVar(&cl.TransmitDeltas, "transmit-deltas", false, "send only the differences (rsync) for files over 4096 bytes that exist on both sides")
	fset.BoolVar(&cl.TransmitDeltas, "x", false, "short for --transmit-deltas")
	fset.StringVar(&cl.PasswordFile, "password-file", "", "read the bypass password from `FILE` (needs KITTY_PUBLIC_KEY; never sent in the clear)")
	fset.DurationVar(&cl.Timeout, "timeout", DefaultTimeout, "give up when the terminal shows no sign of life for this long (approval included)")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cl, err
		}
		return cl, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	var err error
	if cl.Direction, err = ParseDirection(*direction); err != nil {
		return cl, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if cl.Compress, err = ParseCompress(*compress); err != nil {
		return cl, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if cl.Mode, err = ParseMode(*mode); err != nil {
		return cl, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if cl.Timeout <= 0 {
		return cl, fmt.Errorf("%w: --timeout must be positive", ErrUsage)
	}
	cl.Args = fset.Args()
	switch {
	case cl.Mode == Mirror && len(cl.Args) < 1:
		return cl, fmt.Errorf("%w: no paths given", ErrUsage)
	case cl.Mode == Normal && len(cl.Args) < 2:
		return cl, fmt.Errorf("%w: need at least one source and a destination", ErrUsage)
	}
	for _, a := range cl.Args {
		if a == "" {
			return cl, fmt.Errorf("%w: empty path", ErrUsage)
		}
	}
	return cl, nil
}
