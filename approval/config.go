package approval

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// ConfigFileName is the name of the config file inside Paths.ConfigDir.
const ConfigFileName = "config.toml"

// DefaultPromptTimeout is how long the prompt waits before it denies.
const DefaultPromptTimeout = 2 * time.Minute

// MaxPromptTimeout bounds prompt_timeout.
const MaxPromptTimeout = 24 * time.Hour

// maxConfigFileSize bounds how much of a config file is read.
const maxConfigFileSize = 1 << 20

// Policy says what happens to a transfer that is not approved by a valid
// bypass.
type Policy string

// Policies.
const (
	PolicyAsk  Policy = "ask"  // show the prompt
	PolicyDeny Policy = "deny" // refuse without asking
)

// Paths are the per-user directories the configuration refers to. Build them
// with PathsFromEnv; tests fill them in directly.
type Paths struct {
	Home      string // the home directory: what ~ means, and where relative upload paths land
	ConfigDir string // $XDG_CONFIG_HOME/xferterm, default ~/.config/xferterm; holds config.toml and the key
	StateDir  string // $XDG_STATE_HOME/xferterm, default ~/.local/state/xferterm; holds the audit log
	TempDir   string // the system temporary directory (a default write root)
}

// PathsFromEnv computes Paths from the environment: HOME, XDG_CONFIG_HOME,
// XDG_STATE_HOME and TMPDIR (getenv is os.Getenv in production). Relative XDG
// values are ignored, as the XDG base directory specification says.
func PathsFromEnv(getenv func(string) string) (Paths, error) {
	home := getenv("HOME")
	if home == "" || !filepath.IsAbs(home) {
		return Paths{}, errors.New("approval: HOME is not set to an absolute path")
	}
	home = filepath.Clean(home)
	xdg := func(name, fallback string) string {
		if v := getenv(name); filepath.IsAbs(v) {
			return filepath.Join(v, "xferterm")
		}
		return filepath.Join(home, fallback, "xferterm")
	}
	tmp := getenv("TMPDIR")
	if !filepath.IsAbs(tmp) {
		tmp = "/tmp"
	}
	return Paths{
		Home:      home,
		ConfigDir: xdg("XDG_CONFIG_HOME", ".config"),
		StateDir:  xdg("XDG_STATE_HOME", filepath.Join(".local", "state")),
		TempDir:   filepath.Clean(tmp),
	}, nil
}

// ConfigFile returns the path of the config file.
func (p Paths) ConfigFile() string { return filepath.Join(p.ConfigDir, ConfigFileName) }

// Config is the approval configuration. Paths in it are absolute and clean.
type Config struct {
	// Home is what ~ means in the other fields and in protected patterns.
	Home string
	// PasswordFile holds the bypass password; empty means none (key password_file).
	PasswordFile string
	// WriteRoots are the directories uploads may write to without being
	// marked sensitive (key write_roots; default: Home and the temp dir).
	WriteRoots []string
	// Protected are extra sensitive-destination patterns (key protected),
	// added to DefaultProtected; see Guard for their syntax.
	Protected []string
	// PromptTimeout is how long the prompt waits before it denies (key
	// prompt_timeout, a Go duration such as "2m").
	PromptTimeout time.Duration
	// AuditLog is the JSON-lines audit log; empty disables it (key audit_log;
	// default StateDir/transfers.jsonl).
	AuditLog string
	// Policy is "ask" or "deny" (key policy).
	Policy Policy
}

// Defaults returns the configuration used when there is no config file.
func Defaults(p Paths) Config {
	return Config{
		Home:          p.Home,
		WriteRoots:    []string{p.Home, p.TempDir},
		PromptTimeout: DefaultPromptTimeout,
		AuditLog:      filepath.Join(p.StateDir, "transfers.jsonl"),
		Policy:        PolicyAsk,
	}
}

// configKeys lists the keys of the config file, in the order they are
// documented.
const configKeys = "password_file, write_roots, protected, prompt_timeout, audit_log, policy"

// fileConfig is the shape of config.toml; nil fields were not given.
type fileConfig struct {
	PasswordFile  *string   `toml:"password_file"`
	WriteRoots    *[]string `toml:"write_roots"`
	Protected     *[]string `toml:"protected"`
	PromptTimeout *string   `toml:"prompt_timeout"`
	AuditLog      *string   `toml:"audit_log"`
	Policy        *string   `toml:"policy"`
}

