package approval

import "io"

// Test-only access to the prompt's input and output plumbing.

// NewQueryFilter returns the filter Prompt puts between Bubble Tea and the terminal.
func NewQueryFilter(w io.Writer) io.Writer { return &queryFilter{w: w} }

// SetPromptHooks makes the prompts that follow call init from the model's Init, which
// Bubble Tea calls after starting its renderer and before rendering the model's first
// view, and refused whenever they refuse output written before their first frame
// (see frameGate). Either may be nil. restore removes them; call it once no prompt
// runs.
func SetPromptHooks(init, refused func()) (restore func()) {
	testHookInit, testHookRefused = init, refused
	return func() { testHookInit, testHookRefused = nil, nil }
}
