package bypass

import (
	"encoding/binary"
	"strconv"
)

// base85Alphabet is the RFC 1924 alphabet used by Python's base64.b85encode,
// which is what kitty and its client use for KITTY_PUBLIC_KEY and the kitty-1
// bypass fields (terminal-side.md §4.1).
const base85Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~"

// base85Invalid marks bytes outside the alphabet in base85Digits.
const base85Invalid = 0xff

// base85Digits maps an input byte to its digit value, or base85Invalid.
var base85Digits = func() (t [256]byte) {
	for i := range t {
		t[i] = base85Invalid
	}
	for i := 0; i < len(base85Alphabet); i++ {
		t[base85Alphabet[i]] = byte(i)
	}
	return t
}()

// CorruptBase85Error is returned by DecodeBase85 for invalid input. Its value
// is the offset of the offending character, or of the start of the 5-character
// group whose value does not fit in 32 bits.
type CorruptBase85Error int64

func (e CorruptBase85Error) Error() string {
	return "bypass: illegal base85 data at input byte " + strconv.FormatInt(int64(e), 10)
}

// EncodeBase85 returns the base85 encoding of src, byte for byte what Python's
// base64.b85encode produces: each big-endian 4-byte group becomes 5 digits, and
// a final partial group of n bytes becomes n+1 digits (no padding characters).
func EncodeBase85(src []byte) string {
	return string(AppendBase85(nil, src))
}

// AppendBase85 appends the base85 encoding of src to dst (see EncodeBase85)
// and returns the extended slice.
func AppendBase85(dst, src []byte) []byte {
	var group [5]byte
	for len(src) > 0 {
		var word [4]byte
		n := copy(word[:], src)
		src = src[n:]
		v := binary.BigEndian.Uint32(word[:])
		for i := 4; i >= 0; i-- {
			group[i] = base85Alphabet[v%85]
			v /= 85
		}
		// A partial group of n bytes keeps n+1 digits: the dropped digits only
		// encode the zero padding.
		dst = append(dst, group[:n+1]...)
	}
	return dst
}

// DecodeBase85 decodes s as Python's base64.b85decode does: a final partial
// group is padded with the highest digit ('~') and the bytes that padding
// produced are dropped. A lone trailing digit therefore decodes to nothing,
// as in Python. Characters outside the alphabet (including whitespace) and
// groups whose value overflows 32 bits are errors of type CorruptBase85Error.
func DecodeBase85(s string) ([]byte, error) {
	dst := make([]byte, 0, (len(s)+4)/5*4)
	for start := 0; start < len(s); start += 5 {
		end := min(start+5, len(s))
		var v uint64
		for i := start; i < start+5; i++ {
			d := byte(84) // padding digit '~'
			if i < end {
				d = base85Digits[s[i]]
				if d == base85Invalid {
					return nil, CorruptBase85Error(i)
				}
			}
			v = v*85 + uint64(d)
		}
		if v > 0xffffffff {
			return nil, CorruptBase85Error(start)
		}
		var word [4]byte
		binary.BigEndian.PutUint32(word[:], uint32(v))
		// A group of k < 5 digits carries k-1 bytes (none for k == 1).
		dst = append(dst, word[:max(end-start-1, 0)]...)
	}
	return dst, nil
}
