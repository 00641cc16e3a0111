// Package scanner frames and decodes the OSC 5113 file transfer protocol in the child's
// output stream, and encodes the replies (protocol/terminal-side.md §1 and §14).
//
// It has two jobs:
//
//   - Framing: [Scanner] is an [io.Writer] filter placed between the PTY and the user's
//     terminal. It removes every OSC 5113 sequence from the stream, hands its payload to a
//     [Handler], and forwards every other byte to the terminal unchanged and in order,
//     however the stream is cut into writes.
//   - Codec: [Parse] turns a payload into a [Command] the way kitty's terminal side does
//     (§1.3), and [Command.AppendTo] / [Command.AppendOSC] serialize a reply the way kitty
//     does (§1.4). Every status text the client can see lives in status.go.
//
// A third, small one serves the two generations of kitty's client: [Sniffer] tells from
// the pass-through bytes whether the 0.26 client (Python, Debian 12) opens the next
// session, and [Command.Padded] encodes replies the way that client demands (see
// [Dialect]).
//
// It must not touch the disk, keep sessions, or decide anything about a transfer: that is
// the fs engine's job.
//
// # Glossary
//
//   - introducer: "ESC ]" and the OSC code that make an OSC 5113 sequence, usually the 7
//     bytes "ESC ] 5113 ;" (see the framing rules for the other spellings).
//   - payload: the bytes after the introducer and before the terminator, e.g.
//     "id=1a2b;ac=send". This is what the Handler receives and what Parse decodes.
//   - terminator: ST ("ESC \") or BEL (0x07). kitty accepts both (§1.1).
//   - pass-through: every byte that is not part of an extracted sequence.
//   - held bytes: bytes that may be the start of an OSC 5113 sequence and are kept back
//     until the bytes after them decide (an ESC, "ESC ]" and part of a code); at most
//     [MaxHeld].
//
// # Framing rules
//
// The scanner removes every sequence that a terminal could run as OSC 5113, so that a kitty
// behind xferterm never starts a transfer of its own, outside xferterm's prompt and audit
// log (§1.1). kitty reads an OSC as "ESC ]", then a body up to the terminator; the code is
// the value of up to five decimal digits at the start of the body, and one ';' after them
// is skipped. Older kitty drops NUL and DEL from the body first. So these all start an
// OSC 5113 sequence: "ESC ] 5113 ;" (what clients send), "ESC ] 05113 ;", "ESC ] 5113"
// followed by any byte but a digit (the payload starts at that byte), "ESC ] 05113" followed
// by anything, and any of these with NUL or DEL among the digits. Other codes (0, 8, 52,
// 133, 5112, 51130, "005113", which is 511, …) pass through, as do CSI, DCS, APC, UTF-8 and
// the 8-bit C1 forms of OSC (0x9D) and ST (0x9C), which kitty does not recognize.
//
// Removing a sequence joins the bytes before it to the bytes after it, and the terminal
// would read the joint: "ESC", or "ESC ] 51", then a removed sequence, then "]5113;…" or
// "13;…" reads as OSC 5113. So an ESC is held until the next byte is known, and "ESC ]"
// with its code until the byte after the code is; held bytes followed by an OSC 5113
// sequence are removed with it. That covers runs of ESC, and an OSC whose code is ended by
// an ESC (held on until what that ESC starts is known). More than [MaxHeld] held bytes,
// which only a degenerate stream of ESC, NUL or DEL bytes can make, are dropped.
//
// The scanner does not track other escape sequences, so an introducer is recognized even
// in the middle of another OSC, DCS or APC string. That matches the VT500 parser model
// (the DEC state diagram most emulators follow): an ESC ends any control string in
// progress, so the terminal itself would start a new OSC at that point. Removing more than
// kitty would run is safe; removing less would not be.
//
// Inside a payload, BEL or "ESC \" ends the sequence. An ESC followed by any other byte
// also ends it, as in the DEC model (kitty may instead keep such an ESC as payload data;
// the kitten never puts an ESC in a payload), but the sequence is then incomplete: it is
// dropped, the Handler gets [ErrUnterminated], and the ESC is processed again as the start
// of whatever follows (so "ESC ] 5113;abc ESC [ 0m" forwards just "ESC [ 0m"). CAN and SUB
// abort the sequence the same way, as they abort any control sequence in a terminal, and
// are removed with it. The same happens to a sequence still open when [Scanner.Flush] is
// called at the end of the stream. A payload longer than the limit given to [New] is
// dropped the same way, with [ErrTooLong]; its bytes up to its end are swallowed, never
// forwarded.
//
// So the bytes removed from the stream are those of sequences reported to the Handler
// (with a payload or an error), the held bytes removed with them, and held bytes beyond
// [MaxHeld]; the bytes of an OSC 5113 sequence never reach the user's terminal.
//
// # Memory
//
// A payload that arrives within one write is handed to the Handler as a slice of that
// write, without copying. Only a payload split across writes is copied into a buffer, which
// grows up to the limit and never past it. Held bytes that continue into the next write are
// copied into a fixed array of [MaxHeld] bytes.
package scanner
