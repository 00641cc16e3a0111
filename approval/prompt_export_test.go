package approval

import "io"

// Test-only access to the prompt's input and output plumbing.

// NewQueryFilter returns the filter Prompt puts between Bubble Tea and the terminal.
func NewQueryFilter(w io.Writer) io.Writer { return &queryFilter{w: w} }
