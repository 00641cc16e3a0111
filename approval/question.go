package approval

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/xferterm/xferterm/internal/termtext"
)

// Direction is the direction of a transfer, seen from this computer.
type Direction int

// Directions. The zero value is invalid.
const (
	// Upload: the remote sends files to this computer (client action send,
	// terminal-side.md §6).
	Upload Direction = iota + 1
	// Download: the remote reads files from this computer (client action
	// receive, terminal-side.md §7).
	Download
)

func (d Direction) String() string {
	switch d {
	case Upload:
		return "upload"
	case Download:
		return "download"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// MarshalText encodes d as "upload" or "download" (used by the audit log).
func (d Direction) MarshalText() ([]byte, error) {
	if d != Upload && d != Download {
		return nil, fmt.Errorf("approval: invalid direction %d", int(d))
	}
	return []byte(d.String()), nil
}

// UnmarshalText decodes "upload" or "download" (for reading the audit log).
func (d *Direction) UnmarshalText(b []byte) error {
	switch string(b) {
	case "upload":
		*d = Upload
	case "download":
		*d = Download
	default:
		return fmt.Errorf("approval: invalid direction %q", b)
	}
	return nil
}

// ItemType is the kind of a file system entry shown in a question.
type ItemType int

// Item types.
const (
	ItemFile ItemType = iota
	ItemDirectory
	ItemSymlink
)

func (t ItemType) String() string {
	switch t {
	case ItemFile:
		return "file"
	case ItemDirectory:
		return "directory"
	case ItemSymlink:
		return "symlink"
	}
	return fmt.Sprintf("ItemType(%d)", int(t))
}

// Item is one path shown in a question.
type Item struct {
	// Path is the local absolute path. It may come from the remote, so the
	// prompt sanitizes it before display.
	Path string
	Type ItemType
	// Size is the file's size, or a directory's total, in bytes; -1 if unknown.
	Size int64
	// Files is the number of files in a directory; -1 if unknown.
	Files int
	// Exists is set for an upload destination that exists and would be
	// replaced (Size is then its current size).
	Exists bool
	// Sensitive and Reason come from the Guard's Verdict.
	Sensitive bool
	Reason    string
}

// Question is what the prompt asks. It is data; the prompt renders it.
//
// A session question (File == nil) asks whether to allow a whole transfer:
// for an upload it says where relative paths land (Home); for a download it
// lists the requested paths (Items). A per-file question (File != nil) asks
// about one file of a transfer, typically a sensitive upload destination, and
// offers "allow all" for the rest of the transfer.
type Question struct {
	Direction Direction
	// SessionID is the client's session id (sanitized before display).
	SessionID string
	// Home is this computer's home directory: where relative upload paths
	// land, and how paths are abbreviated to ~/….
	Home string
	// Items are the requested paths of a download session question.
	Items []Item
	// File is the subject of a per-file question.
	File *Item
}

func (q Question) validate() error {
	if q.Direction != Upload && q.Direction != Download {
		return fmt.Errorf("approval: question has invalid direction %d", int(q.Direction))
	}
	return nil
}

// Decision is the outcome of a question. The zero value denies.
type Decision int

// Decisions.
const (
	Deny     Decision = iota // refuse (also on Esc, Ctrl+C, timeout and errors)
	Allow                    // allow this transfer, or this file
	AllowAll                 // per-file questions only: allow this and every later file of the transfer
)

func (d Decision) String() string {
	switch d {
	case Deny:
		return "deny"
	case Allow:
		return "allow"
	case AllowAll:
		return "allow all"
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// Answer is the result of Prompt.
type Answer struct {
	Decision Decision
	// TimedOut is set when nobody answered in time (Decision is then Deny).
	TimedOut bool
}

// Allowed reports whether the answer allows the transfer or file.
func (a Answer) Allowed() bool { return a.Decision == Allow || a.Decision == AllowAll }

// displayPath sanitizes p and abbreviates home to ~.
func displayPath(p, home string) string {
	if home != "" && home != "/" {
		if p == home {
			p = "~"
		} else if rel, ok := strings.CutPrefix(p, home+"/"); ok {
			p = filepath.Join("~", rel)
		}
	}
	return termtext.Sanitize(p)
}

// humanSize formats a byte count with binary units ("3.2 KiB").
func humanSize(n int64) string {
	if n < 0 {
		return "unknown size"
	}
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	const units = "KMGTPE"
	v := float64(n) / 1024
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, units[i])
}
