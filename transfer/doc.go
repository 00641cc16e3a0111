// Package transfer is the vocabulary that the engine serving transfers (fs), the side
// that decides whether they may run (approval, prompt) and the client share: which
// way files move (Direction), what a session asks (Request, Item), what is decided
// (Decision, Grant, Method), the Approver interface through which the engine asks,
// and the events it reports for the audit log.
//
// It holds data and two small interfaces, and does nothing: no I/O, no clock, no
// goroutines. File types are scanner.FileType, the protocol's own.
//
// # Who decides, and when
//
// The engine calls Approver.Ask under its lock, at the moment a session needs a
// decision. What can be decided without a person (a bypass value, the configuration,
// a destination that is not sensitive) is decided there, synchronously, so that a
// client that does not wait (the kitten with a bypass sends its file commands right
// after send, terminal-side.md §3.2) finds its session decided. What needs a person
// is posted, and the session waits in an asking state with the engine's lock free;
// the answer comes back later as an event the engine handles under its lock, like a
// command. A session that dies meanwhile withdraws its question.
package transfer
