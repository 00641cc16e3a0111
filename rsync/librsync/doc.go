// Package librsync implements librsync's signature and delta formats, which the 0.26
// generation of kitty's transfer client (the Python `kitty +kitten transfer` that Debian 12
// ships, linked with librsync 2.3) uses for `tt=rsync`. The current client uses kitty's own
// format instead: that is package rsync.
//
// Everything here is written from librsync's documented file formats (doc/format.md and the
// command table of prototab.c): all integers are big-endian.
//
// # Glossary
//
//   - basis (old file): the file the receiving side already has.
//   - new file: the authoritative content on the sending side.
//   - signature: a 12-byte header (magic, block length, strong-sum length) and, for each
//     block of the basis, its weak rolling checksum (4 bytes) and its strong sum truncated
//     to the strong-sum length. The magic names both hashes: RK-BLAKE2 (0x72730147,
//     Rabin-Karp and BLAKE2b, what librsync 2.3 and so the 0.26 client produce) or BLAKE2
//     (0x72730137, the rollsum and BLAKE2b, librsync 1.0 to 2.1). The MD4 magics are
//     refused: the client never produces them and MD4 is broken.
//   - delta: the magic 0x72730236 and a list of commands: LITERAL (bytes to append),
//     COPY (a range of the basis, at any offset) and END. A delta carries no checksum of
//     the result: a patch can prove only that the delta was complete.
//   - patch: applying a delta to the basis to produce the new file.
//
// # API
//
// [NewSignatureReader] streams the signature of a basis. A [SignatureDecoder] parses a
// signature received in pieces into a [Signature]. [NewDiffer] pulls the new file and
// yields its delta as an [io.Reader]. [NewPatcher] is an [io.WriteCloser] that takes
// delta bytes split anywhere and writes the new file; Close reports a delta without END.
//
// Memory is bounded whatever the input: signatures are capped by [MaxSignatureEntries]
// and block lengths by [MaxBlockLen], the Differ keeps one buffer of a few blocks, and the
// Patcher streams literal data instead of buffering a command.
//
// The package speaks bytes, io.Reader and io.Writer only: it knows nothing of sessions,
// escape codes, compression or files on disk. A Signature is read-only once built and may
// be shared; every other value belongs to one goroutine at a time.
package librsync
