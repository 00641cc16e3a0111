package client

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xferterm/xferterm/internal/termtext"
)

// ProgressMode chooses how progress is shown.
type ProgressMode uint8

// Progress modes.
const (
	ProgressNone  ProgressMode = iota // nothing but the final error, if any
	ProgressTTY                       // one status line on the tty, redrawn in place, then a summary line
	ProgressLines                     // one plain line per file and a summary, to Options.Stdout
)

// redrawEvery is the least time between two redraws of the tty status line.
const redrawEvery = 200 * time.Millisecond

// display keeps the numbers the progress display shows and renders them. It knows
// nothing of the protocol: the session calls its methods as files start, grow and end.
// It is owned by the session loop goroutine.
type display struct {
	mode  ProgressMode
	lines io.Writer // ProgressLines output
	now   func() time.Time
	width func() int
	verb  string // "sent" or "received"

	start       time.Time
	totalFiles  int
	totalBytes  int64
	doneBytes   int64
	filesOK     int
	filesFailed int

	cur      fileProgress
	note     string    // what the session waits for, shown before any data flows
	drawn    bool      // a status line is on the tty
	lastDraw time.Time // when it was drawn
	paused   bool      // no redraws: other text (a question) is on the tty
}

type fileProgress struct {
	name  string // sanitized
	size  int64
	done  int64
	start time.Time
	open  bool
}

func newDisplay(mode ProgressMode, lines io.Writer, now func() time.Time, width func() int, verb string) *display {
	return &display{mode: mode, lines: lines, now: now, width: width, verb: verb, start: now()}
}

// begin records the totals once they are known.
func (d *display) begin(files int, bytes int64) {
	d.totalFiles, d.totalBytes = files, bytes
	d.start = d.now()
}

// fileStart notes that the data of a file begins to flow.
func (d *display) fileStart(name string, size int64) {
	d.cur = fileProgress{name: termtext.Sanitize(name), size: size, start: d.now(), open: true}
}

// add counts n more bytes of file content.
func (d *display) add(n int64) {
	d.cur.done += n
	d.doneBytes += n
}

// fileEnd notes the final state of a file; reason is peer-supplied text or an error.
func (d *display) fileEnd(name string, size int64, ok bool, reason string) {
	if ok {
		d.filesOK++
	} else {
		d.filesFailed++
	}
	if d.cur.open && d.cur.name == termtext.Sanitize(name) {
		d.cur.open = false
	}
	if d.mode != ProgressLines {
		return
	}
	if ok {
		fmt.Fprintf(d.lines, "%s %s (%s)\n", d.verb, termtext.Sanitize(name), formatBytes(size))
	} else {
		fmt.Fprintf(d.lines, "failed %s: %s\n", termtext.Sanitize(name), termtext.Sanitize(reason))
	}
}

// due reports whether the tty line should be redrawn now.
func (d *display) due() bool {
	return d.mode == ProgressTTY && !d.paused && d.now().Sub(d.lastDraw) >= redrawEvery
}

// pause stops redraws so that other text can be written to the tty, and appends what
// erases the status line, if one is drawn, to dst. The text written next starts at the
// beginning of an empty line.
func (d *display) pause(dst []byte) []byte {
	d.paused = true
	if d.mode == ProgressTTY && d.drawn {
		dst = append(dst, "\r\x1b[K"...)
		d.drawn = false
	}
	return dst
}

// resume lets redraws start again, on the line where the cursor is. The clock of the
// rates restarts: the time the user took to answer is not transfer time.
func (d *display) resume() {
	d.paused = false
	d.start = d.now()
}

// redraw appends the escape sequence that replaces the status line (CR, erase line,
// text) to dst.
func (d *display) redraw(dst []byte) []byte {
	if d.mode != ProgressTTY {
		return dst
	}
	d.lastDraw = d.now()
	d.drawn = true
	dst = append(dst, "\r\x1b[K"...)
	return append(dst, d.statusLine(d.width())...)
}

// finalLines appends what replaces the status line at the end: the summary on the tty
// (ProgressTTY), or nothing, the summary going to the lines writer (ProgressLines).
func (d *display) final(dst []byte, err error) []byte {
	switch d.mode {
	case ProgressTTY:
		if d.drawn {
			dst = append(dst, "\r\x1b[K"...)
		}
		if err == nil {
			dst = append(dst, d.summary()...)
			dst = append(dst, "\r\n"...)
		}
	case ProgressLines:
		if err == nil {
			fmt.Fprintln(d.lines, d.summary())
		}
	}
	return dst
}

// statusLine renders the current file and the overall progress within width cells.
func (d *display) statusLine(width int) string {
	if width <= 1 {
		width = 80
	}
	if !d.cur.open && d.doneBytes == 0 && d.filesOK+d.filesFailed == 0 && d.note != "" {
		return truncate(d.note+"…", width-1)
	}
	now := d.now()
	var b strings.Builder
	if d.cur.open {
		el := now.Sub(d.cur.start)
		rate := rateOf(d.cur.done, el)
		fmt.Fprintf(&b, "%s  %s/%s  %s/s  ETA %s", "%NAME%", formatBytes(d.cur.done), formatBytes(d.cur.size),
			formatBytes(int64(rate)), eta(d.cur.size-d.cur.done, rate))
	}
	el := now.Sub(d.start)
	rate := rateOf(d.doneBytes, el)
	if b.Len() > 0 {
		b.WriteString("  |  ")
	}
	fmt.Fprintf(&b, "total %d/%d files  %s/%s  %s/s  ETA %s", d.filesOK+d.filesFailed, d.totalFiles,
		formatBytes(d.doneBytes), formatBytes(d.totalBytes), formatBytes(int64(rate)), eta(d.totalBytes-d.doneBytes, rate))
	line := b.String()
	max := width - 1 // never write into the last column: no wrap
	if !d.cur.open {
		return truncate(line, max)
	}
	room := max - (utf8.RuneCountInString(line) - len("%NAME%"))
	name := d.cur.name
	if room < 8 {
		room = 8
	}
	if utf8.RuneCountInString(name) > room {
		r := []rune(name)
		name = "…" + string(r[len(r)-room+1:])
	}
	return truncate(strings.Replace(line, "%NAME%", name, 1), max)
}

// summary is the one line left at the end.
func (d *display) summary() string {
	el := d.now().Sub(d.start)
	s := fmt.Sprintf("%s %d file(s), %s in %s (%s/s)", d.verb, d.filesOK, formatBytes(d.doneBytes),
		el.Round(100*time.Millisecond), formatBytes(int64(rateOf(d.doneBytes, el))))
	if d.filesFailed > 0 {
		s += fmt.Sprintf(", %d failed", d.filesFailed)
	}
	return s
}

func rateOf(n int64, el time.Duration) float64 {
	if el <= 0 {
		return 0
	}
	return float64(n) / el.Seconds()
}

// eta formats the time left for n bytes at rate bytes per second.
func eta(n int64, rate float64) string {
	if n <= 0 {
		return "0:00"
	}
	if rate <= 0 {
		return "-:--"
	}
	s := int64(float64(n) / rate)
	if s >= 100*3600 {
		return ">99h"
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// formatBytes formats n with binary units: 999 B, 1.0 KiB, 12.3 MiB.
func formatBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		f /= 1024
		if f < 1024 || u == "TiB" {
			return fmt.Sprintf("%.1f %s", f, u)
		}
	}
	panic("unreachable")
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}
