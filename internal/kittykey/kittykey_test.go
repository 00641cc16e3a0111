package kittykey_test

import (
	"bytes"
	"testing"

	"github.com/xferterm/xferterm/internal/kittykey"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		params string
		want   kittykey.Event
		ok     bool
	}{
		{"99", kittykey.Event{Code: 'c', Type: kittykey.Press}, true},
		{"99;5", kittykey.Event{Code: 'c', Mods: kittykey.Ctrl, Type: kittykey.Press}, true},
		{"99;5:2", kittykey.Event{Code: 'c', Mods: kittykey.Ctrl, Type: kittykey.Repeat}, true},
		{"99:67;6", kittykey.Event{Code: 'c', Mods: kittykey.Ctrl | kittykey.Shift, Type: kittykey.Press}, true},
		{"1089::99;5", kittykey.Event{Code: 1089, Base: 'c', Mods: kittykey.Ctrl, Type: kittykey.Press}, true},
		{"99;5;99", kittykey.Event{Code: 'c', Mods: kittykey.Ctrl, Type: kittykey.Press}, true},
		{"27;", kittykey.Event{Code: 27, Type: kittykey.Press}, true},
		{"", kittykey.Event{}, false},
		{";5", kittykey.Event{}, false},
		{"99;0", kittykey.Event{}, false},
		{"99;x", kittykey.Event{}, false},
		{"99:1:2:3;5", kittykey.Event{}, false},
		{"99;5:1:1", kittykey.Event{}, false},
		{"99;5;99;1", kittykey.Event{}, false},
		{"12345678", kittykey.Event{}, false},
	} {
		got, ok := kittykey.Parse([]byte(tt.params))
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, %v", tt.params, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCtrlCAt(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     int
	}{
		{"the legacy byte", "\x03rest", 1},
		{"kitty ctrl+c", "\x1b[99;5urest", 7},
		{"kitty ctrl+c press", "\x1b[99;5:1u", 9},
		{"kitty ctrl+c repeat", "\x1b[99;5:2u", 9},
		{"with caps lock and num lock", "\x1b[99;197u", 9},
		{"with an alternate key", "\x1b[99:67;5u", 10},
		{"by the base-layout key", "\x1b[1089::99;5u", 13},
		{"with text", "\x1b[99;5;99u", 10},
		{"a release is not a press", "\x1b[99;5:3u", 0},
		{"ctrl+shift+c", "\x1b[99;6u", 0},
		{"plain c", "\x1b[99u", 0},
		{"ctrl+x", "\x1b[120;5u", 0},
		{"cut short", "\x1b[99;5", 0},
		{"another sequence", "\x1b[5~", 0},
		{"text", "c", 0},
		{"empty", "", 0},
	} {
		if got := kittykey.CtrlCAt([]byte(tt.in)); got != tt.want {
			t.Errorf("%s: CtrlCAt(%q) = %d, want %d", tt.name, tt.in, got, tt.want)
		}
		if tt.want > 0 && !kittykey.MayHoldCtrlC([]byte(tt.in)) {
			t.Errorf("%s: MayHoldCtrlC(%q) is false", tt.name, tt.in)
		}
	}
}

func TestEventIs(t *testing.T) {
	esc, _ := kittykey.Parse([]byte("27;65"))
	if !esc.Is(kittykey.Esc, 0) {
		t.Error("Esc with Caps Lock is not Esc")
	}
	shiftEsc, _ := kittykey.Parse([]byte("27;2"))
	if shiftEsc.Is(kittykey.Esc, 0) {
		t.Error("Shift+Esc is Esc")
	}
	y, _ := kittykey.Parse([]byte("121;2:2"))
	if !y.Is('y', kittykey.Shift) || y.Is('y', 0) {
		t.Errorf("shift+y repeat: %+v", y)
	}
}

func TestStripCtrlC(t *testing.T) {
	for _, tt := range []struct{ in, out string }{
		{"a\x03b", "ab"},
		{"a\x1b[99;5ub\x1b[99;5:3u", "ab\x1b[99;5:3u"},
		{"ls\r", "ls\r"},
		{"\x03\x03", ""},
	} {
		got, found := kittykey.StripCtrlC([]byte(tt.in))
		if string(got) != tt.out || found != (tt.out != tt.in) {
			t.Errorf("StripCtrlC(%q) = %q, %v; want %q", tt.in, got, found, tt.out)
		}
	}
}

// FuzzCtrlC: whatever the input, nothing panics, a match never runs past the input,
// and StripCtrlC removes exactly the matches it reports.
func FuzzCtrlC(f *testing.F) {
	for _, s := range []string{"\x03", "\x1b[99;5u", "\x1b[99:67;5:2u", "\x1b[1089::99;69u", "a\x1b[99;5ub", "\x1b[99;5:3u", "\x1b[;u"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if n := kittykey.CtrlCAt(p); n < 0 || n > len(p) {
			t.Fatalf("CtrlCAt = %d for %d bytes", n, len(p))
		}
		if len(p) > 3 && p[0] == 0x1b {
			_, _ = kittykey.Parse(p[2:])
		}
		removed := 0
		for i := 0; i < len(p); {
			if n := kittykey.CtrlCAt(p[i:]); n > 0 {
				if !kittykey.MayHoldCtrlC(p) {
					t.Fatalf("MayHoldCtrlC(%q) is false, but there is a Ctrl+C at %d", p, i)
				}
				removed += n
				i += n
				continue
			}
			i++
		}
		out, found := kittykey.StripCtrlC(bytes.Clone(p))
		if len(out) != len(p)-removed || found != (removed > 0) {
			t.Fatalf("StripCtrlC(%q) = %q, %v; %d bytes of Ctrl+C", p, out, found, removed)
		}
	})
}
