package prompt

import (
	"context"
	"fmt"
	"io"

	"github.com/xferterm/xferterm/approval"
)

// Console lends the user's terminal to a prompt; *proxy.Console implements it.
type Console interface {
	Borrow(ctx context.Context) (in io.Reader, out io.Writer, release func(), err error)
}

// Terminal is an approval.Asker that shows each question on the console: it borrows
// the terminal, runs Prompt, and gives the terminal back.
type Terminal struct {
	console Console
	opts    Options
}

// NewTerminal returns a Terminal asking on console.
func NewTerminal(console Console, opts Options) *Terminal {
	return &Terminal{console: console, opts: opts}
}

// Ask implements approval.Asker. It fails when the console cannot be borrowed (it is
// not a terminal, or no child runs), and when ctx ends.
func (t *Terminal) Ask(ctx context.Context, q approval.Question) (approval.Answer, error) {
	in, out, release, err := t.console.Borrow(ctx)
	if err != nil {
		return approval.Answer{}, fmt.Errorf("no terminal to ask on: %w", err)
	}
	defer release()
	return Prompt(ctx, in, out, q, t.opts)
}
