package bypass

import "time"

// Test-only access to internals.

// ParseKitty1 runs the kitty-1 JSON parser on data (the part after
// "kitty-1:") and returns the decoded fields.
func ParseKitty1(data string) (iv, tag, pubkey, encrypted []byte, err error) {
	m, err := parseKitty1(data)
	return m.iv, m.tag, m.pubkey, m.encrypted, err
}

// NewMemoryIDsLimit returns a MemoryIDs that holds at most limit ids.
func NewMemoryIDsLimit(limit int) *MemoryIDs { return &MemoryIDs{limit: limit} }

// UsedID is one record of a FileIDs file.
type UsedID struct {
	Hash  [16]byte
	Until int64 // Unix nanoseconds
}

// ParseUsedIDs parses the content of a FileIDs file at now.
func ParseUsedIDs(data []byte, now time.Time) ([]UsedID, error) {
	ids, err := parseUsedIDs(data, now)
	out := make([]UsedID, len(ids))
	for i, u := range ids {
		out[i] = UsedID{Hash: u.hash, Until: u.until}
	}
	return out, err
}

// AppendUsedIDs appends the content of a FileIDs file holding ids.
func AppendUsedIDs(dst []byte, ids []UsedID) []byte {
	in := make([]usedID, len(ids))
	for i, u := range ids {
		in[i] = usedID{hash: u.Hash, until: u.Until}
	}
	return appendUsedIDs(dst, in)
}

// HashID returns the hash under which id is recorded.
func HashID(id string) [16]byte { return hashID(id) }

// EncodeKitty1Plain encrypts plain, whatever it holds, as EncodeKitty1 encrypts
// "<now>:<id>;<password>".
func EncodeKitty1Plain(pubEnv, plain string) (string, error) { return encodeKitty1Plain(pubEnv, plain) }
