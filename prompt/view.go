package prompt

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/xferterm/xferterm/internal/termtext"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// Text styles. Colours are downsampled (or dropped) by Bubble Tea to what the terminal
// supports.
func bold(s string) string  { return lipgloss.NewStyle().Bold(true).Render(s) }
func faint(s string) string { return lipgloss.NewStyle().Faint(true).Render(s) }
func warn(s string) string {
	return lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("9")).Render(s)
}

// View draws the question on the alternate screen. Every line is cut to the window
// width; a long read list is cut to the window height, its sensitive entries first.
func (m model) View() tea.View {
	var v tea.View
	v.AltScreen = true
	v.DisableBracketedPasteMode = true
	if m.done {
		return v // Nothing flashes between the answer and leaving the alternate screen.
	}
	head := []string{"", " " + bold("xferterm: file transfer request"), ""}
	switch {
	case m.q.File != nil:
		head = append(head, m.fileLines()...)
	case m.q.Direction == transfer.Send:
		head = append(head, " The remote computer wants to "+bold("SEND files to this computer")+".",
			" Files with relative names will be saved under "+m.home()+".")
	default:
		head = append(head, m.readHeader()...)
	}
	foot := []string{""}
	if m.q.Bypassed {
		foot = append(foot, " It gave the pre-shared password, but reads sensitive paths: that needs your answer.")
	}
	foot = append(foot, " Only allow transfers from computers you trust.",
		faint(" Session "+termtext.Sanitize(m.q.SessionID)), "")
	foot = append(foot, m.keyLines()...)
	if m.hint {
		foot = append(foot, "", warn(" "+m.hintText()))
	}
	lines := head
	if m.q.File == nil && m.q.Direction == transfer.Receive {
		lines = append(lines, m.itemLines(m.height-len(head)-len(foot))...)
	}
	lines = append(lines, foot...)
	cut := lipgloss.NewStyle().MaxWidth(m.width)
	for i, l := range lines {
		lines[i] = cut.Render(l)
	}
	v.Content = strings.Join(lines, "\n")
	return v
}

// keyLines lists the keys once the prompt is armed; until then, it says why nothing
// can be answered yet.
func (m model) keyLines() []string {
	if !m.armed {
		return []string{
			" " + bold("Wait…") + fmt.Sprintf(" keys are ignored until this has been shown for %s with nothing typed,", seconds(m.armDelay)),
			"       so that typing meant for the remote program cannot answer it.",
		}
	}
	lines := []string{" " + bold("y") + "  allow"}
	if m.q.File != nil && m.q.Scope != "" {
		lines = append(lines, " "+bold("a")+"  allow it, and the rest of this transfer in "+displayPath(m.q.Scope, m.q.Home)+
			"/ marked the same way")
	}
	lines = append(lines, " "+bold("n")+"  deny  (also Esc)")
	if m.q.QuietFor > 0 {
		lines = append(lines, " "+bold("d")+fmt.Sprintf("  deny, and every transfer request from this session for %d minutes", int(m.q.QuietFor/time.Minute)))
	}
	return append(lines, faint(" Denied automatically in "+countdown(m.deadline.Sub(m.now))+"."))
}

func (m model) hintText() string {
	keys := "y to allow or n to deny"
	if m.q.File != nil && m.q.Scope != "" {
		keys = "y to allow, a to allow all, or n to deny"
	}
	return "Press " + keys + "."
}

func (m model) home() string {
	if m.q.Home == "" {
		return "the home directory"
	}
	return termtext.Sanitize(m.q.Home)
}

