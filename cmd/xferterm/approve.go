package main

import (
	"context"
	"fmt"
	"io"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/proxy"
)

// newApprover returns the Approver of transfer requests.
//
// PLACEHOLDER until the lead wires the prompt and the bypass check: it refuses every
// request with a one-line note. The note goes through the console when it can be
// borrowed, so that it cannot land in the middle of the child's escape sequences;
// otherwise to stderr.
func newApprover(console *proxy.Console, stderr io.Writer) fs.Approver {
	return fs.ApproverFunc(func(ctx context.Context, r fs.Request) fs.Decision {
		note := fmt.Sprintf("\r\nxferterm: %s request refused (no approver configured)\r\n", r.Direction)
		if _, out, release, err := console.Borrow(ctx); err == nil {
			_, _ = io.WriteString(out, note) // Best effort: it is only a note.
			release()
		} else {
			_, _ = io.WriteString(stderr, note) // Best effort: it is only a note.
		}
		return fs.Decision{Allow: false, How: "policy", Reason: "no approver configured"}
	})
}
