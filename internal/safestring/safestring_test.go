package safestring_test

import (
	"testing"

	"github.com/xferterm/xferterm/internal/safestring"
)

func TestSafeString(t *testing.T) {
	for _, tt := range []struct {
		in, filtered string
		valid        bool
	}{
		{"46f5e212", "46f5e212", true},
		{"a-Z_0:9./@", "a-Z_0:9./@", true},
		{"", "", false},
		{"id;ac=send", "idacsend", false},
		{"x\x1b\\y", "xy", false},
		{"é", "", false},
		{" s p a c e ", "space", false},
	} {
		if got := safestring.Filter([]byte(tt.in)); got != tt.filtered {
			t.Errorf("Filter(%q) = %q, want %q", tt.in, got, tt.filtered)
		}
		if got := string(safestring.Append([]byte("<"), tt.in)); got != "<"+tt.filtered {
			t.Errorf("Append(%q) = %q", tt.in, got)
		}
		if got := safestring.Valid(tt.in); got != tt.valid {
			t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.valid)
		}
	}
	for b := range 256 {
		want := b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '_' || b == ':' || b == '.' || b == '/' || b == '@' || b == '-'
		if safestring.Safe(byte(b)) != want {
			t.Errorf("Safe(%#x) = %v", b, !want)
		}
	}
}

// Filter allocates nothing beyond the string when nothing is deleted.
func TestFilterAllocations(t *testing.T) {
	in := []byte("46f5e212")
	if n := testing.AllocsPerRun(100, func() { _ = safestring.Filter(in) }); n > 1 {
		t.Errorf("%v allocations", n)
	}
}
