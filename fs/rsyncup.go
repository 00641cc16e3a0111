package fs

import (
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// A signature is a read of the old file: it lets whoever holds it confirm a guess of
// any block, and a block of a few bytes is guessed from its hashes alone (a 14-byte
// file signed with 4-byte blocks was rebuilt from its signature). So the engine signs
// only where that costs little and buys something:
const (
	// minSignedSize is the smallest old file that is signed. The real clients ask for
	// a delta only for files above 4096 bytes (reference-client.md), a delta of a
	// smaller file saves next to nothing, and a signature of it hashes few bytes. The
	// client then gets STARTED without tt=rsync and sends the file whole.
	minSignedSize = 4096
	// minSignedBlock is the smallest block a signature hashes. The client's rule
	// (rsync.md §2.1) gives at least 64 bytes from minSignedSize on, and librsync's
	// 256; the floor keeps it so whatever those rules become. A short last block is
	// not signed at all (wholeBlocks).
	minSignedBlock = 64
)

// signable reports whether f's old file may be signed: the client asked for a delta,
// it can say so (q=0, §5), the destination is a regular file of at least
// minSignedSize bytes, and the approval side let the engine read it (ReadOld: never
// for a sensitive destination).
func (u *upload) signable(f *upFile, d transfer.Decision) bool {
	return f.rsync && f.ft == scanner.FileRegular && u.acks && d.ReadOld &&
		f.exist.isRegular() && f.exist.size >= minSignedSize
}

// startSignature prepares the rsync exchange of f (rsync.md §8.1): it opens the existing
// destination (never through a link) and queues its signature, which Pull then produces
// at the pace the child reads. It reports false when rsync cannot be used; the file is
// then sent plainly, which the client accepts.
//
// The old file stays open from now until the file's data has arrived, and the client
// sends every `file` before any data: signatures leave one open slot free, so that the
// plain files listed among them can still be written one at a time. The signature's
// buffers are made only when its turn to be sent comes (produce).
func (u *upload) startSignature(f *upFile) bool {
	if u.open >= maxOpenFiles-1 {
		return false
	}
	dir, base, err := u.walk.openParent(f.path, false)
	if err != nil {
		return false
	}
	defer closeFD(dir)
	fd, err := unix.Openat(dir, base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return false
	}
	old := os.NewFile(uintptr(fd), f.path)
	st, err := old.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() < minSignedSize {
		_ = old.Close() // Best effort: opened read-only.
		return false
	}
	f.old, f.oldLen = old, st.Size()
	f.state = fileSigning
	f.opened = true
	u.open++
	u.signing = append(u.signing, f)
	return true
}

// hasData reports whether a signature is waiting to be produced.
func (u *upload) hasData() bool { return !u.gone && len(u.signing) > 0 }

// produce appends signature packets to dst (Engine.Pull): data packets of at most
// MaxDataPacket raw bytes, then a separate end_data without d. It appends about max
// bytes at most, and nothing while replies are still queued, so a file's signature
// never overtakes its STARTED.
func (u *upload) produce(dst []byte, max int) []byte {
	if u.gone || u.e.outbox.len() > 0 {
		return dst
	}
	if u.sigBuf == nil && len(u.signing) > 0 {
		u.sigBuf = make([]byte, MaxDataPacket)
	}
	start := len(dst)
	for len(u.signing) > 0 && len(dst)-start < max {
		f := u.signing[0]
		if f.state != fileSigning || f.old == nil {
			u.signing = u.signing[1:] // failed or released meanwhile
			continue
		}
		if f.sig == nil {
			f.sig = u.deltas().signature(f.old, f.oldLen)
		}
		n, err := io.ReadFull(f.sig, u.sigBuf)
		if n > 0 {
			c := scanner.Command{Action: scanner.ActionData, ID: u.id, FileID: f.fid, Data: u.sigBuf[:n]}
			dst = u.encode(&c).AppendOSC(dst)
		}
		switch err {
		case nil:
			continue
		case io.EOF, io.ErrUnexpectedEOF:
			c := scanner.Command{Action: scanner.ActionEndData, ID: u.id, FileID: f.fid}
			dst = u.encode(&c).AppendOSC(dst)
			f.sig = nil
			f.state = fileWaiting
		default:
			// The status goes straight after the packets already produced, in order.
			f.release(u)
			status := statusOf(&opError{Op: opSignature, Path: f.path, Err: err})
			if u.markFailed(f) {
				u.failEvent(f.path, f.size(), status)
			}
			if u.errs {
				dst = u.encode(u.status(f.fid, status)).AppendOSC(dst)
			}
		}
		u.signing = u.signing[1:]
	}
	if len(u.signing) == 0 {
		u.sigBuf = nil
	}
	return dst
}
