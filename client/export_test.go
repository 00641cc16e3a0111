package client

import (
	"io"
	"time"

	"github.com/xferterm/xferterm/scanner"
)

// Test-only access to internals.

// NewKeyDetector returns the writer that spots cancel keys in typed bytes.
func NewKeyDetector(cancel func()) io.Writer { return &keyDetector{cancel: cancel} }

// FormatBytes is formatBytes.
func FormatBytes(n int64) string { return formatBytes(n) }

// AppendCommand is appendCommand.
func AppendCommand(dst []byte, id string, c scanner.Command) []byte { return appendCommand(dst, id, c) }

// StatusLine renders a display with a current file name, size and done bytes, and
// the totals, at the given width and elapsed time.
func StatusLine(name string, size, done int64, files, totalFiles int, total, totalDone int64, elapsed time.Duration, width int) string {
	t0 := time.Unix(1000, 0)
	now := t0
	d := newDisplay(ProgressTTY, io.Discard, func() time.Time { return now }, func() int { return width }, "sent")
	d.begin(totalFiles, total)
	d.fileStart(name, size)
	d.doneBytes = totalDone - done
	d.add(done)
	d.filesOK = files
	now = t0.Add(elapsed)
	return d.statusLine(width)
}

// NewTextKeyDetector returns the writer that spots cancel keys and typed text.
func NewTextKeyDetector(cancel func(), text func(byte)) io.Writer {
	return &keyDetector{cancel: cancel, text: text}
}

// ReplyEstimate is replyEstimate: the bytes a status for a file command is reckoned to take
// against Options.ReplyBudget.
func ReplyEstimate(id, fid, name string) int { return replyEstimate(id, fid, name) }

// CompressSend is compressSend: whether a file this host sends goes with zlib.
func CompressSend(c Compress, name string, size int64) bool { return compressSend(c, name, size) }
