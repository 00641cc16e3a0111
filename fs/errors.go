package fs

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/internal/inflate"
	"github.com/xferterm/xferterm/rsync"
	"github.com/xferterm/xferterm/rsync/librsync"
	"github.com/xferterm/xferterm/scanner"
)

// Failures of one file of a send session. statusOf turns each into the status text the
// client sees; they are never shown otherwise.
var (
	errSymlinkInPath        = errors.New("fs: refusing to write through a symbolic link")
	errIsDirectory          = errors.New("fs: destination is a directory")
	errPacketTooLarge       = errors.New("fs: data packet too large")
	errFileTooLarge         = errors.New("fs: file exceeds the size limit")
	errDiskReserve          = errors.New("fs: not enough free disk space")
	errZlibCorrupt          = inflate.ErrCorrupt
	errZlibTruncated        = inflate.ErrTruncated
	errZlibTrailing         = inflate.ErrTrailing
	errLinkTooLong          = errors.New("fs: link data too long")
	errUnknownLinkType      = errors.New("fs: unknown link target type")
	errTooManyFiles         = errors.New("fs: too many files in the session")
	errTooManyOpen          = errors.New("fs: too many files open at once")
	errDeltaCorrupt         = errors.New("fs: delta could not be applied")
	errDataBeforeSignature  = errors.New("fs: data received before the signature was sent")
	errLinkTargetNotWritten = errors.New("fs: hard link target was not written by this session")
)

// sizeError reports a regular file whose data does not add up to the size its file
// command announced: packets were lost on the way (a multiplexer drops what it passes
// through while it redraws), or the client is broken.
type sizeError struct{ got, want int64 }

func (e *sizeError) Error() string {
	return fmt.Sprintf("fs: received %d bytes, the client announced %d", e.got, e.want)
}

// linkFileIDError reports link data ("fid:X") naming a file id the session lacks.
type linkFileIDError struct{ fid string }

func (e *linkFileIDError) Error() string { return "fs: unknown link target file_id " + e.fid }

// Steps of an upload, recorded by opError so the status names what failed.
const (
	opMkdir     = "mkdir"
	opWrite     = "write"
	opLink      = "link"
	opSignature = "signature"
)

// opError is an OS error met during one step of an upload, with the path involved.
type opError struct {
	Op   string
	Path string
	Err  error
}

func (e *opError) Error() string { return "fs: " + e.Op + " " + e.Path + ": " + e.Err.Error() }
func (e *opError) Unwrap() error { return e.Err }

// statusOf turns the failure of one upload entry into the status text the client sees
// (terminal-side.md §6.3, §12). It is the only place that does so.
func statusOf(err error) string {
	var lf *linkFileIDError
	if errors.As(err, &lf) {
		return scanner.StatusUnknownLinkFileID(lf.fid)
	}
	var se *sizeError
	if errors.As(err, &se) {
		return scanner.StatusSizeMismatch(se.got, se.want)
	}
	for _, s := range [...]struct {
		err    error
		status string
	}{
		{errSymlinkInPath, scanner.StatusSymlinkInPath},
		{errIsDirectory, scanner.StatusDestinationIsDirectory},
		{errPacketTooLarge, scanner.StatusPacketTooLarge},
		{errFileTooLarge, scanner.StatusFileTooLarge},
		{errDiskReserve, scanner.StatusDiskReserve},
		{errZlibCorrupt, scanner.StatusZlibCorrupt},
		{errZlibTruncated, scanner.StatusZlibTruncated},
		{errZlibTrailing, scanner.StatusZlibTrailing},
		{errLinkTooLong, scanner.StatusLinkDataTooLong},
		{errUnknownLinkType, scanner.StatusUnknownLinkTarget},
		{errTooManyFiles, scanner.StatusTooManyFiles},
		{errTooManyOpen, scanner.StatusTooManyOpen},
		{errDeltaCorrupt, scanner.StatusDeltaCorrupt},
		{errDataBeforeSignature, scanner.StatusDataBeforeSignature},
		{errLinkTargetNotWritten, scanner.StatusLinkTargetNotWritten},
	} {
		if errors.Is(err, s.err) {
			return s.status
		}
	}
	var ce *rsync.CorruptError
	var lce *librsync.CorruptError
	if errors.As(err, &ce) || errors.As(err, &lce) || isRsyncError(err) {
		return scanner.StatusDeltaCorrupt
	}
	code := ""
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if errno == unix.ELOOP {
			return scanner.StatusSymlinkInPath
		}
		code = unix.ErrnoName(errno)
	}
	text := scanner.TextWriteFile
	var op *opError
	if errors.As(err, &op) {
		switch op.Op {
		case opMkdir:
			text = scanner.TextCreateDirectory
		case opLink:
			text = scanner.TextCreateLink
		case opSignature:
			text = scanner.TextReadSignature
		}
	}
	return scanner.StatusErrno(code, text)
}

func isRsyncError(err error) bool {
	for _, e := range [...]error{rsync.ErrBlockSize, rsync.ErrTruncated, rsync.ErrMissingChecksum,
		rsync.ErrChecksumMismatch, rsync.ErrClosed, rsync.ErrTooManyEntries,
		librsync.ErrBlockLen, librsync.ErrTruncated, librsync.ErrMissingEnd, librsync.ErrClosed,
		librsync.ErrTooManyEntries} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// wrapDelta marks an error of the rsync patcher as a bad delta, unless it is an error of
// the output (disk, limits, decompression), which keeps its own status.
func wrapDelta(err error) error {
	var op *opError
	if errors.As(err, &op) || statusOf(err) != scanner.StatusErrno("", scanner.TextWriteFile) {
		return err
	}
	return errors.Join(errDeltaCorrupt, err)
}
