package librsync

import (
	"encoding/binary"
	"math/bits"
)

// strongLen is the length of librsync's BLAKE2 strong sum before truncation: BLAKE2b with a
// 32-byte digest (RFC 7693, which makes the digest length part of the parameters, so this
// is not a truncated BLAKE2b-512).
const strongLen = 32

// blake2bIV is the initialization vector of RFC 7693 §2.6.
var blake2bIV = [8]uint64{
	0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
	0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
}

// blake2bSigma is the message schedule of RFC 7693 §2.7; rounds 10 and 11 reuse rows 0
// and 1.
var blake2bSigma = [12][16]uint8{
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
	{11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
	{7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
	{9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
	{2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
	{12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
	{13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
	{6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
	{10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
}

// blake2b256 returns BLAKE2b of b with a 32-byte digest and no key (RFC 7693 §3.3), the
// strong sum librsync computes for a block before truncating it.
func blake2b256(b []byte) [strongLen]byte {
	h := blake2bIV
	h[0] ^= 0x01010000 ^ strongLen // parameter block: digest length, no key, fanout and depth 1
	var t uint64                   // bytes compressed so far (the high word never matters here)
	// Every block but the last; the last block, full or not (or empty), is compressed
	// with the final flag.
	for len(b) > 128 {
		t += 128
		blake2bCompress(&h, b[:128], t, false)
		b = b[128:]
	}
	var last [128]byte
	copy(last[:], b)
	t += uint64(len(b))
	blake2bCompress(&h, last[:], t, true)
	var out [strongLen]byte
	for i := range strongLen / 8 {
		binary.LittleEndian.PutUint64(out[8*i:], h[i])
	}
	return out
}

// blake2bCompress is the function F of RFC 7693 §3.2 on one 128-byte block.
func blake2bCompress(h *[8]uint64, block []byte, t uint64, final bool) {
	var m [16]uint64
	for i := range m {
		m[i] = binary.LittleEndian.Uint64(block[8*i:])
	}
	v := [16]uint64{h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]}
	copy(v[8:], blake2bIV[:])
	v[12] ^= t
	if final {
		v[14] = ^v[14]
	}
	g := func(a, b, c, d int, x, y uint64) {
		v[a] += v[b] + x
		v[d] = bits.RotateLeft64(v[d]^v[a], -32)
		v[c] += v[d]
		v[b] = bits.RotateLeft64(v[b]^v[c], -24)
		v[a] += v[b] + y
		v[d] = bits.RotateLeft64(v[d]^v[a], -16)
		v[c] += v[d]
		v[b] = bits.RotateLeft64(v[b]^v[c], -63)
	}
	for r := range 12 {
		s := &blake2bSigma[r]
		g(0, 4, 8, 12, m[s[0]], m[s[1]])
		g(1, 5, 9, 13, m[s[2]], m[s[3]])
		g(2, 6, 10, 14, m[s[4]], m[s[5]])
		g(3, 7, 11, 15, m[s[6]], m[s[7]])
		g(0, 5, 10, 15, m[s[8]], m[s[9]])
		g(1, 6, 11, 12, m[s[10]], m[s[11]])
		g(2, 7, 8, 13, m[s[12]], m[s[13]])
		g(3, 4, 9, 14, m[s[14]], m[s[15]])
	}
	for i := range 8 {
		h[i] ^= v[i] ^ v[i+8]
	}
}
