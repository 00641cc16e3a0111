package approval

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// DefaultProtected returns the built-in sensitive-destination patterns. The
// config's protected list is added to them; they cannot be removed. Specific
// entries come first so that the reason shown names the most telling one.
// See Guard for the pattern syntax.
func DefaultProtected() []string {
	return []string{
		// Login and remote access.
		"~/.ssh/", "~/.gnupg/", "~/.netrc", "~/.pki/", "~/.password-store/",
		"~/.git-credentials", "~/.aws/", "~/.kube/", "~/.docker/", "~/.config/gh/",
		// Shell start-up files: run on the next login or shell.
		"~/.bashrc", "~/.bash_profile", "~/.bash_login", "~/.bash_logout", "~/.profile",
		"~/.zshrc", "~/.zprofile", "~/.zshenv", "~/.zlogin", "~/.zlogout", "~/.inputrc",
		"~/.config/fish/", "~/.xprofile", "~/.xinitrc", "~/.xsession", "~/.pam_environment",
		// Things other programs run or load.
		"~/.config/autostart/", "~/.config/systemd/", "~/.config/environment.d/",
		"~/.local/share/applications/", "~/.local/share/systemd/", "~/.local/bin/", "~/.local/lib/",
		"~/bin/", "~/.cargo/", "~/go/bin/", "~/.gitconfig", "~/.config/git/",
		"~/.vimrc", "~/.vim/", "~/.config/nvim/", "~/.emacs", "~/.emacs.d/",
		"~/.tmux.conf", "~/.config/tmux/", "~/.curlrc", "~/.wgetrc", "~/.npmrc", "~/.pypirc",
		// xferterm's own configuration, key and audit log, and kitty's.
		"~/.config/xferterm/", "~/.local/state/xferterm/", "~/.config/kitty/",
		// Every other dotfile or dot-directory in the home directory.
		"~/.*", "~/.*/",
		// Not files at all.
		"/proc/", "/sys/", "/dev/",
	}
}

// privateKeyNames are file-name patterns of private keys and credential
// stores; a read of one is marked sensitive wherever it is.
func privateKeyNames() []string {
	return []string{
		"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", "identity",
		"*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.kdbx", "*.ovpn",
		"credentials", "credentials.json", "*.secret", "secrets.*",
	}
}

// Verdict is the Guard's classification of one path.
type Verdict struct {
	// Sensitive is true if the prompt should mark the path (and, for uploads,
	// ask about it separately).
	Sensitive bool
	// Reason says why, in a few words of our own (never peer text), for the
	// prompt and the audit log; empty when not sensitive.
	Reason string
	// Overwrite is true for a write to a path that exists.
	Overwrite bool
}

// and adds reason to v: v becomes sensitive, for both reasons when it was already.
func (v Verdict) and(reason string) Verdict {
	if v.Sensitive {
		v.Reason += "; " + reason
	} else {
		v.Sensitive, v.Reason = true, reason
	}
	return v
}

// pattern is a compiled protected pattern.
type pattern struct {
	src  string // as written, for reasons
	glob string // anchored: absolute glob without the trailing '/'; else a name glob
	dir  bool   // anchored and ends in '/': the directory and everything below it
	name bool   // no '/': matches any single path component
}

// compilePattern checks and compiles one protected pattern.
//
// Syntax: a pattern that starts with "/" or "~/" is anchored; it matches that
// absolute path, and, if it ends in "/", everything below it too. A pattern
// with no "/" matches any path component (so "*.pem" matches every .pem file
// and "id_rsa" every file or directory of that name). Components may use the
// wildcards of filepath.Match ('*' never crosses a '/').
func compilePattern(src, home string) (pattern, error) {
	p := pattern{src: src}
	switch {
	case src == "":
		return p, fmt.Errorf("empty pattern")
	case !strings.Contains(src, "/"):
		p.glob, p.name = src, true
	default:
		// The home directory is literal text, not a glob.
		abs, err := expandHome(src, escapeGlob(home))
		if err != nil {
			return p, err
		}
		if !filepath.IsAbs(abs) {
			return p, fmt.Errorf("pattern %q must start with /, ~/ or contain no /", src)
		}
		p.dir = strings.HasSuffix(abs, "/")
		p.glob = filepath.Clean(abs)
	}
	if _, err := filepath.Match(p.glob, ""); err != nil {
		return p, fmt.Errorf("pattern %q: %w", src, err)
	}
	return p, nil
}

