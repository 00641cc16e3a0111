package client

import "github.com/xferterm/xferterm/internal/kittykey"

// keyDetector watches the bytes typed at the tty for a request to cancel: Ctrl+C as the
// legacy byte 0x03 (raw mode turns ISIG off, so it arrives as a byte), and, when the
// terminal speaks the kitty keyboard protocol, CSI 99;5u (ctrl+c) and CSI 27u (Esc).
// The real client only knows the last two (reference-client.md §6). A lone ESC byte is
// ambiguous and ignored. It never fails, and keeps at most maxCSI bytes between writes.
//
// It also reports typed text to text, when set: each printable ASCII byte outside
// escape sequences, and the letters y and n sent as kitty keyboard protocol events
// (CSI 121u, CSI 110u), which is all the --confirm-paths question needs.
type keyDetector struct {
	cancel func()
	text   func(b byte)
	seq    []byte // an escape sequence in progress, starting with ESC
}

// maxCSI bounds a CSI sequence we look into; longer ones are skipped.
const maxCSI = 32

func (k *keyDetector) Write(p []byte) (int, error) {
	for _, b := range p {
		if len(k.seq) > 0 {
			k.feedSeq(b)
			continue
		}
		switch {
		case b == kittykey.CtrlCByte:
			k.cancel()
		case b == 0x1b:
			k.seq = append(k.seq[:0], b)
		case b >= 0x20 && b < 0x7f && k.text != nil:
			k.text(b)
		}
	}
	return len(p), nil
}

func (k *keyDetector) feedSeq(b byte) {
	switch {
	case len(k.seq) == 1 && b == '[':
		k.seq = append(k.seq, b)
	case len(k.seq) == 1:
		k.abandon(b) // ESC and something else: not a CSI sequence
	case b >= 0x40 && b <= 0x7e: // final byte
		if b == 'u' {
			if e, ok := kittykey.Parse(k.seq[2:]); ok {
				k.keyEvent(e)
			}
		}
		k.seq = k.seq[:0]
	case b < 0x20 || len(k.seq) >= maxCSI:
		k.abandon(b)
	default:
		k.seq = append(k.seq, b)
	}
}

// abandon drops the sequence in progress at b, which may start another (ESC) or be a
// Ctrl+C of its own.
func (k *keyDetector) abandon(b byte) {
	k.seq = k.seq[:0]
	switch b {
	case 0x1b:
		k.seq = append(k.seq, b)
	case kittykey.CtrlCByte:
		k.cancel()
	}
}

// keyEvent acts on a kitty keyboard protocol key event: Ctrl+C and Esc cancel; y and n,
// unmodified or with Shift (reported as the capital letter), are typed text.
func (k *keyDetector) keyEvent(e kittykey.Event) {
	if e.CtrlC() || e.Is(kittykey.Esc, 0) {
		k.cancel()
		return
	}
	if k.text == nil {
		return
	}
	for _, c := range [...]byte{'y', 'n'} {
		switch {
		case e.Is(rune(c), 0):
			k.text(c)
		case e.Is(rune(c), kittykey.Shift):
			k.text(c - 'a' + 'A')
		}
	}
}
