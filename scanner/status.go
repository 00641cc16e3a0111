package scanner

import (
	"strconv"

	"github.com/xferterm/xferterm/internal/safestring"
)

// Status texts the terminal side sends, exactly as terminal-side.md §12 lists them.
// Errors have the shape "CODE:human text"; the texts that carry a parameter are built by
// the functions below so that every text the client can see is defined in this file.
const (
	StatusOK       = "OK"
	StatusStarted  = "STARTED"
	StatusProgress = "PROGRESS"
	StatusCanceled = "CANCELED"

	StatusRefused           = "EPERM:User refused the transfer"
	StatusNoFiles           = "ENOENT:No files found"
	StatusNoReadPermission  = "EPERM:No permission to read spec"
	StatusBadFileType       = "EINVAL:Not a valid filetype"
	StatusTooManySpecs      = "EINVAL:Too many file specs"
	StatusTooManyQueued     = "EINVAL:Too many queued files"
	StatusSendDirectory     = "EINVAL:Cannot send a directory"
	StatusNotStarted        = "EINVAL:Cannot write to a file without first starting it"
	StatusWriteToDirectory  = "EISDIR:Cannot write data to a directory entry"
	StatusClosedFile        = "EINVAL:Cannot write to a closed file"
	StatusUnknownLinkTarget = "EINVAL:Unknown link target type"

	// Texts of xferterm's own (not kitty's): what it refuses where kitty would not.
	StatusDestinationRefused = "EPERM:Destination refused by user"
	StatusSymlinkInPath      = "ELOOP:Refusing to write through a symbolic link"
	StatusNotListed          = "EPERM:File was not part of the approved listing"

	// Send direction (fs upload), xferterm's own failures of one file.
	StatusDestinationIsDirectory = "EISDIR:Destination is a directory"
	StatusPacketTooLarge         = "EINVAL:Data packet too large"
	StatusFileTooLarge           = "EFBIG:File exceeds the size limit"
	StatusDiskReserve            = "ENOSPC:Not enough free disk space"
	StatusZlibCorrupt            = "EINVAL:Corrupt zlib stream"
	StatusZlibTruncated          = "EINVAL:Truncated zlib stream"
	StatusZlibTrailing           = "EINVAL:Data after the end of the zlib stream"
	StatusLinkDataTooLong        = "EINVAL:Link data too long"
	StatusTooManyFiles           = "EINVAL:Too many files in the session"
	StatusTooManyOpen            = "EMFILE:Too many files open at once"
	StatusDeltaCorrupt           = "EINVAL:Delta could not be applied"
	StatusDataBeforeSignature    = "EINVAL:Data received before the signature was sent"
	StatusLinkTargetNotWritten   = "EPERM:Hard link target was not written by this transfer"

	// Receive direction (fs download), xferterm's own failures.
	StatusLateSpec          = "EINVAL:File spec arrived after approval was asked"
	StatusTooManyEntries    = "EINVAL:Too many files to list"
	StatusFileChanged       = "EIO:File changed while it was being sent"
	StatusSpecChanged       = "EIO:File changed since the transfer was approved"
	StatusBadSignature      = "EINVAL:Invalid rsync signature"
	StatusSignatureTooLarge = "EINVAL:Too much rsync signature data queued"
)

// Texts after "<ERRNO>:" for errors that carry the real errno name (§12).
const (
	TextReadSpec        = "Failed to read spec"
	TextAddSendFile     = "Failed to add send file"
	TextReadData        = "Failed to read data from file"
	TextCreateDirectory = "Failed to create directory"
	TextReadSignature   = "Failed to read signature"
	TextWriteFile       = "Failed to write file"  // xferterm: an upload write failed
	TextCreateLink      = "Failed to create link" // xferterm: an upload link failed
)

// StatusErrno returns "<code>:<text>", where code is a symbolic errno name such as
// ENOENT, or EFAIL when none applies.
func StatusErrno(code, text string) string {
	if code == "" {
		code = "EFAIL"
	}
	return code + ":" + text
}

// StatusInvalid returns "EINVAL:<text>", the shape kitty uses for any other failure of an
// upload entry (§6.3).
func StatusInvalid(text string) string { return "EINVAL:" + text }

// StatusSizeMismatch returns "EIO:Received <got> bytes, the client announced <want>:
// data was lost on the way", for a send-session file whose data does not add up to the
// size its file command announced (xferterm's client sends it; kitty's ignores it).
func StatusSizeMismatch(got, want int64) string {
	return "EIO:Received " + strconv.FormatInt(got, 10) + " bytes, the client announced " +
		strconv.FormatInt(want, 10) + ": data was lost on the way"
}

// StatusDuplicateFileID returns "EINVAL:The file_id <fid> already exists".
func StatusDuplicateFileID(fid string) string {
	return "EINVAL:The file_id " + fid + " already exists"
}

// StatusSignatureUnknownFile returns "EINVAL:Signature data for unknown file_id: <fid>".
func StatusSignatureUnknownFile(fid string) string {
	return "EINVAL:Signature data for unknown file_id: " + fid
}

// StatusSignatureNotRsync returns
// "EINVAL:Signature data for file that is not using rsync: <fid>".
func StatusSignatureNotRsync(fid string) string {
	return "EINVAL:Signature data for file that is not using rsync: " + fid
}

// StatusUnknownLinkFileID returns "EINVAL:Unknown link target file_id: <fid>", for link
// data naming a file id the session does not have (kitty says "EINVAL:'<fid>'"). The fid
// comes from the link data as the client sent it, so only its safe-string characters are
// shown, at most maxFileIDShown of them: a status is UTF-8 text (§1.2).
func StatusUnknownLinkFileID(fid string) string {
	shown := safestring.Filter([]byte(fid))
	if len(shown) > maxFileIDShown {
		shown = shown[:maxFileIDShown] + "..."
	}
	return "EINVAL:Unknown link target file_id: " + shown
}

// maxFileIDShown is the most characters of a file id that a status repeats.
const maxFileIDShown = 64
