package client_test

import (
	"testing"

	"github.com/xferterm/xferterm/client"
)

func TestKeyDetector(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  int
	}{
		{"legacy ctrl+c byte", "\x03", 1},
		{"kitty ctrl+c", "\x1b[99;5u", 1},
		{"kitty ctrl+c press event", "\x1b[99;5:1u", 1},
		{"kitty ctrl+c repeat event", "\x1b[99;5:2u", 1},
		{"kitty ctrl+c release is not a cancel", "\x1b[99;5:3u", 0},
		{"kitty ctrl+c with an alternate key", "\x1b[99:67;5u", 1},
		{"kitty esc", "\x1b[27u", 1},
		{"kitty esc with no modifiers spelled out", "\x1b[27;1u", 1},
		{"kitty shift+esc is not a cancel", "\x1b[27;2u", 0},
		{"kitty ctrl+shift+c is not a cancel", "\x1b[99;6u", 0},
		{"a lone esc is ambiguous and ignored", "\x1b", 0},
		{"plain text", "hello", 0},
		{"a DA1 reply", "\x1b[?62;22c", 0},
		{"a focus event", "\x1b[I", 0},
		{"ctrl+c inside an unfinished sequence still counts", "\x1b[1\x03", 1},
		{"two presses", "\x03\x1b[99;5u", 2},
		{"an overlong sequence is skipped", "\x1b[" + string(make([]byte, 40)) + "u", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Every split of the input into two writes gives the same answer.
			for cut := 0; cut <= len(tt.input); cut++ {
				n := 0
				k := client.NewKeyDetector(func() { n++ })
				_, _ = k.Write([]byte(tt.input[:cut]))
				_, _ = k.Write([]byte(tt.input[cut:]))
				if n != tt.want {
					t.Fatalf("split at %d: %d cancels, want %d", cut, n, tt.want)
				}
			}
		})
	}
}

// Typed text reaches the session: printable ASCII outside escape sequences, and y and
// n as kitty keyboard events.
func TestKeyDetectorText(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"plain text", "y n", "y n"},
		{"control bytes are not text", "\r\n\ty\x7f", "y"},
		{"escape sequences are not text", "\x1b[?62;22c\x1b[Iy\x1b[O", "y"},
		{"kitty y and n", "\x1b[121u\x1b[110;1u\x1b[121;1:2u", "yny"},
		{"kitty shift+y", "\x1b[121;2u", "Y"},
		{"kitty y release is not text", "\x1b[121;1:3u", ""},
		{"kitty ctrl+n is not text", "\x1b[110;5u", ""},
		{"kitty other letters are not reported", "\x1b[97u", ""},
		{"alt+y (ESC y) is not text", "\x1by", ""},
		{"UTF-8 is not reported", "é", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for cut := 0; cut <= len(tt.input); cut++ {
				var got []byte
				k := client.NewTextKeyDetector(func() { t.Fatal("cancel") }, func(b byte) { got = append(got, b) })
				_, _ = k.Write([]byte(tt.input[:cut]))
				_, _ = k.Write([]byte(tt.input[cut:]))
				if string(got) != tt.want {
					t.Fatalf("split at %d: text %q, want %q", cut, got, tt.want)
				}
			}
		})
	}
}
