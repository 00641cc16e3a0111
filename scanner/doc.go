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
// It must not touch the disk, keep sessions, or decide anything about a transfer: that is
// the fs engine's job.
//
// # Glossary
//
//   - introducer: the 7 bytes "ESC ] 5113 ;" that start a sequence.
//   - payload: the bytes after the introducer and before the terminator, e.g.
//     "id=1a2b;ac=send". This is what the Handler receives and what Parse decodes.
//   - terminator: ST ("ESC \") or BEL (0x07). kitty accepts both (§1.1).
//   - pass-through: every byte that is not part of an extracted sequence.
//   - held bytes: up to 6 bytes at the end of a write that may be the start of an
//     introducer ("ESC ] 51"); the next write decides whether they are forwarded.
//
// # Framing rules
//
// Only the exact introducer "ESC ] 5113 ;" starts a sequence. Everything else passes
// through byte for byte: other OSC codes (0, 8, 52, 133, 5112, 51130, …), "ESC ] 5113"
// followed by anything but ';' (kitty would parse "5113" and an empty payload, which it
// drops anyway), "ESC ] 05113;" (kitty would accept the leading zero; the kitten never sends
// it), CSI, DCS, APC, UTF-8 and lone ESC bytes. The 8-bit C1 forms of OSC (0x9D) and ST
// (0x9C) are not recognized, as in kitty.
//
// The scanner does not track other escape sequences, so an introducer is recognized even
// in the middle of another OSC, DCS or APC string. That matches the VT500 parser model
// (the DEC state diagram most emulators follow): an ESC ends any control string in
// progress, so the terminal itself would start a new OSC at that point.
//
// Inside a payload, BEL or "ESC \" ends the sequence. An ESC followed by any other byte
// also ends it, for the same reason (kitty may instead keep such an ESC as payload data;
// the kitten never puts an ESC in a payload, so the difference cannot be observed with the
// real client), but the sequence is then incomplete: it is dropped,
// the Handler gets [ErrUnterminated], and the ESC is processed again as the start of
// whatever follows (so "ESC ] 5113;abc ESC [ 0m" forwards just "ESC [ 0m"). The same
// happens to a sequence still open when [Scanner.Flush] is called at the end of the
// stream. A payload longer than the limit given to [New] is dropped the same way, with
// [ErrTooLong]; its bytes up to its end are swallowed, never forwarded.
//
// So the bytes removed from the stream are exactly those of sequences reported to the
// Handler (with a payload or an error); the bytes of an OSC 5113 sequence never reach the
// user's terminal, which might be a kitty that would run a transfer of its own (§1.1).
//
// # Memory
//
// A payload that arrives within one write is handed to the Handler as a slice of that
// write, without copying. Only a payload split across writes is copied into a buffer, which
// grows up to the limit and never past it. Held bytes are a count, not a copy: they can
// only be a prefix of the introducer.
package scanner
