// Package approval decides whether a file transfer may run: it asks the user
// (Prompt), or checks a pre-shared-password bypass sent by the client
// (Verifier), and records the decision (AuditLog). It also owns what those
// need: the terminal's X25519 key pair (KeyPair, and the KITTY_PUBLIC_KEY
// value), the password sources, the config file (Config) and the policy that
// marks sensitive paths (Guard).
//
// Protocol references are to protocol/terminal-side.md: approval is §3, the
// bypass schemes are §4, and quiet levels (which gate the replies, not the
// decision) are §5.
//
// Glossary:
//
//   - upload: the remote sends files to this computer (client action send).
//   - download: the remote reads files from this computer (client action receive).
//   - bypass: the pw value of a send or receive command, "<scheme>:<data>"
//     after base64 decoding. A valid bypass approves the session without a
//     prompt; an invalid one refuses it, also without a prompt.
//   - kitty-1: the bypass scheme the kitten sends: the password encrypted for
//     the terminal's public key (EncodeKitty1 is the client side).
//   - sha256: the documented bypass scheme, hex SHA-256 of "<id>;<password>".
//   - sensitive: a path the prompt marks, because it holds secrets or is run
//     or loaded by other programs (Guard).
//
// Secrets: the password is a Secret, which prints as "[redacted]". No error,
// log line or audit record of this package contains a password or a pw
// value, and a pw without a known scheme (the kitten's plaintext leak) is
// refused without being shown.
//
// The package knows nothing about files beyond what it shows and classifies:
// it does not read the disk for transfers, parse protocol payloads, or own
// the terminal (the proxy hands Prompt a reader and a writer). Nothing here
// is global: clocks, directories and the environment are passed in.
package approval