// Load reads the config file at path over Defaults(p). A missing file is not
// an error. An unknown key, a value of the wrong type or an invalid value is
// an error that names the key. A relative password_file is relative to the
// config file's directory.
func Load(path string, p Paths) (Config, error) {
	c := Defaults(p)
	data, err := readSmallFile(path, maxConfigFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return Config{}, fmt.Errorf("approval: config: %w", err)
	}
	var fc fileConfig
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&fc)
	if err != nil {
		return Config{}, fmt.Errorf("approval: config %s: %w", path, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		return Config{}, fmt.Errorf("approval: config %s: unknown key %q (known keys: %s)", path, undecoded[0].String(), configKeys)
	}
	dir := filepath.Dir(path)
	set := func(key string, v *string, f func(string) error) error {
		if v == nil {
			return nil
		}
		if err := f(*v); err != nil {
			return fmt.Errorf("approval: config %s: key %s: %w", path, key, err)
		}
		return nil
	}
	setList := func(key string, v *[]string, f func([]string) error) error {
		if v == nil {
			return nil
		}
		if err := f(*v); err != nil {
			return fmt.Errorf("approval: config %s: key %s: %w", path, key, err)
		}
		return nil
	}
	for _, err := range []error{
		set("password_file", fc.PasswordFile, func(v string) error { return c.setPasswordFile(v, dir) }),
		setList("write_roots", fc.WriteRoots, c.setWriteRoots),
		setList("protected", fc.Protected, c.setProtected),
		set("prompt_timeout", fc.PromptTimeout, c.setPromptTimeout),
		set("audit_log", fc.AuditLog, c.setAuditLog),
		set("policy", fc.Policy, c.setPolicy),
	} {
		if err != nil {
			return Config{}, err
		}
	}
	return c, nil
}

// Set sets one key from a command-line value, with the same validation as
// the config file; cmd calls it for each flag the user gave. List keys
// (write_roots, protected) take a list separated by the OS path-list
// separator (':'), which replaces the current list; an empty value empties
// it. Relative file paths are made absolute against the working directory.
func (c *Config) Set(key, value string) error {
	var err error
	list := func() []string {
		if value == "" {
			return []string{}
		}
		return filepath.SplitList(value)
	}
	switch key {
	case "password_file":
		var abs string
		if abs, err = absPath(value, c.Home, ""); err == nil {
			err = c.setPasswordFile(abs, "")
		}
	case "write_roots":
		err = c.setWriteRoots(list())
	case "protected":
		err = c.setProtected(list())
	case "prompt_timeout":
		err = c.setPromptTimeout(value)
	case "audit_log":
		var abs string
		if abs, err = absPath(value, c.Home, ""); err == nil {
			err = c.setAuditLog(abs)
		}
	case "policy":
		err = c.setPolicy(value)
	default:
		return fmt.Errorf("approval: unknown setting %q (known: %s)", key, configKeys)
	}
	if err != nil {
		return fmt.Errorf("approval: setting %s: %w", key, err)
	}
	return nil
}

func (c *Config) setPasswordFile(v, base string) error {
	if v == "" {
		c.PasswordFile = ""
		return nil
	}
	p, err := absPath(v, c.Home, base)
	if err != nil {
		return err
	}
	c.PasswordFile = p
	return nil
}

func (c *Config) setWriteRoots(v []string) error {
	roots := make([]string, 0, len(v))
	for _, r := range v {
		p, err := expandHome(r, c.Home)
		if err != nil {
			return err
		}
		if !filepath.IsAbs(p) {
			return fmt.Errorf("%q is not an absolute path", r)
		}
		roots = append(roots, filepath.Clean(p))
	}
	c.WriteRoots = roots
	return nil
}

func (c *Config) setProtected(v []string) error {
	for _, pat := range v {
		if _, err := compilePattern(pat, c.Home); err != nil {
			return err
		}
	}
	c.Protected = slices.Clone(v)
	return nil
}

func (c *Config) setPromptTimeout(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"2m\" or \"90s\"", v)
	}
	if d <= 0 || d > MaxPromptTimeout {
		return fmt.Errorf("%s is not between 0 and %s", d, MaxPromptTimeout)
	}
	c.PromptTimeout = d
	return nil
}

func (c *Config) setAuditLog(v string) error {
	if v == "" {
		c.AuditLog = ""
		return nil
	}
	p, err := expandHome(v, c.Home)
	if err != nil {
		return err
	}
	if !filepath.IsAbs(p) {
		return fmt.Errorf("%q is not an absolute path", v)
	}
	c.AuditLog = filepath.Clean(p)
	return nil
}

func (c *Config) setPolicy(v string) error {
	switch Policy(v) {
	case PolicyAsk, PolicyDeny:
		c.Policy = Policy(v)
		return nil
	}
	return fmt.Errorf("%q is not %q or %q", v, PolicyAsk, PolicyDeny)
}

// expandHome replaces a leading "~" or "~/" with home. "~user" is refused.
func expandHome(p, home string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home == "" {
			return "", fmt.Errorf("%q uses ~ but the home directory is unknown", p)
		}
		return home + p[1:], nil
	}
	if strings.HasPrefix(p, "~") {
		return "", fmt.Errorf("%q: only ~ and ~/ are supported, not ~user", p)
	}
	return p, nil
}

// absPath expands ~ and makes p absolute against base, or against the working
// directory if base is empty.
func absPath(p, home, base string) (string, error) {
	if p == "" {
		return "", nil
	}
	p, err := expandHome(p, home)
	if err != nil {
		return "", err
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p), nil
	}
	if base != "" {
		return filepath.Join(base, p), nil
	}
	return filepath.Abs(p)
}

// readSmallFile reads a whole regular file of at most limit bytes.
func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // Read-only: nothing to flush.
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}
