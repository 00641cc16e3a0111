package bypass

// Test-only access to internals.

// ParseKitty1 runs the kitty-1 JSON parser on data (the part after
// "kitty-1:") and returns the decoded fields.
func ParseKitty1(data string) (iv, tag, pubkey, encrypted []byte, err error) {
	m, err := parseKitty1(data)
	return m.iv, m.tag, m.pubkey, m.encrypted, err
}

// SetReplayMemory makes v remember at most n session ids.
func SetReplayMemory(v *Verifier, n int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.used = newReplayMemory(n)
}

// ReplayQueueLen returns the length of the slice behind v's replay queue.
func ReplayQueueLen(v *Verifier) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.used.order)
}
