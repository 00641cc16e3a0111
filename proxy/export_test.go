package proxy

import "strconv"

// Test-only access to internals.

// ModeTracker is the tracker of the child's terminal modes that the Console keeps.
type ModeTracker struct{ t modeTracker }

// Write follows the modes set in p.
func (m *ModeTracker) Write(p []byte) (int, error) { return m.t.Write(p) }

// Known describes every tracked mode whose state is known, as "25l 2004h …", in the
// order of trackedMode.
func (m *ModeTracker) Known() string {
	var s []byte
	for i := range numModes {
		mode := trackedMode(i)
		st := m.t.state(mode)
		if st == modeUnknown {
			continue
		}
		if len(s) > 0 {
			s = append(s, ' ')
		}
		s = strconv.AppendUint(s, uint64(mode), 10)
		if st == modeSet {
			s = append(s, 'h')
		} else {
			s = append(s, 'l')
		}
	}
	return string(s)
}

// Restore returns what the Console writes when a borrower releases the terminal.
func (m *ModeTracker) Restore() string { return string(m.t.appendRestore(nil)) }

// Pause returns what the Console writes when a borrower takes the terminal.
func (m *ModeTracker) Pause() string { return string(m.t.appendPause(nil)) }

// HoldInput makes the console's input router wait before its next read of stdin, as if
// it were in the middle of one, until the returned function is called.
func HoldInput(c *Console) (resume func()) {
	c.reading <- struct{}{}
	return func() { <-c.reading }
}
