package client

import (
	"errors"
	"fmt"
	"time"
)

// Errors Run returns, for callers that branch on them. Every error from Run starts
// with "client: ".
var (
	// ErrPermissionDenied: the terminal refused the session (or the bypass password).
	ErrPermissionDenied = errors.New("client: permission denied")
	// ErrCanceled: the user canceled (Ctrl+C, Esc, or the context).
	ErrCanceled = errors.New("client: transfer canceled")
	// ErrCanceledByTerminal: the terminal sent CANCELED unasked (reference-client.md §6).
	ErrCanceledByTerminal = errors.New("client: transfer canceled by the terminal")
	// ErrTimeout: the terminal showed no sign of life for Options.Timeout.
	ErrTimeout = errors.New("client: timed out")
	// ErrProtocol: the terminal sent something the protocol does not allow here.
	ErrProtocol = errors.New("client: protocol error")
	// ErrNoPublicKey: a password was given but KITTY_PUBLIC_KEY is not set, so it
	// could only be sent in the clear, which the client refuses.
	ErrNoPublicKey = errors.New("client: KITTY_PUBLIC_KEY is not set: refusing to send the password in the clear")
)

// protocolError returns an error wrapping ErrProtocol.
func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// timeoutError says what was waited for.
func timeoutError(what string, d time.Duration) error {
	return fmt.Errorf("%w: %s (no answer from the terminal for %s)", ErrTimeout, what, d)
}

// FailedError reports files that did not make it; the others did.
type FailedError struct {
	Failed, Total int
	Files         []FailedFile
}

// FailedFile is one file that failed, with the reason (already sanitized).
type FailedFile struct {
	Name, Reason string
}

func (e *FailedError) Error() string {
	s := fmt.Sprintf("client: transfer of %d out of %d files failed", e.Failed, e.Total)
	for i, f := range e.Files {
		if i == 3 {
			s += fmt.Sprintf("; and %d more", len(e.Files)-3)
			break
		}
		s += fmt.Sprintf("; %s: %s", f.Name, f.Reason)
	}
	return s
}
