package librsync

// SetMaxEntries lowers the entry cap of d, so that tests need not build 2M entries.
func (d *SignatureDecoder) SetMaxEntries(n int) { d.maxEntries = n }

// Blake2b256 exposes the strong sum for its known-answer test.
func Blake2b256(b []byte) [32]byte { return blake2b256(b) }

// RKSum and Rollsum expose the weak sums for their known-answer tests.
func RKSum(b []byte) uint32   { return rkSum(b) }
func Rollsum(b []byte) uint32 { return rollDigest(rollsum(b)) }
