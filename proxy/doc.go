// Package proxy runs a command in a new pseudo-terminal and relays it to the user's
// terminal, so that `xferterm -- ssh host` feels exactly like `ssh host`, while OSC 5113
// sequences in the child's output are taken out of the stream and handed to an [Engine]
// (DESIGN.md, "Data flow"; protocol/terminal-side.md §14).
//
// One goroutine owns each direction:
//
//   - the output pump reads the ptmx, passes the bytes through a [scanner.Scanner] to the
//     user's terminal, and hands each OSC 5113 payload to Engine.HandlePayloadFrom,
//     synchronously: a slow engine or disk stops the pump from reading the child, which
//     is the backpressure the protocol relies on;
//   - the input router reads the user's keystrokes and sends each read, whole, to the pty
//     writer (or to a borrower of the [Console], such as the approval prompt); while an
//     approved transfer runs (Engine.Running) it turns Ctrl+C into Engine.CancelAll;
//   - the pty writer is the only goroutine that writes into the child: keystrokes, and
//     whatever Engine.Pull returns when Engine.Ready fires, each unit whole and in order.
//     The output pump never waits for it, so a child that writes a lot while not reading
//     its input cannot deadlock the proxy.
//
// [Run] also owns the terminal state: the user's terminal is in raw mode while the child
// runs and is restored on every way out (the child exits or dies, a signal to xferterm,
// a failed write to the terminal, a panic in any of the proxy's goroutines).
//
// When stdin is not a terminal (a pipe, /dev/null), nothing is made raw, the child gets
// COLUMNS x LINES (else 80x24), and the end of stdin reaches the child as a terminal
// would send it: its VEOF character, twice after a partial line in canonical mode.
//
// # Glossary
//
//   - ptmx: the master side of the child's pseudo-terminal, owned by the proxy. It is a
//     pollfd.File: read and written with poll(2) in the pump's and the writer's own
//     goroutines, not through Go's network poller, whose wake-up per chunk of output cost
//     as much as the relaying; a large write (file data) is one blocking write(2), which
//     Close still interrupts (see package internal/pollfd).
//   - console: the user's terminal, our stdin and stdout.
//   - unit: one read from stdin, or one Pull from the engine; written to the child whole.
//   - borrow: the approval prompt taking the console for a while (see [Console.Borrow]).
//   - modes: the few DEC private modes (cursor visibility, bracketed paste, …) that the
//     child sets on the console; the proxy follows them in the output it writes, so that
//     it can set them again after a borrow (modes.go).
//
// The proxy must not parse protocol payloads: it moves them between the scanner and the
// engine as opaque bytes.
package proxy
