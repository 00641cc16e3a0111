// Package approval decides whether a file transfer may run. Its Approver is the one
// place where that is decided: the engine (package fs) asks it through the
// transfer.Approver interface, and it composes the steps below, keeps the audit log,
// and puts the questions that need a person to an Asker (package prompt shows them on
// the terminal). It also owns the configuration file (Config, Paths) and the Guard,
// which marks the paths that need a question of their own.
//
// Protocol references are to protocol/terminal-side.md: approval is §3, the bypass is
// §4.
//
// # Who decides, in what order
//
// A session (send or receive) is decided in this order:
//
//  1. bypass: a pw value is checked (package bypass) and decides alone, without a
//     question: an invalid one refuses, a valid one allows — except that a receive
//     session that reads sensitive paths is asked about anyway (step 4), as a send
//     session is asked about each sensitive destination;
//  2. policy: with policy "deny", everything not granted by a bypass is refused;
//  3. guard: the specs of a receive session are classified (Guard.Read), and the
//     question marks the sensitive ones;
//  4. prompt: the question is posted for a person — unless nobody can be asked, the
//     person chose "deny everything" a moment ago, the brake is on, or too many
//     questions wait already: then it is refused at once;
//  5. audit: every session decision is recorded with how it was made (SessionRecord),
//     and the engine's file events follow (Approver.Record).
//
// A destination of an approved send session is decided by the guard (Guard.Write): one
// that is not sensitive is allowed, and the file it replaces may be read for an rsync
// signature (Decision.ReadOld); a sensitive one is asked about, even after a bypass,
// unless an "allow all" given earlier in the same session covers it (same reason,
// within the directory the question named: Question.Scope), and its old file is never
// read: a signature would let the remote confirm guesses of its content.
//
// # On which goroutine
//
// Steps 1 to 3, and the refusals of step 4, run inside Approver.Ask, on the engine's
// goroutine and under the engine's lock: they are pure computation (a bypass is
// decrypted and compared, a path is matched), so a client that does not wait for the
// answer (the kitten with a bypass, §3.2) finds its session decided. Ask never
// waits for a person. A question for a person is queued (a bounded queue) and Ask
// returns it as pending.
//
// Approver.Run, on its own goroutine, shows the queued questions one at a time,
// oldest first, through the Asker, and calls each one's answer function with the
// decision; the engine then applies it under its own lock. The Approver's lock is
// never held while it calls out (the answer, the Asker, the audit log, the notes), so
// the engine may call Ask and Withdraw with its lock held without a deadlock. A
// session that dies withdraws its question: it leaves the queue, or its prompt is
// taken down (the Asker's context ends).
//
// # The person's answers
//
// Besides allow and deny, a person may answer "allow all" to a file question (the
// rest of the transfer within its scope) and "deny everything" to any question
// (every request of any session is refused without asking for Limits.QuietFor). After
// Limits.BrakeDenials denials within Limits.BrakeWindow the brake refuses further
// requests without asking for Limits.BrakeFor, so that a flood of requests cannot keep
// the user busy; each of these is said once, in a note on the screen.
//
// # What a flood leaves behind
//
// A remote can make thousands of requests fail a second (wrong passwords, requests the
// policy refuses, files that fail). What that leaves is bounded: on the screen, the
// first note of a kind, then one at the 10th, 100th, 1000th… within a minute, with the
// count (notes.go); in the audit log, the first record of a kind, then one record a
// minute with the count (AuditLog, "Repeats"), in a file rotated at
// DefaultAuditMaxSize. The bypass itself paces wrong passwords (package bypass).
//
// Secrets: no error, note or audit record of this package contains a password or a pw
// value. The package knows nothing about files beyond what it classifies and shows: it
// does not read the disk for transfers, parse protocol payloads, or own the terminal.
// Nothing here is global: clocks, directories and the environment are passed in.
package approval