// match reports whether the clean absolute path matches.
func (p pattern) match(path string) bool {
	if p.name {
		for _, c := range strings.Split(path, "/") {
			if ok, _ := filepath.Match(p.glob, c); ok { // Checked in compilePattern.
				return true
			}
		}
		return false
	}
	if !p.dir {
		ok, _ := filepath.Match(p.glob, path) // Checked in compilePattern.
		return ok
	}
	// The directory itself or any ancestor of path may match.
	for q := path; ; q = filepath.Dir(q) {
		if ok, _ := filepath.Match(p.glob, q); ok {
			return true
		}
		if q == "/" {
			return false
		}
	}
}

// under reports whether an anchored pattern can match something strictly
// below the clean absolute directory dir.
func (p pattern) under(dir string) bool {
	if p.name {
		return false
	}
	dc := components(dir)
	pc := components(p.glob)
	if len(pc) <= len(dc) {
		return false
	}
	for i, c := range dc {
		if ok, _ := filepath.Match(pc[i], c); !ok { // Checked in compilePattern.
			return false
		}
	}
	return true
}

// realTwin returns the pattern at the real place of an anchored pattern's fixed
// prefix (its components before the first wildcard), when a symbolic link on the way
// makes that another place; ok is false otherwise, and when the prefix does not exist.
// The twin keeps src, so that a reason names the pattern as configured.
func (p pattern) realTwin() (pattern, bool) {
	if p.name {
		return pattern{}, false
	}
	comps := components(p.glob)
	fixed := 0
	for fixed < len(comps) && !strings.ContainsAny(comps[fixed], `*?[\`) {
		fixed++
	}
	if fixed == 0 {
		return pattern{}, false
	}
	prefix := "/" + strings.Join(comps[:fixed], "/")
	real, err := filepath.EvalSymlinks(prefix)
	if err != nil || real == prefix {
		return pattern{}, false
	}
	twin := p
	twin.glob = filepath.Join(append([]string{escapeGlob(real)}, comps[fixed:]...)...)
	return twin, true
}

// withRealPlaces returns the clean absolute directories dirs and, after them, the real
// place of each that a symbolic link makes another place.
func withRealPlaces(dirs []string) []string {
	out := slices.Clip(dirs)
	for _, d := range dirs {
		if real, err := filepath.EvalSymlinks(d); err == nil && real != d && !slices.Contains(out, real) {
			out = append(out, real)
		}
	}
	return out
}

// components splits a clean absolute path into its names ("/" has none).
func components(p string) []string {
	if p == "/" {
		return nil
	}
	return strings.Split(p[1:], "/")
}

// Guard classifies upload destinations and download sources as sensitive or
// not. It is a pure function of its configuration and the path: it does not
// touch the disk, so the caller passes paths whose parent directories it has
// already resolved (symlinks followed), and says whether they exist. It is
// immutable and safe for concurrent use.
//
// Only NewGuard looks at the disk, once: a configured location reached through a
// symbolic link (~/.ssh a link to /data/ssh, a write root /tmp that is /private/tmp on
// macOS) is matched at its real place too, since the paths the caller resolves are
// real ones (realTwin).
//
// A write is sensitive if its destination matches a protected pattern
// (DefaultProtected, the config's protected list and the private
// directories given to NewGuard) or lies outside every write root. A read is
// sensitive if the path matches a protected pattern, has a private-key or
// credential-store name (id_rsa, *.pem, *.key, ...), has a component that
// starts with '.', or, for a directory, contains a protected location.
type Guard struct {
	roots     []string
	anchors   []string // the home directory and the write roots: their modes are kept
	protected []pattern
	keys      []pattern
}

// NewGuard compiles c's write roots and protected patterns. private lists
// absolute directories that are always sensitive (pass Paths.ConfigDir and
// Paths.StateDir: they hold the key and the audit log).
func NewGuard(c Config, private ...string) (*Guard, error) {
	g := &Guard{}
	for _, r := range c.WriteRoots {
		if !filepath.IsAbs(r) {
			return nil, fmt.Errorf("approval: write root %q is not an absolute path", r)
		}
		g.roots = append(g.roots, filepath.Clean(r))
	}
	g.anchors = g.roots
	if filepath.IsAbs(c.Home) {
		g.anchors = append(slices.Clip(g.roots), filepath.Clean(c.Home))
	}
	g.roots = withRealPlaces(g.roots)
	g.anchors = withRealPlaces(g.anchors)
	srcs := slices.Concat(DefaultProtected(), c.Protected)
	for _, d := range private {
		if !filepath.IsAbs(d) {
			return nil, fmt.Errorf("approval: private directory %q is not an absolute path", d)
		}
		srcs = append(srcs, escapeGlob(filepath.Clean(d))+"/")
	}
	for _, s := range srcs {
		p, err := compilePattern(s, c.Home)
		if err != nil {
			return nil, fmt.Errorf("approval: protected: %w", err)
		}
		g.protected = append(g.protected, p)
		if real, ok := p.realTwin(); ok {
			g.protected = append(g.protected, real)
		}
	}
	for _, s := range privateKeyNames() {
		p, err := compilePattern(s, c.Home)
		if err != nil {
			return nil, fmt.Errorf("approval: key names: %w", err) // A bug in privateKeyNames.
		}
		g.keys = append(g.keys, p)
	}
	return g, nil
}

// Write classifies an upload destination. path must be absolute; existing is
// the size of the file it would replace, or -1 if there is none.
func (g *Guard) Write(path string, existing int64) Verdict {
	v := Verdict{Overwrite: existing >= 0}
	if !filepath.IsAbs(path) {
		v.Sensitive, v.Reason = true, "not an absolute path"
		return v
	}
	path = filepath.Clean(path)
	if p, ok := g.protectedMatch(path); ok {
		v.Sensitive, v.Reason = true, "protected location "+p.src
		return v
	}
	for _, r := range g.roots {
		if within(path, r) {
			return v
		}
	}
	v.Sensitive, v.Reason = true, "outside the allowed directories"
	return v
}

// KeepsMode reports whether the directory path must keep its permissions whatever a
// transfer asks: it is the home directory, a write root, or a directory above one of
// them (terminal-side.md §6.6 would otherwise let a remote set /tmp or HOME to 000, or
// open them to everyone). path must be absolute.
func (g *Guard) KeepsMode(path string) bool {
	if !filepath.IsAbs(path) {
		return true
	}
	path = filepath.Clean(path)
	for _, a := range g.anchors {
		if within(a, path) {
			return true
		}
	}
	return false
}

// opens reports whether giving an existing directory the permission bits perm, where
// it has mode now, would let group or others do something they cannot do now: read,
// write or enter it. Only the nine rwx bits count (the engine never sets the others).
func opens(mode, perm uint32) bool { return perm&^mode&0o077 != 0 }

// Read classifies a path the remote wants to read. path must be absolute;
// isDir says whether it is a directory (whose listing will follow).
func (g *Guard) Read(path string, isDir bool) Verdict {
	if !filepath.IsAbs(path) {
		return Verdict{Sensitive: true, Reason: "not an absolute path"}
	}
	path = filepath.Clean(path)
	if p, ok := g.protectedMatch(path); ok {
		return Verdict{Sensitive: true, Reason: "protected location " + p.src}
	}
	for _, k := range g.keys {
		if k.match(path) {
			return Verdict{Sensitive: true, Reason: "private key or credentials"}
		}
	}
	for _, c := range components(path) {
		if strings.HasPrefix(c, ".") {
			return Verdict{Sensitive: true, Reason: "hidden file"}
		}
	}
	if isDir {
		for _, p := range g.protected {
			if p.under(path) {
				return Verdict{Sensitive: true, Reason: "contains protected location " + p.src}
			}
		}
	}
	return Verdict{}
}

func (g *Guard) protectedMatch(path string) (pattern, bool) {
	for _, p := range g.protected {
		if p.match(path) {
			return p, true
		}
	}
	return pattern{}, false
}

// escapeGlob quotes the filepath.Match metacharacters in s.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// within reports whether the clean path is root or below it.
func within(path, root string) bool {
	if root == "/" {
		return true
	}
	return path == root || strings.HasPrefix(path, root+"/")
}
