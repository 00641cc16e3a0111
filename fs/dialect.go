package fs

import (
	"io"

	"github.com/xferterm/xferterm/rsync"
	"github.com/xferterm/xferterm/rsync/librsync"
	"github.com/xferterm/xferterm/scanner"
)

// generation is what a session knows of the generation of kitty's client it serves
// (scanner.Dialect): how its replies are encoded, and which delta format `tt=rsync` means.
// A session starts with what the scanner.Sniffer saw before its first command, and turns
// Dialect026 for good at the first padded base64 value the client sends, which only the
// 0.26 client does. It only ever moves that way: a mistake costs the client its padded
// replies, and the current client can cause neither.
type generation struct {
	dialect scanner.Dialect
}

// hear takes the dialect of one more command of the session.
func (g *generation) hear(d scanner.Dialect) {
	if d == scanner.Dialect026 {
		g.dialect = d
	}
}

// encode sets how c's base64 values are written for this client (terminal-side.md §1.2).
func (g *generation) encode(c *scanner.Command) *scanner.Command {
	c.Padded = g.dialect == scanner.Dialect026
	return c
}

// deltas returns the delta format of this client.
func (g *generation) deltas() deltaFormat {
	if g.dialect == scanner.Dialect026 {
		return librsyncFormat{}
	}
	return kittyFormat{}
}

// wholeBlocks limits old, of size bytes, to its whole blocks of bs bytes: a short last
// block is left out of the signature, since a hash of a few bytes gives them away. The
// client sends those bytes as literal data.
func wholeBlocks(old io.Reader, size int64, bs int) io.Reader {
	return io.LimitReader(old, size/int64(bs)*int64(bs))
}

// deltaFormat is one of the two delta formats `tt=rsync` may mean: the terminal signs an
// old file and patches it (uploads, rsync.md §8.1), and diffs a file against the client's
// signature (downloads, §8.2).
type deltaFormat interface {
	// signature streams the signature of old, which holds size bytes: its whole
	// blocks only, of at least minSignedBlock bytes (see signable).
	signature(old io.Reader, size int64) io.Reader
	// patcher applies a delta to old, of size bytes, and writes the new file to out;
	// Close reports a delta that is not whole.
	patcher(old io.ReaderAt, size int64, out io.Writer) io.WriteCloser
	// decoder collects a signature sent in pieces.
	decoder() signatureDecoder
}

// signatureDecoder collects a client's signature; finish returns the differ it makes.
type signatureDecoder interface {
	io.Writer
	finish() (differ, error)
}

// differ makes the delta of a new file against a signature.
type differ func(newFile io.Reader) io.Reader

// kittyFormat is kitty's own format (package rsync), the current client's. The block size
// of a signature follows from the old file's size, so the patcher finds it again.
type kittyFormat struct{}

func (kittyFormat) signature(old io.Reader, size int64) io.Reader {
	bs := kittyBlockSize(size)
	return rsync.NewSignatureReader(wholeBlocks(old, size, bs), bs)
}

func (kittyFormat) patcher(old io.ReaderAt, size int64, out io.Writer) io.WriteCloser {
	return rsync.NewPatcher(old, size, kittyBlockSize(size), out)
}

// kittyBlockSize is the block size of our signature of an old file of size bytes: the
// client's rule (rsync.md §2.1), never below minSignedBlock.
func kittyBlockSize(size int64) int { return max(rsync.BlockSize(size), minSignedBlock) }

func (kittyFormat) decoder() signatureDecoder {
	return decoderOf[*rsync.Signature, *rsync.SignatureDecoder]{
		dec:  new(rsync.SignatureDecoder),
		diff: func(sig *rsync.Signature, r io.Reader) io.Reader { return rsync.NewDiffer(sig, r) },
	}
}

// librsyncFormat is librsync's, the 0.26 client's: signatures with the parameters that
// client's librsync picks, deltas without a checksum.
type librsyncFormat struct{}

func (librsyncFormat) signature(old io.Reader, size int64) io.Reader {
	p := librsync.DefaultParams(size)
	p.BlockLen = max(p.BlockLen, minSignedBlock)
	return librsync.NewSignatureReader(wholeBlocks(old, size, p.BlockLen), p)
}

func (librsyncFormat) patcher(old io.ReaderAt, size int64, out io.Writer) io.WriteCloser {
	return librsync.NewPatcher(old, size, out)
}

func (librsyncFormat) decoder() signatureDecoder {
	return decoderOf[*librsync.Signature, *librsync.SignatureDecoder]{
		dec:  new(librsync.SignatureDecoder),
		diff: func(sig *librsync.Signature, r io.Reader) io.Reader { return librsync.NewDiffer(sig, r) },
	}
}

// decoderOf is a signatureDecoder of either format: its decoder, and how it diffs
// against the signature that decoder makes.
type decoderOf[S any, D interface {
	io.Writer
	Finish() (S, error)
}] struct {
	dec  D
	diff func(S, io.Reader) io.Reader
}

func (d decoderOf[S, D]) Write(b []byte) (int, error) { return d.dec.Write(b) }

func (d decoderOf[S, D]) finish() (differ, error) {
	sig, err := d.dec.Finish()
	if err != nil {
		return nil, err
	}
	return func(r io.Reader) io.Reader { return d.diff(sig, r) }, nil
}
