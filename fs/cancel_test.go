package fs_test

import (
	"testing"

	"github.com/xferterm/xferterm/scanner"
)

// TestCancelUnknownSession: a cancel for a session the engine does not have (never opened,
// or over) is answered with CANCELED for that id, in the client's dialect, and creates
// nothing; kitty stays silent, which makes its client wait out its cancel timeout.
// xferterm's client relies on the answer to learn that its codes arrive (internal/passthrough).
func TestCancelUnknownSession(t *testing.T) {
	h := newUpHarness(t)
	if got, want := h.raw("id=probe1;ac=cancel", scanner.DialectCurrent), "\x1b]5113;ac=status;id=probe1;st=Q0FOQ0VMRUQ\x1b\\"; got != want {
		t.Errorf("reply %q, want %q", got, want)
	}
	if got, want := h.raw("id=old;ac=cancel", scanner.Dialect026), "\x1b]5113;ac=status;id=old;st=Q0FOQ0VMRUQ=\x1b\\"; got != want {
		t.Errorf("0.26 reply %q, want %q", got, want)
	}
	if h.e.Active() {
		t.Error("a cancel of nothing opened a session")
	}
	// A session that ended: its id is unknown again.
	h.start("s")
	h.do(scanner.Command{Action: scanner.ActionFinish, ID: "s"})
	if got := h.do(scanner.Command{Action: scanner.ActionCancel, ID: "s"}); len(got) != 1 || got[0].Status != scanner.StatusCanceled || got[0].ID != "s" {
		t.Errorf("cancel after the end: %s", h.show(got))
	}
}
