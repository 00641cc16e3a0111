// Command xferterm runs a command in a pseudo-terminal and serves the OSC 5113 file
// transfers (kitty's protocol) that the command's output carries, against the local disk.
//
//	xferterm [flags] [--] [command [args...]]
//	xferterm transfer [flags] SOURCE... DESTINATION
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
	"runtime/debug"
	"strings"
	"time"

	"github.com/xferterm/xferterm/approval"
	"github.com/xferterm/xferterm/bypass"
	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/internal/version"
	"github.com/xferterm/xferterm/prompt"
	"github.com/xferterm/xferterm/proxy"
	"github.com/xferterm/xferterm/scanner"
)

func main() {
	// First, before this program starts goroutines that create files: reading the umask
	// sets it for a moment (fs.ReadUmask).
	umask := fs.ReadUmask()
	os.Exit(run(os.Args[1:], umask, os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// configFlags are the flags that override a key of the config file; the key is the
// flag's name with '-' replaced by '_'.
var configFlags = []struct{ name, usage string }{
	{"policy", "`ask` the user about each transfer, or `deny` every transfer without a valid bypass (config: policy)"},
	{"prompt-timeout", "how long the prompt waits before it refuses, e.g. `2m` (config: prompt_timeout)"},
	{"audit-log", "JSON-lines audit log of every decision and file; empty disables it (config: audit_log)"},
	{"write-roots", "colon-separated directories uploads may write to without asking again (config: write_roots)"},
	{"protected", "colon-separated extra patterns of sensitive destinations, always asked about (config: protected)"},
}

const usageText = `usage: xferterm [flags] [--] [command [args...]]
       xferterm transfer [flags] SOURCE... DESTINATION   (run on the remote host)
       xferterm pubkey                                   (print the KITTY_PUBLIC_KEY export line)

Runs command (default $SHELL) in a pseudo-terminal, relays it to this terminal byte for
byte, and serves the kitty file transfers (OSC 5113) it asks for: each transfer is shown
and must be allowed, unless the client proves the pre-shared password (the bypass).

Configuration: $XDG_CONFIG_HOME/xferterm/config.toml (default ~/.config/xferterm), keys:
  password_file   file holding the bypass password (mode 0600 or stricter)
  policy          "ask" (default) or "deny"
  prompt_timeout  e.g. "2m" (default); an unanswered prompt refuses
  audit_log       default $XDG_STATE_HOME/xferterm/transfers.jsonl; "" disables it
  write_roots     list of directories uploads may write to (default: HOME and the temp dir)
  protected       list of extra sensitive destinations, e.g. ["~/.config/nvim/"]
The bypass password may also come from $XFERTERM_PASSWORD (removed from the child's
environment). Flags override the file.

Flags:
`

// run is the whole program; main only exits with its result, so that deferred restores
// run first. umask is the process's, read by main (fs.ReadUmask).
func run(args []string, umask uint32, stdin, stdout *os.File, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 {
		switch args[0] {
		case "transfer":
			return runTransfer(args[1:])
		case "pubkey":
			return runPubkey(args[1:], stdout, stderr, getenv)
		}
	}

	flags := flag.NewFlagSet("xferterm", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprint(flags.Output(), usageText)
		flags.PrintDefaults()
	}
	showVersion := flags.Bool("version", false, "print the version, commit and Go release, and exit")
	configFile := flags.String("config", "", "config file (default $XDG_CONFIG_HOME/xferterm/config.toml)")
	passwordFile := flags.String("password-file", "", "file holding the bypass password (config: password_file)")
	isOverride := make(map[string]bool, len(configFlags))
	for _, f := range configFlags {
		flags.String(f.name, "", f.usage) // Read back through flags.Visit.
		isOverride[f.name] = true
	}
	if err := flags.Parse(args); err != nil {
		return usageStatus(err)
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.Read())
		return 0
	}
	// The engine's budget (fs.Limits.MaxHeld) bounds what a remote makes it hold; a
	// soft memory limit makes the collector keep the heap near that, instead of letting
	// it grow to twice what is live before it collects. GOMEMLIMIT overrides it.
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}

	paths, err := approval.PathsFromEnv(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "xferterm: %v\n", err)
		return 1
	}
	if *configFile == "" {
		*configFile = paths.ConfigFile()
	}
	cfg, err := approval.Load(*configFile, paths)
	if err != nil {
		fmt.Fprintf(stderr, "xferterm: %v\n", err)
		return 2
	}
	var flagErr error
	flags.Visit(func(f *flag.Flag) {
		if isOverride[f.Name] && flagErr == nil {
			if err := cfg.Set(strings.ReplaceAll(f.Name, "-", "_"), f.Value.String()); err != nil {
				flagErr = fmt.Errorf("-%s: %w", f.Name, err)
			}
		}
	})
	if flagErr != nil {
		fmt.Fprintf(stderr, "xferterm: %v\n", flagErr)
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

	password, _, err := bypass.ResolvePassword(*passwordFile, cfg.PasswordFile, func(k string) (string, bool) {
		v := getenv(k)
		return v, v != ""
	})
	if err != nil {
		fmt.Fprintf(stderr, "xferterm: %v\n", err)
		return 1
	}
	var env []string
	verifier := bypass.Options{Password: password}
	key, err := bypass.LoadOrCreateKeyPair(paths.ConfigDir)
	if err != nil {
		// Without a key the kitty-1 bypass cannot work, but prompts still do.
		fmt.Fprintf(stderr, "xferterm: no bypass key (%v); transfers will be asked about\n", err)
	} else {
		env = append(env, bypass.PublicKeyEnvName+"="+key.PublicKeyEnv())
		verifier.Key = key
	}
	// Every xferterm that uses the key records the session ids of accepted bypasses in
	// the same file, so that a value one accepted is refused by all.
	used, err := bypass.NewFileIDs(paths.ConfigDir)
	if err == nil && !password.Empty() {
		err = used.Check(time.Now())
	}
	if err != nil {
		fmt.Fprintf(stderr, "xferterm: %v\nxferterm: the bypass is refused until that file can be used (delete it to start a new one); transfers will be asked about\n", err)
	}
	if used != nil {
		verifier.Used = used
	} else {
		verifier.Password = bypass.Secret{}
	}
	bypasses := bypass.New(verifier)
	guard, err := approval.NewGuard(cfg, paths.ConfigDir, paths.StateDir)
	if err != nil {
		fmt.Fprintf(stderr, "xferterm: %v\n", err)
		return 2
	}
	var audit *approval.AuditLog
	if cfg.AuditLog != "" {
		if audit, err = approval.OpenAuditLog(cfg.AuditLog, approval.AuditOptions{}); err != nil {
			fmt.Fprintf(stderr, "xferterm: %v (continuing without an audit log)\n", err)
			audit = nil
		}
		defer audit.Close()
	}

	console := proxy.NewConsole(stdin, stdout)
	approver, err := approval.New(approval.Options{
		Home:     paths.Home,
		Guard:    guard,
		Verifier: bypasses,
		Policy:   cfg.Policy,
		Asker:    prompt.NewTerminal(console, prompt.Options{Timeout: cfg.PromptTimeout}),
		Audit:    audit,
		Notes:    stderr,
	})
	if err != nil {
		fmt.Fprintf(stderr, "xferterm: %v\n", err)
		return 1
	}
	engine, err := fs.NewEngine(fs.Config{Home: paths.Home, Approver: approver, Events: approver.Record, Umask: &umask})
	if err != nil {
		fmt.Fprintf(stderr, "xferterm: %v\n", err)
		return 1
	}
	// The questions for the user are shown on their own goroutine, for as long as the
	// child runs; the engine never waits for them.
	ctx, stopAsking := context.WithCancel(context.Background())
	asking := make(chan struct{})
	go func() {
		defer close(asking)
		_ = approver.Run(ctx) // Ends with ctx.
	}()
	defer func() {
		stopAsking()
		<-asking
	}()
	cmd := exec.Command(argv[0], argv[1:]...)
	// The password never reaches the child, whatever its source.
	cmd.Env = bypass.FilterEnv(os.Environ(), bypass.PasswordEnv)
	code, err := proxy.Run(context.Background(), cmd, proxy.Config{
		Console: console,
		Engine:  pacedEngine{Engine: engine, backoff: bypasses.Backoff, sleep: time.Sleep},
		Env:     env,
	})
	if err != nil {
		fmt.Fprintf(stderr, "xferterm: %v\n", err)
	}
	return code
}

// memoryLimit is the Go runtime's soft memory limit: the engine's budget and its
// outbox, and 16 MiB of room for everything else (44 MiB in all).
const memoryLimit = fs.DefaultMaxHeld + fs.DefaultMaxOutbox + 16<<20

// usageStatus is the exit status after a flag parsing error: 0 for -help, else 2.
func usageStatus(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// pacedEngine is the engine as the proxy sees it, paced for failed bypass checks: after
// each payload, the output pump waits out the verifier's Backoff before it reads more
// of the child's output. It waits outside the engine's lock, so the transfers under
// way, the keyboard and the prompt go on; only the stream that carries the guesses
// slows down (see package bypass, "Guessing is paced, not refused").
type pacedEngine struct {
	proxy.Engine
	backoff func() time.Duration
	sleep   func(time.Duration)
}

// HandlePayloadFrom hands p to the engine, then waits out the backoff.
func (e pacedEngine) HandlePayloadFrom(p []byte, d scanner.Dialect) error {
	err := e.Engine.HandlePayloadFrom(p, d)
	if wait := e.backoff(); wait > 0 {
		e.sleep(wait)
	}
	return err
}
