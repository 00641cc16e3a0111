// Package rsync implements the delta-transfer format of kitty's OSC 5113
// file-transfer protocol (tt=rsync): signatures, deltas and patching, as
// specified in protocol/rsync.md. It is kitty's own format, not librsync's.
//
// # Glossary
//
//   - old file: the file the receiving side already has; it may be stale.
//   - new file: the authoritative content on the sending side.
//   - signature: a 12-byte header (version and hash types, all zero, and the
//     block size) followed by one 20-byte entry per block of the old file
//     (block index, weak rolling checksum, strong XXH3-64). The receiver makes
//     it and sends it to the sender (rsync.md §4).
//   - delta: a sequence of operations (Block, Data, Hash, BlockRange) that
//     rebuilds the new file from the old one. The sender makes it from the new
//     file and the signature. It always ends with a Hash operation carrying the
//     XXH3-128 of the whole new file (rsync.md §5, §6).
//   - patch: the receiver applies the delta to the old file, writes the new
//     file and verifies the trailing checksum (rsync.md §7).
//
// # API
//
// [NewSignatureReader] streams the signature of an old file. A
// [SignatureDecoder] parses a signature received in pieces into a
// [Signature]. [NewDiffer] pulls the new file and yields the delta as an
// [io.Reader], reproducing kitty's algorithm byte for byte. [NewPatcher]
// is an [io.WriteCloser] that takes delta bytes split anywhere and writes the
// new file; Close reports truncation and a missing checksum.
//
// Memory is bounded whatever the input: the signature table is capped by
// [MaxSignatureEntries], block sizes by [MaxBlockSize], the differ keeps one
// buffer of 8 blocks, and the patcher never buffers a whole operation.
//
// The package speaks bytes, io.Reader and io.Writer only: it knows nothing of
// sessions, escape codes, compression or files on disk. A Signature is
// read-only once built and may be shared; every other value (readers,
// decoders, Differs, Patchers) belongs to one goroutine at a time.
package rsync
