// Package e2e holds xferterm's end-to-end tests and benchmarks. They run the real binary the way a
// person would: bin/xferterm inside tmux, wrapping OpenSSH's ssh to a private sshd on 127.0.0.1, with
// `xferterm transfer` typed on the "remote" side and the approval prompt answered with send-keys.
//
// Glossary:
//   - local: the terminal's machine, where the proxy (xferterm -- ssh …) runs. Its HOME is a
//     temporary directory, so relative destinations land there.
//   - remote: the shell that sshd starts. It is the same machine and user, but it works in its own
//     temporary directory, which is also its HOME.
//
// Everything lives in test files; this file only documents the package. TestMain builds
// ./cmd/xferterm (with -race when the tests run with it); XFERTERM_E2E_BIN=path tests a given
// binary instead. The tests need sshd, ssh, ssh-keygen, scp, tmux and screen (Debian:
// openssh-server openssh-client tmux screen, which .ci/run installs): a missing tool fails
// every test with the command
// that installs it, never a silent skip. The tests never sleep to synchronize: every wait polls a
// condition under a deadline. The benchmarks (bench_test.go) run only with -bench: make bench.
package e2e
