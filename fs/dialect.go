package fs

import (
	"io"
	"strings"

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
	// literal is the delta against an empty signature: the whole file as literal data,
	// which the client patches like any delta. A signature there is no room for is
	// dropped for it.
	literal() (delta, error)
}

// signatureDecoder collects a client's signature; finish returns the delta it makes.
type signatureDecoder interface {
	io.Writer
	finish() (delta, error)
}

// delta makes the delta of a new file against a signature.
type delta struct {
	diff func(newFile io.Reader) io.Reader
	// window is the memory the differ holds while it works, charged to the budget
	// when the file's turn comes (it follows the signature's block size).
	window int64
}

// deltaSlack is the differ's memory besides its window of blocks (buffered reading and
// output).
const deltaSlack = 64 << 10

// emptySignature parses the signature of an empty file that sign makes, into a delta
// of literal data. It fails only if the package of the format is broken.
func emptySignature[S any](sign io.Reader, parse func([]byte) (S, error), d func(S) delta) (delta, error) {
	b, err := io.ReadAll(sign)
	if err != nil {
		return delta{}, err
	}
	sig, err := parse(b)
	if err != nil {
		return delta{}, err
	}
	return d(sig), nil
}

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
	return decoderOf[*rsync.Signature, *rsync.SignatureDecoder]{dec: new(rsync.SignatureDecoder), delta: kittyDelta}
}

func (kittyFormat) literal() (delta, error) {
	return emptySignature(rsync.NewSignatureReader(strings.NewReader(""), minSignedBlock), rsync.ParseSignature, kittyDelta)
}

// kittyDelta is the delta against sig; its differ holds 8 blocks (rsync.Differ).
func kittyDelta(sig *rsync.Signature) delta {
	return delta{
		diff:   func(r io.Reader) io.Reader { return rsync.NewDiffer(sig, r) },
		window: 8*int64(sig.BlockSize()) + deltaSlack,
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
	return decoderOf[*librsync.Signature, *librsync.SignatureDecoder]{dec: new(librsync.SignatureDecoder), delta: librsyncDelta}
}

func (librsyncFormat) literal() (delta, error) {
	return emptySignature(librsync.NewSignatureReader(strings.NewReader(""), librsync.DefaultParams(0)), librsync.ParseSignature, librsyncDelta)
}

// librsyncDelta is the delta against sig; its differ holds 2 blocks, at least 256 KiB
// (librsync.Differ).
func librsyncDelta(sig *librsync.Signature) delta {
	return delta{
		diff:   func(r io.Reader) io.Reader { return librsync.NewDiffer(sig, r) },
		window: max(2*int64(sig.Params().BlockLen), 256<<10) + deltaSlack,
	}
}

// decoderOf is a signatureDecoder of either format: its decoder, and the delta against
// the signature that decoder makes.
type decoderOf[S any, D interface {
	io.Writer
	Finish() (S, error)
}] struct {
	dec   D
	delta func(S) delta
}

func (d decoderOf[S, D]) Write(b []byte) (int, error) { return d.dec.Write(b) }

func (d decoderOf[S, D]) finish() (delta, error) {
	sig, err := d.dec.Finish()
	if err != nil {
		return delta{}, err
	}
	return d.delta(sig), nil
}
