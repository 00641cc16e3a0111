package fs

import (
	"time"

	"github.com/xferterm/xferterm/scanner"
)

// upload is a send session: the remote writes files here (terminal-side.md §6).
// STUB: being written.
type upload struct {
	e          *Engine
	id         string
	lastActive time.Time
}

// startUpload creates a session for `ac=send` and decides it synchronously (§3.2).
func (e *Engine) startUpload(cmd *scanner.Command) {}

func (u *upload) touch(now time.Time)         { u.lastActive = now }
func (u *upload) handle(cmd *scanner.Command) {}
func (u *upload) destroy(reason string)       {}
func (u *upload) abort()                      {}
func (u *upload) tick(now time.Time)          {}
