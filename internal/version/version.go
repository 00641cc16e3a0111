// Package version says which build of xferterm is running: its version, the commit it was
// built from and the Go release that built it. The Go toolchain stamps all three into the
// binary (go build in a git checkout records the commit, and the version from the tag or
// a pseudo-version), so a build needs no flags to carry them.
package version

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Info describes a build.
type Info struct {
	Version  string // a module version such as v1.2.0, or "devel" when unknown
	Commit   string // the full commit hash, or "" when unknown
	Modified bool   // the work tree had uncommitted changes
	Go       string // the Go release, e.g. go1.26.8
}

// Devel is the version of a build that does not know its own.
const Devel = "devel"

// Read returns the Info of the running binary.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: Devel}
	}
	return FromBuildInfo(bi)
}

// FromBuildInfo returns the Info that bi records.
func FromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: bi.Main.Version, Go: bi.GoVersion}
	if info.Version == "" || info.Version == "(devel)" {
		info.Version = Devel
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is the line `--version` prints, e.g.
// "xferterm v1.2.0 (commit 06b03e6d8c1f, modified) go1.26.8".
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "xferterm %s (commit ", i.Version)
	switch {
	case i.Commit == "":
		b.WriteString("unknown")
	case len(i.Commit) > 12:
		b.WriteString(i.Commit[:12])
	default:
		b.WriteString(i.Commit)
	}
	if i.Modified {
		b.WriteString(", modified")
	}
	b.WriteString(") ")
	if i.Go == "" {
		b.WriteString("go unknown")
	} else {
		b.WriteString(i.Go)
	}
	return b.String()
}
