package scanner

// BufferCap reports the capacity of the payload buffer, so tests can check that memory
// stays within the limit.
func BufferCap(s *Scanner) int { return cap(s.buf) }

// Held reports how many bytes s holds back as a possible start of a sequence.
func Held(s *Scanner) int {
	switch s.m.mode {
	case escape, oscCode:
		return int(s.m.held)
	case payloadEsc:
		return 1
	}
	return 0
}
