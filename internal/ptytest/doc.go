// Package ptytest is the test support shared by the packages whose tests drive a
// program through a real pty, as a terminal emulator does: proxy and cmd/xferterm
// (and internal/pollfd, for its waits and descriptor counts).
//
// Glossary:
//   - terminal: a pty the test owns ([Terminal]). The test reads what the terminal
//     shows from its master ([Output]) and types into it; the program under test gets
//     the slave as its console.
//   - helper: the test binary re-executed as the child program ([Command]), in a mode
//     named by [HelperEnv]. Each test binary's TestMain runs its own modes and hands
//     the rest to [Helper], which has the modes both packages use (including
//     "strict-send", a strict scripted client).
//   - relay: the minimal pty relay (a pty and io.Copy) that the end-to-end benchmarks
//     measure the proxy against ([RelayVsProxy]).
//
// Every wait is bounded by [WaitTimeout] and fails the test when it runs out; nothing
// here sleeps to synchronize.
//
// It is imported only by _test.go files: nothing in it may be used by the program.
// It depends on scanner for the scripted client, and on nothing else of xferterm.
package ptytest
