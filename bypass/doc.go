// Package bypass is the pre-shared-password bypass of terminal-side.md §4: a client
// that proves it knows the password skips the approval prompt. It checks the pw value
// a client sends (Verifier: the kitty-1 scheme the kitten sends, and the documented
// sha256 scheme), and encodes one for a client (EncodeKitty1, EncodeSHA256). It also
// owns what those need: the terminal's X25519 key pair and its KITTY_PUBLIC_KEY value
// (KeyPair), the record of the session ids already used (UsedIDs, FileIDs beside the
// key), the Base85 of the key and of kitty-1's fields, and the password itself
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
//   - failed check: a value compared with the password that did not match, or a
//     kitty-1 value whose decryption (the costly part) failed. A value refused before
//     that (too long, unknown scheme, malformed) is not one: it tests no guess and
//     costs microseconds.
//
// # What a remote can do against the password
//
// The remote is hostile (DESIGN.md): it can print anything, so it can send any number
// of pw values for any session ids, and it may know KITTY_PUBLIC_KEY; it does not know
// the password. All it learns from an attempt is the reply, OK or EPERM: why a value
// was refused goes to the user's screen and the audit log, never to the remote.
//
//   - Offline, from what the terminal sends: nothing. The terminal never sends anything
//     derived from the password. Only a client's own values carry it: a kitty-1 value is
//     encrypted for the terminal's key, but a sha256 value is a fast hash of
//     "<id>;<password>" that whoever sees the stream can try passwords against at
//     billions a second. Whoever sees the stream (root on the remote host, or the
//     user's account there) can read the client's password file too; still, prefer
//     kitty-1.
//   - Online: each attempt tests one guess. It costs the remote about 120 bytes of
//     output (sha256), or an X25519 of its own (kitty-1), and us a hash, or an X25519
//     and an AES-GCM decryption.
//
// # Failed checks never lock anyone out
//
// A value is checked for the password first, in constant time, whatever came before
// it, and a value with the right password is accepted if its session id is fresh and
// (kitty-1) its timestamp within Window: no count of failures refuses it. Only such
// values are recorded as used (UsedIDs), so a remote without the password cannot fill
// the record. (Before this, every attempt was recorded in a memory of 4096 ids, and
// 4100 bogus attempts made every bypass refused for 10 minutes.)
//
// # Guessing is paced, not refused
//
// Every attempt arrives in the same stream, and before it is checked an attempt with
// the password looks like any other. So a limit on how many are checked — refusing
// them once a budget is spent — would refuse the user's attempt during a flood as
// well as the attacker's; and a limit that lets the right password through limits no
// guessing, since the right guess is the one it lets through. What is left is to slow
// the stream down: after FreeFailures failed checks, each further one costs
// 1/FailuresPerSecond during which the caller reads no more of the remote's output
// (Backoff): backpressure, as from a slow disk. A value with the right password never
// waits (it is checked before anything waits); it may only wait behind the attempts
// ahead of it in the stream.
//
// The numbers, measured on a 2-core machine: a check costs 0.3 µs (sha256) or 60 µs
// (kitty-1: BenchmarkVerify), and a refused request about 30 µs in all through the
// engine (approval's BenchmarkRefusedBypass), so unpaced a remote could test about
// 30 000 guesses a second, or keep a core busy with kitty-1 values. Paced, it tests at most FailuresPerSecond: 86 million a
// day, about 2³⁵ a year, with at most 6 % of a core spent on X25519. A password of 12
// random letters and digits (71 bits) stands that for longer than anyone cares; a
// word from a dictionary does not: use a random one. The price is paid only during a
// flood: the stream then moves at FailuresPerSecond attempts, so a bypass sent behind
// one waits its turn, up to about 17 s behind what ssh buffers (some 2 MiB, 17 000
// attempts), and is then accepted. The pacing is per process. The approval side tells
// the user about failed checks on the screen and in the audit log.
//
// # Replays
//
// A value with the right password is accepted once: its session id is recorded until
// the value has expired (UsedFor), and a recorded id is refused (ErrReplay). A kitty-1
// value cannot be changed to another id (the id is inside the encrypted payload), and
// expires Window after its timestamp; a sha256 value never expires, so it can be
// replayed once UsedFor has passed. cmd records ids in a FileIDs beside the key pair,
// so that a value one xferterm accepted is refused by every other one that uses the
// same key; if that file cannot be used, values with the right password are refused
// (ErrStore) rather than accepted without the record.
//
// Secrets: the password is a Secret, which prints as "[redacted]". No error of this
// package contains a password or a pw value, and a pw without a known scheme (the
// kitten's plaintext leak) is refused without being shown.
//
// Verifying never blocks on the remote, so the engine decides a bypass synchronously,
// before the next command (§3.2): it is computation, plus, for a value with the right
// password, one locked read and write of the record of used ids. The package knows
// nothing of sessions, files, prompts or terminals; nothing here is global: clocks
// and the environment are passed in.
package bypass
