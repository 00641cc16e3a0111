package client

import (
	"fmt"
	"math/rand/v2"

	"github.com/xferterm/xferterm/scanner"
)

// maxPacket is the most raw bytes the client puts in one data packet, like the real
// client (reference-client.md §4.1).
const maxPacket = 4096

// NewSessionID returns a session id the way the real client makes one
// (terminal-side.md §1.5): the process id in lowercase hex followed by 4 random hex
// digits.
func NewSessionID(pid int) string {
	return fmt.Sprintf("%x%04x", pid, rand.IntN(1<<16))
}

// appendCommand appends cmd as a complete escape sequence for the terminal:
// "ESC ] 5113;id=<id>;" first, as the real client writes it (reference-client.md §3),
// then the other fields in scanner's fixed order, then ST. cmd.ID is ignored; id is used.
func appendCommand(dst []byte, id string, cmd scanner.Command) []byte {
	cmd.ID = ""
	dst = append(dst, "\x1b]5113;id="...)
	dst = append(dst, id...) // ids are made by NewSessionID or checked by safestring.Valid
	start := len(dst)
	dst = cmd.AppendTo(dst)
	// AppendTo wrote "5113;" and the fields; keep the fields, after a ';'.
	body := dst[start+len(scanner.Prefix):]
	if len(body) > 0 {
		dst = append(dst[:start], ';')
		dst = append(dst, body...) // copy within the same array moves left: safe
	} else {
		dst = dst[:start]
	}
	return append(dst, "\x1b\\"...)
}

// uploadFileID returns the file id of the i-th upload entry (i from 0): lowercase hex
// counters 1, 2, …, 9, a, b, … (terminal-side.md §1.5).
func uploadFileID(i int) string { return fmt.Sprintf("%x", i+1) }
