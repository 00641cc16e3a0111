// Package bypass is the pre-shared-password bypass of terminal-side.md §4: a client
// that proves it knows the password skips the approval prompt. It checks the pw value
// a client sends (Verifier: the kitty-1 scheme the kitten sends, and the documented
// sha256 scheme), and encodes one for a client (EncodeKitty1, EncodeSHA256). It also
// owns what those need: the terminal's X25519 key pair and its KITTY_PUBLIC_KEY value
// (KeyPair), the Base85 of the key and of kitty-1's fields, and the password itself
// (Secret) with its sources (a file, XFERTERM_PASSWORD, the config's password_file).
//
// Glossary:
//
//   - pw value: the pw key of a send or receive command, "<scheme>:<data>" after base64
//     decoding. A valid one approves the session; an invalid one refuses it. Either way
//     nobody is asked.
//   - kitty-1: the scheme the kitten sends: "<now>:<id>;<password>" encrypted for the
//     terminal's public key with an ephemeral X25519 key and AES-256-GCM (§4.1).
//   - sha256: the documented scheme, hex SHA-256 of "<id>;<password>" (§4.2).
//
// Secrets: the password is a Secret, which prints as "[redacted]". No error of this
// package contains a password or a pw value, and a pw without a known scheme (the
// kitten's plaintext leak) is refused without being shown.
//
// Verifying is pure computation (plus a bounded memory of session ids against
// replays): it never blocks, so the engine decides a bypass synchronously, before the
// next command (§3.2). The package knows nothing of sessions, files, prompts or
// terminals; nothing here is global: clocks and the environment are passed in.
package bypass
