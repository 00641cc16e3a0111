package proxy

import (
	"fmt"

	"golang.org/x/term"
)

// showCursor is written when the terminal is restored while a borrower had it: a prompt
// interrupted by a panic or a signal may have hidden the cursor.
const showCursor = "\x1b[?25h"

// makeRaw puts the terminal in raw mode if stdin is one; restore undoes it.
func (c *Console) makeRaw() error {
	if !c.inTerm {
		return nil
	}
	c.rawMu.Lock()
	defer c.rawMu.Unlock()
	if c.raw != nil {
		return nil
	}
	st, err := term.MakeRaw(c.inFd)
	if err != nil {
		return fmt.Errorf("proxy: raw mode: %w", err)
	}
	c.raw = st
	return nil
}

// restore puts the terminal back in the state makeRaw found. It is idempotent and safe
// to call from any goroutine, including one that is panicking.
func (c *Console) restore() error {
	c.rawMu.Lock()
	defer c.rawMu.Unlock()
	if c.raw == nil {
		return nil
	}
	err := term.Restore(c.inFd, c.raw)
	c.raw = nil
	if err != nil {
		return fmt.Errorf("proxy: restore terminal: %w", err)
	}
	return nil
}

// restoreOnPanic restores the terminal and re-panics. Every goroutine the proxy starts
// defers it, since a panic elsewhere than in Run's goroutine skips Run's own defers.
func (c *Console) restoreOnPanic() {
	if r := recover(); r != nil {
		// TryLock: the panic may have happened with c.mu held.
		borrowed := false
		if c.mu.TryLock() {
			borrowed = c.borrowed
			c.mu.Unlock()
		}
		if borrowed && c.outTerm {
			_, _ = c.out.WriteString(showCursor) // Best effort: we are going down.
		}
		_ = c.restore() // Best effort: we are going down.
		panic(r)
	}
}
