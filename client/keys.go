package client

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
		case b == 0x03:
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
	if len(k.seq) == 1 {
		if b != '[' {
			k.seq = k.seq[:0]
			if b == 0x1b {
				k.seq = append(k.seq, b)
			} else if b == 0x03 {
				k.cancel()
			}
			return
		}
		k.seq = append(k.seq, b)
		return
	}
	if b >= 0x40 && b <= 0x7e { // final byte
		if b == 'u' {
			params := string(k.seq[2:])
			if isCancelKey(params) {
				k.cancel()
			} else if c, ok := typedLetter(params); ok && k.text != nil {
				k.text(c)
			}
		}
		k.seq = k.seq[:0]
		return
	}
	if b < 0x20 || len(k.seq) >= maxCSI {
		k.seq = k.seq[:0]
		if b == 0x1b {
			k.seq = append(k.seq, b)
		} else if b == 0x03 {
			k.cancel()
		}
		return
	}
	k.seq = append(k.seq, b)
}

// isCancelKey reports whether the parameters of a CSI … u key event are a press (or
// repeat) of ctrl+c or of Esc with no modifiers. Forms: "99;5", "99;5:1", "27", "27;1",
// "27;1:1", and the same with alternate keys after ':' in the first field.
func isCancelKey(params string) bool {
	key, mod, typ := parseKeyEvent(params)
	if typ != "" && typ != "1" && typ != "2" { // 3 = release
		return false
	}
	switch key {
	case "99":
		return mod == "5"
	case "27":
		return mod == "" || mod == "1"
	}
	return false
}

// typedLetter reports the letter of a CSI … u key event that is a press (or repeat) of
// y or n, unmodified or with shift (reported as the capital letter).
func typedLetter(params string) (byte, bool) {
	key, mod, typ := parseKeyEvent(params)
	if typ != "" && typ != "1" && typ != "2" {
		return 0, false
	}
	var c byte
	switch key {
	case "121":
		c = 'y'
	case "110":
		c = 'n'
	default:
		return 0, false
	}
	switch mod {
	case "", "1":
		return c, true
	case "2":
		return c - 'a' + 'A', true
	}
	return 0, false
}

// parseKeyEvent splits the parameters of a CSI … u key event into the key code
// (without alternate keys), the modifiers and the event type.
func parseKeyEvent(params string) (key, mod, typ string) {
	key, mods := params, ""
	for i := 0; i < len(params); i++ {
		if params[i] == ';' {
			key, mods = params[:i], params[i+1:]
			break
		}
	}
	for i := 0; i < len(key); i++ { // drop alternate key codes
		if key[i] == ':' {
			key = key[:i]
			break
		}
	}
	mod = mods
	for i := 0; i < len(mods); i++ {
		if mods[i] == ';' { // text-as-codepoints field
			mod = mods[:i]
			break
		}
	}
	for i := 0; i < len(mod); i++ {
		if mod[i] == ':' {
			mod, typ = mod[:i], mod[i+1:]
			break
		}
	}
	return key, mod, typ
}
