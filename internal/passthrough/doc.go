// Package passthrough gets the client's OSC 5113 sequences through a terminal
// multiplexer, tmux or GNU screen, running on the client's host between the client
// and the terminal: it finds out whether the client runs directly inside one
// ([Setup]), makes tmux let the sequences through for the length of the transfer
// (its allow-passthrough option, restored by [Session.Restore]), checks that they reach
// a terminal that speaks the protocol ([Session.Probe]), and wraps what the client
// writes so that the multiplexer passes it on ([Writer]). It also says what flow control
// a send needs through each multiplexer (TmuxSendWindow, ScreenReplyBudget), which the
// client applies.
//
// It must not change anything but the one pane's option it restores, and it does not
// touch the bytes that come back: both multiplexers deliver the terminal's replies to
// the pane unchanged (tmux 3.3a and screen 4.9 were checked with megabytes of them).
//
// # Glossary
//
//   - passthrough string: a DCS string (ESC P … ESC \) that the multiplexer does not
//     interpret but writes, without its frame, to the terminal it runs in. tmux wants
//     "tmux;" first and every ESC inside doubled, and passes it only when the pane's
//     allow-passthrough option is on (tmux 3.3 and later; off by default; older tmux,
//     from 1.5 on, always passes it). screen passes any DCS string as it is.
//   - pane: the tmux pane (or screen window) whose terminal is the client's.
//   - probe: a cancel for a session that does not exist, XTVERSION and DA1, wrapped;
//     xferterm's terminal side answers the cancel, a terminal answers the queries, and a
//     multiplexer around the client's answers them itself (nested multiplexers).
//
// # Measured limits
//
// tmux 3.3a keeps at most TmuxMaxString bytes of a DCS string (after undoing the
// doubled ESCs) and drops a longer one silently; it writes each passthrough string to
// the terminal whole, but may write its own output between two. It reads everything
// the pane writes at once and holds what the terminal has not taken yet in memory (66 MB
// for a 48 MiB file while the link stalled); it drops passthrough strings while a redraw
// of its client is pending, and it puts a redraw off while output is still queued, so a
// resize during a send loses data. It turns every byte the terminal sends into a key
// event (about 0.7 µs of its CPU each on the machines this was measured on), which
// bounds a receive to about 1 MB/s of file data whatever the link.
//
// screen 4.9.0 keeps at most ScreenMaxString bytes of a string and shows the rest as
// text; an ESC \ inside the string ends it, so a sequence going through screen ends with
// BEL, and a sequence longer than a string is cut over several, which screen writes out
// back to back. It writes to its terminal 256 bytes at a time. It keeps at most
// ScreenInput bytes of input that the window has not read and drops the rest.
package passthrough
