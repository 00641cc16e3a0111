package fs

import (
	"time"

	"github.com/xferterm/xferterm/scanner"
)

// download is a receive session: the remote reads local files (terminal-side.md §7).
// STUB: being written.
type download struct {
	e          *Engine
	id         string
	lastActive time.Time
}

// startDownload creates a session for `ac=receive`.
func (e *Engine) startDownload(cmd *scanner.Command) {}

func (d *download) touch(now time.Time)                { d.lastActive = now }
func (d *download) handle(cmd *scanner.Command)        {}
func (d *download) destroy(reason string)              {}
func (d *download) abort()                             {}
func (d *download) tick(now time.Time)                 {}
func (d *download) produce(dst []byte, max int) []byte { return dst }
func (d *download) hasData() bool                      { return false }
