package prompt

import (
	"io"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/xferterm/xferterm/approval"
)

// Test-only access to the prompt's internals.

// WithArmDelay returns o with the arming delay d instead of ArmDelay.
func WithArmDelay(o Options, d time.Duration) Options {
	o.armDelay = d
	return o
}

// WithHooks returns o with hooks: init is called from the model's Init, which Bubble
// Tea calls after starting its renderer and before rendering the model's first view;
// refused whenever the prompt refuses output written before its first frame (see
// frameGate). Either may be nil.
func WithHooks(o Options, init, refused func()) Options {
	o.hooks = hooks{init: init, refused: refused}
	return o
}

// NewModel returns the prompt's model with the given clocks: clock is the time, shown
// says when the first frame reached the terminal (zero before).
func NewModel(q approval.Question, o Options, clock, shown func() time.Time) tea.Model {
	return newModel(q, o.withDefaults(), clock, shown)
}

// Result returns the answer held by a prompt model, and whether the prompt is over.
func Result(m tea.Model) (approval.Answer, bool) {
	mm := m.(model)
	return mm.answer, mm.done
}

// Armed reports whether a prompt model takes answers.
func Armed(m tea.Model) bool { return m.(model).armed }

// Messages the prompt model gets from its clock.
var (
	TimeoutMsg tea.Msg = timeoutMsg{}
	TickMsg            = func(t time.Time) tea.Msg { return tickMsg{t: t} }
)

// NewQueryFilter returns the filter Prompt puts between Bubble Tea and the terminal.
func NewQueryFilter(w io.Writer) io.Writer { return &queryFilter{w: w} }
