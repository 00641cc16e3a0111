package librsync

// The two weak rolling checksums of librsync. Both are computed in wrapping uint32
// arithmetic, which is what librsync's digests are.

// Rabin-Karp (RK-BLAKE2 signatures): for a window x[0..n), hash = seed·M^n + Σ x[i]·M^(n-1-i),
// with seed 1 and multiplier M. Rolling out the oldest byte uses M^n and the adjustment
// (M-1)·seed, which removes both that byte's term and the extra power of the seed term.
const (
	rkMult   = 0x08104225
	rkSeed   = 1
	rkAdjust = (rkMult - 1) * rkSeed
)

// rkSum returns the Rabin-Karp hash of b.
func rkSum(b []byte) uint32 {
	h := uint32(rkSeed)
	for _, c := range b {
		h = h*rkMult + uint32(c)
	}
	return h
}

// rkPow returns M^n, the factor of the byte that leaves a window of n bytes.
func rkPow(n int) uint32 {
	p, m := uint32(1), uint32(rkMult)
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			p *= m
		}
		m *= m
	}
	return p
}

// The rollsum (BLAKE2 signatures), rsync's checksum with a character offset of 31 added to
// every byte: s1 is the sum of the bytes, s2 the sum of the running s1; the digest keeps
// the low 16 bits of each, s2 high.
const rollsumOffset = 31

// rollsum returns the running sums of b; the digest is rollDigest(s1, s2).
func rollsum(b []byte) (s1, s2 uint32) {
	for _, c := range b {
		s1 += uint32(c) + rollsumOffset
		s2 += s1
	}
	return s1, s2
}

func rollDigest(s1, s2 uint32) uint32 { return s2<<16 | s1&0xffff }