// fileLines describes the subject of a file question.
func (m model) fileLines() []string {
	f := m.q.File
	verb := "write"
	dirMode := f.Type == scanner.FileDirectory && f.Exists && f.Perm.Set && uint32(f.Perm.Value)&0o777 != f.Mode&0o777
	switch {
	case m.q.Direction == transfer.Receive:
		verb = "read"
	case dirMode:
		verb = "change the permissions of"
	case f.Type == scanner.FileDirectory && f.Exists:
		verb = "write into"
	case f.Exists:
		verb = "overwrite"
	}
	what := displayPath(f.Path, m.q.Home)
	switch {
	case f.Type != scanner.FileRegular:
		what += " (" + f.Type.String() + ")"
	case f.Size >= 0 && (f.Exists || m.q.Direction == transfer.Receive):
		what += " (" + humanSize(f.Size) + ")"
	}
	lines := []string{" The remote computer wants to " + bold(verb) + " " + what + "."}
	// On a line of its own, so that a long name cannot push it off the screen.
	switch {
	case dirMode:
		lines = append(lines, fmt.Sprintf(" Its permissions would go from %04o to %04o.", f.Mode&0o777, f.Perm.Value&0o777))
	case f.Type == scanner.FileSymlink && f.Target != "":
		lines = append(lines, " The link would point to "+bold(displayPath(f.Target, m.q.Home))+".")
	}
	if f.Sensitive {
		lines = append(lines, " "+warn("! "+f.Reason))
	}
	return lines
}

// readHeader is the head of a receive session question: how many paths, and how many
// of them are sensitive, before any list that a small window may cut.
func (m model) readHeader() []string {
	n, sensitive := len(m.q.Items), m.nSens
	count := fmt.Sprintf(" %d path", n)
	if n != 1 {
		count += "s"
	}
	if sensitive > 0 {
		count += ", " + warn(fmt.Sprintf("%d of them sensitive", sensitive)) + " (listed first)"
	}
	return []string{" The remote computer wants to " + bold("READ files from this computer") + ":", count + ":", ""}
}

// itemLines lists the requested paths of a receive session in at most room lines
// (at least 3): the sensitive ones first, each in the client's order.
func (m model) itemLines(room int) []string {
	items := m.items
	if len(items) == 0 {
		return []string{"     (the paths have not arrived yet)"}
	}
	sensitive := items[0].Sensitive
	if sensitive {
		room-- // the legend
	}
	room = max(room, 3)
	more := 0
	if len(items) > room {
		items, more = items[:room-1], len(items)-(room-1)
	}
	var lines []string
	for _, it := range items {
		mark := "  "
		if it.Sensitive {
			mark = warn("! ")
		}
		// Where a link leads comes first: it is what is read, and a long name must not
		// push it off the screen.
		line := "   " + mark + fmt.Sprintf("%-4s %-19s ", shortType(it.Type), itemSize(it))
		if it.Target != "" {
			line += displayPath(it.Target, m.q.Home) + " (through " + displayPath(it.Path, m.q.Home) + ")"
		} else {
			line += displayPath(it.Path, m.q.Home)
		}
		if it.Reason != "" {
			line += "  " + warn(it.Reason)
		}
		lines = append(lines, line)
	}
	if more > 0 {
		lines = append(lines, fmt.Sprintf("     … and %d more", more))
	}
	if sensitive {
		lines = append(lines, " "+warn("! = sensitive: private keys, hidden files or protected locations"))
	}
	return lines
}

// shortType names a file type in at most 4 cells.
func shortType(t scanner.FileType) string {
	switch t {
	case scanner.FileDirectory:
		return "dir"
	case scanner.FileSymlink:
		return "link"
	}
	return "file"
}

func itemSize(it transfer.Item) string {
	if it.Type == scanner.FileDirectory && it.Files >= 0 {
		return fmt.Sprintf("%d files, %s", it.Files, humanSize(it.Size))
	}
	return humanSize(it.Size)
}

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

// countdown formats a remaining duration as m:ss, rounding up.
func countdown(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int((d + time.Second - 1) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// seconds formats a short duration: "0.5 s".
func seconds(d time.Duration) string {
	return fmt.Sprintf("%.1f s", d.Seconds())
}
