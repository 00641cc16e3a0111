// Package client is xferterm's own client of kitty's OSC 5113 file transfer protocol:
// `xferterm transfer`, run on the remote host inside a session wrapped by xferterm (or
// any terminal that implements the protocol's terminal side), talking to the terminal
// through its controlling tty. It behaves like the real client, `kitten transfer`
// (protocol/reference-client.md), on the wire, minus its bugs.
//
// Its one job is the client half of a transfer: [Run] scans or plans the files, sends
// the commands, reads the terminal's replies, moves file data both ways (zlib, rsync
// deltas, links, permissions and mtimes) and shows progress. It must not decide
// anything the terminal decides (approval, where relative paths land), and it never
// sends a bypass password in the clear.
//
// # Glossary
//
//   - send: files go from this host to the terminal's machine (ac=send; the terminal
//     receives). receive: the other way (ac=receive; the terminal sends).
//   - reply: an OSC 5113 sequence the terminal writes to our tty. [ParseStrict] decodes
//     it exactly as strictly as the real client (unpadded base64, known keys and enum
//     values only); anything else is fatal.
//   - session id: hex(pid) + 4 random hex digits; every command starts with id=.
//   - file id: 1, 2, …, 9, a, … for uploads; spec ids 0…N-1 and request ids 1, 2, 3
//     (decimal) for downloads (terminal-side.md §1.5).
//   - listing: the terminal's ac=file entries describing what a receive will fetch,
//     tied together by st (entry id) and pr (parent id), ended by a status OK.
//
// # Structure
//
// One goroutine reads the tty: a scanner extracts replies, and every other byte goes to
// a key detector (Ctrl+C as 0x03, CSI 99;5u, CSI 27u), which also passes typed
// characters on for the --confirm-paths question (send.go). The reader hands replies to
// the session loop, except the data packets of a file being received, which it writes
// into the file itself, under the session's lock: a hand-off per packet (a goroutine
// woken on another thread every few KiB) cost more CPU than reading the tty, on the
// cores that ssh needs. One goroutine writes to the tty,
// one buffer at a time, so that the session loop (the caller of Run) never blocks on
// backpressure and keeps watching replies, keys, timers and its context. The protocol
// state of each direction (send.go, receive.go) is separate from the display
// (display.go), which only counts bytes and draws a line. Through a multiplexer a send
// can also pace itself on the terminal's acknowledgements and bound the replies it
// provokes (pacing.go, Options.SendWindow and ReplyBudget).
//
// # Improvements over the real client
//
// Ctrl+C cancels even without the kitty keyboard protocol; a silent terminal gives a
// timeout error instead of a hang; a failed file never hangs the transfer (finish is
// sent once every file has a final status); a received file goes to a temporary file
// renamed over the destination only when complete and verified; a bypass password
// without KITTY_PUBLIC_KEY is refused instead of leaked; a sent file's size is announced
// (sz on its file command, which kitty ignores), so that xferterm's terminal side can
// refuse a copy that lost data on the way.
package client
