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
// request, with a one-line note on stderr.
func newApprover(console *proxy.Console, stderr io.Writer) fs.Approver {
	_ = console // The prompt will borrow it.
	return fs.ApproverFunc(func(_ context.Context, r fs.Request) fs.Decision {
		fmt.Fprintf(stderr, "\r\nxferterm: %s request refused (no approver yet)\r\n", r.Direction)
		return fs.Decision{Allow: false, How: "policy", Reason: "no approver configured"}
	})
}
