package fs

import (
	"path/filepath"
	"strings"
)

// resolvePath turns a client-supplied name into an absolute path as kitty does
// (terminal-side.md §8): absolute names are used as they are, "~/x" is home + "/x",
// and anything else is relative to home (not to the working directory). A bare "~" is
// not expanded.
func resolvePath(home, name string) string {
	switch {
	case strings.HasPrefix(name, "/"):
		return name
	case strings.HasPrefix(name, "~/"):
		return home + "/" + strings.TrimLeft(name[2:], "/")
	default:
		return filepath.Join(home, name)
	}
}
