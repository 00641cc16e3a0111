package bypass_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/xferterm/xferterm/bypass"
)

// base85Vectors were computed with Python's base64.b85encode.
var base85Vectors = []struct {
	raw, enc string
}{
	{"", ""},
	{"\x00", "00"},
	{"ab", "VPX"},
	{"abc", "VPaz"},
	{"\x00\x00\x00\x00", "00000"},
	{"\xff\xff\xff\xff", "|NsC0"},
	{"hello", "Xk~0{Zv"},
	{"Hello, World!", "NM&qnZ!92JZ*pv8Ap"},
	{"\x01\x02\x03\x04\x05\x06\x07", "0RjUA1qKH"},
	{"\x86\x4f\xd2\x6f\xb5\x59\xf7\x5b", "hELLOwORLD"},
}

func TestBase85Vectors(t *testing.T) {
	for _, v := range base85Vectors {
		if got := bypass.EncodeBase85([]byte(v.raw)); got != v.enc {
			t.Errorf("EncodeBase85(%q) = %q, want %q", v.raw, got, v.enc)
		}
		got, err := bypass.DecodeBase85(v.enc)
		if err != nil || string(got) != v.raw {
			t.Errorf("DecodeBase85(%q) = %q, %v; want %q", v.enc, got, err, v.raw)
		}
	}
}

func TestBase85DecodeLikePython(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr int64 // offset, or -1 for success
	}{
		{"a lone digit decodes to nothing", "0", "", -1},
		{"a digit after a group decodes to nothing", "000000", "\x00\x00\x00\x00", -1},
		{"a character outside the alphabet is refused", "00\"00", "", 2},
		{"whitespace is refused", "0000 ", "", 4},
		{"a non-ASCII byte is refused", "\xff", "", 0},
		{"a group over 2^32-1 is refused", "|NsC1", "", 0},
		{"all tildes overflow", "~~~~~", "", 0},
		{"overflow is reported at the group start", "00000|NsC1", "", 5},
		{"a padded partial group can overflow", "|NsD", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bypass.DecodeBase85(tt.in)
			if tt.wantErr < 0 {
				if err != nil || string(got) != tt.want {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			var ce bypass.CorruptBase85Error
			if !errors.As(err, &ce) || int64(ce) != tt.wantErr {
				t.Fatalf("got %q, %v; want CorruptBase85Error(%d)", got, err, tt.wantErr)
			}
		})
	}
}

func TestBase85RoundTrip(t *testing.T) {
	src := make([]byte, 0, 300)
	for i := range 300 {
		src = append(src, byte(i*37+11))
	}
	for n := range len(src) {
		enc := bypass.EncodeBase85(src[:n])
		if want := n/4*5 + map[int]int{0: 0, 1: 2, 2: 3, 3: 4}[n%4]; len(enc) != want {
			t.Fatalf("len(EncodeBase85(%d bytes)) = %d, want %d", n, len(enc), want)
		}
		dec, err := bypass.DecodeBase85(enc)
		if err != nil || !bytes.Equal(dec, src[:n]) {
			t.Fatalf("round trip of %d bytes: %x, %v", n, dec, err)
		}
	}
}

func FuzzBase85(f *testing.F) {
	for _, v := range base85Vectors {
		f.Add(v.enc)
	}
	f.Add("|NsC1")
	f.Fuzz(func(t *testing.T, s string) {
		dec, err := bypass.DecodeBase85(s)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to something that decodes the same.
		again, err := bypass.DecodeBase85(bypass.EncodeBase85(dec))
		if err != nil || !bytes.Equal(again, dec) {
			t.Fatalf("%q: decode(encode(%x)) = %x, %v", s, dec, again, err)
		}
	})
}
