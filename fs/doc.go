// Package fs is the terminal side of the OSC 5113 protocol: the Engine serves the send
// sessions (the remote writes files here, terminal-side.md §6) and the receive sessions
// (the remote reads files from here, §7) that a child program's output carries, against
// the local disk. It writes through temporary files renamed into place, reaches every
// path without following a symlink it did not mean to, and keeps memory bounded whatever
// the remote sends. It draws nothing on the terminal and decides nothing about
// permission: it asks a transfer.Approver.
//
// # Who calls, on which goroutine
//
// The proxy's output pump calls Handle (through HandlePayload), its pty writer calls
// Pull, its ticker calls Tick, its input router calls Running and CancelAll. Each holds
// the engine's lock from start to end; session state is touched only under it.
//
// # Waiting
//
// The engine never waits for a person, and never releases its lock in the middle of a
// session's state machine. A session that needs a decision calls Approver.Ask under the
// lock. What can be decided at once (a bypass, the configuration, a destination that is
// not sensitive: see package approval) is applied right there, so that a client which
// does not wait for the answer finds its session decided (the kitten with a bypass,
// terminal-side.md §3.2). What needs a person leaves the session in an asking state:
//
//   - a send session waiting for its own decision is pending, and any command ends it
//     (§2), withdrawing the question;
//   - a send session asks about one destination at a time; files arriving meanwhile wait
//     their turn in order (an "allow all" answer can then cover them), and data for a file
//     that has not been STARTED fails it;
//   - a receive session first has its specs described (a bounded walk of the disk) by a
//     background job, then asks; meanwhile a further spec spoils the question, and the
//     other commands act as §2 says for a pending session (see download.handleAsking).
//
// The answer, and the description, come back as events: the Approver calls the answer
// function from its own goroutine, which takes the lock (Engine.deliver) and hands the
// decision to the session if it still waits for that very question. Meanwhile Pull
// serves the other sessions, Tick expires sessions and ends stuck ones, and a cancel,
// CancelAll or Close gets through at once. A session that dies while asking (cancelled,
// expired, replaced, closed) withdraws its question, so the prompt showing it goes away;
// an answer that still arrives afterwards finds no session waiting for it and is dropped.
//
// # What the engine tells the approval side, and holds for the remote
//
// A request carries facts, and the decision stays with the approval side: a spec is
// described as the listing will reach it and by where that really is (its links
// followed: transfer.Item.Target), and the listing then holds to that description (same
// device and inode); an uploaded symbolic link is asked about again once where it
// points is known; a destination says what is there (size, mode) and what the remote
// asks for. The decision says what may be done besides writing: read the old file for
// an rsync signature (Decision.ReadOld), give a directory the remote's permissions
// (Decision.SetMode).
//
// Everything whose size the remote decides is charged to one budget for all sessions
// (Limits.MaxHeld; budget.go), and a session gives it back when it ends.
//
// # Platforms
//
// What differs between systems is in a few files. sys_linux.go reaches files with O_PATH
// descriptors (search permission alone; a held inode, reopened or given a mode through
// /proc/self/fd); sys_portable.go, for macOS, FreeBSD and Linux built with the tag
// xferterm_portable (which `make test` runs), holds directories open for reading and
// checks device and inode before each use of a name, so the same guarantees hold with
// plain openat. os_GOOS.go has the rest: the free space of a file system, and on macOS
// the walk of a whole path in one open (O_NOFOLLOW_ANY).
package fs
