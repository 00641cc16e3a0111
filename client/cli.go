package client

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// CommandLine is the parsed command line of `xferterm transfer`: the Options, plus what
// the command must resolve before calling Run.
type CommandLine struct {
	Options
	PasswordFile string       // --password-file: read the bypass password from this file
	Bypass       BypassSource // --permissions-bypass / -p: where the bypass password is
	Version      bool         // --version: print the version and do nothing else
}

// BypassKind says where --permissions-bypass takes the password from.
type BypassKind uint8

// Kinds of --permissions-bypass values (reference-client.md §1).
const (
	BypassNone    BypassKind = iota // the option was not given
	BypassLiteral                   // the value is the password itself
	BypassFile                      // the value starts with '.', '/' or '~': a file holding it
	BypassStdin                     // the value is "-": read it from standard input
	BypassFD                        // the value is a number below 256: a file descriptor to read
)

// BypassSource is a parsed --permissions-bypass value. Its String, GoString and Format
// never show a literal password.
type BypassSource struct {
	Kind    BypassKind
	Literal string // BypassLiteral: the password, whitespace not yet trimmed
	Path    string // BypassFile: the file, with a leading ~ expanded
	FD      int    // BypassFD: the descriptor
}

// String describes the source without revealing a literal password.
func (b BypassSource) String() string {
	switch b.Kind {
	case BypassLiteral:
		return "literal password [redacted]"
	case BypassFile:
		return "file " + b.Path
	case BypassStdin:
		return "standard input"
	case BypassFD:
		return "file descriptor " + strconv.Itoa(b.FD)
	}
	return "none"
}

// GoString is String, so that %#v does not reveal a literal password either.
func (b BypassSource) GoString() string { return b.String() }

// Format prints String for every verb, so that %v, %+v and %q redact too.
func (b BypassSource) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, b.String()) }

// maxBypassFD bounds the numbers taken as file descriptors, as the real client does.
const maxBypassFD = 256

// ParseBypassSource classifies a --permissions-bypass value the way the real client
// does (reference-client.md §1): "-" is standard input; a value starting with '.', '/'
// or '~' is a file ("~" and "~/…" are expanded with home); a decimal number below 256
// is a file descriptor; anything else is the password itself. Nothing is read here. An
// error never contains a literal password.
func ParseBypassSource(value, home string) (BypassSource, error) {
	switch {
	case value == "-":
		return BypassSource{Kind: BypassStdin}, nil
	case strings.HasPrefix(value, "~"):
		if value != "~" && !strings.HasPrefix(value, "~/") {
			return BypassSource{}, fmt.Errorf("%w: --permissions-bypass %s: only ~ and ~/ are expanded, not ~user", ErrUsage, value)
		}
		if home == "" {
			return BypassSource{}, fmt.Errorf("%w: --permissions-bypass %s: HOME is not set", ErrUsage, value)
		}
		return BypassSource{Kind: BypassFile, Path: filepath.Join(home, value[1:])}, nil
	case strings.HasPrefix(value, ".") || strings.HasPrefix(value, "/"):
		return BypassSource{Kind: BypassFile, Path: value}, nil
	}
	if isDecimal(value) {
		if n, err := strconv.Atoi(value); err == nil && n < maxBypassFD {
			return BypassSource{Kind: BypassFD, FD: n}, nil
		}
	}
	if strings.TrimSpace(value) == "" {
		return BypassSource{}, fmt.Errorf("%w: --permissions-bypass: empty password", ErrUsage)
	}
	return BypassSource{Kind: BypassLiteral, Literal: value}, nil
}

// isDecimal reports whether s is one or more ASCII digits.
func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
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

--permissions-bypass (-p) skips the terminal's confirmation with a password shared
with it, sent encrypted for KITTY_PUBLIC_KEY. Its value is the password itself, or a
file holding it if it starts with '.', '/' or '~' (the file must not be readable by
group or others), or - for standard input, or a number below 256 for a file
descriptor to read it from. Surrounding whitespace is trimmed.

--confirm-paths (-c), in the send direction, shows where each file will go once the
terminal has accepted them all, and sends nothing until you type y (n cancels).

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
	fset.StringVar(&cl.PasswordFile, "password-file", "", "read the bypass password from `FILE` (needs KITTY_PUBLIC_KEY; never sent in the clear; not with -p)")
	var bypass string
	fset.StringVar(&bypass, "permissions-bypass", "", "the bypass `PASSWORD`, or where to read it: a path starting with . / or ~, - for stdin, or a file descriptor below 256 (needs KITTY_PUBLIC_KEY)")
	fset.StringVar(&bypass, "p", "", "short for --permissions-bypass")
	fset.BoolVar(&cl.ConfirmPaths, "confirm-paths", false, "show where each file will go once the terminal has accepted them, and wait for y or n before sending any data (send direction)")
	fset.BoolVar(&cl.ConfirmPaths, "c", false, "short for --confirm-paths")
	fset.BoolVar(&cl.Version, "version", false, "print the version and exit")
	fset.DurationVar(&cl.Timeout, "timeout", DefaultTimeout, "give up when the terminal shows no sign of life for this long (approval included; not while --confirm-paths waits for your answer)")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cl, err
		}
		return cl, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if cl.Version {
		return cl, nil
	}
	bypassGiven := false
	fset.Visit(func(f *flag.Flag) {
		if f.Name == "permissions-bypass" || f.Name == "p" {
			bypassGiven = true
		}
	})
	var err error
	if bypassGiven {
		if cl.PasswordFile != "" {
			return cl, fmt.Errorf("%w: --permissions-bypass and --password-file cannot be used together", ErrUsage)
		}
		if cl.Bypass, err = ParseBypassSource(bypass, os.Getenv("HOME")); err != nil {
			return cl, err
		}
	}
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
