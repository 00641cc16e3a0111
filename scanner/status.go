package scanner

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
)

// Texts after "<ERRNO>:" for errors that carry the real errno name (§12).
const (
	TextReadSpec        = "Failed to read spec"
	TextAddSendFile     = "Failed to add send file"
	TextReadData        = "Failed to read data from file"
	TextCreateDirectory = "Failed to create directory"
	TextReadSignature   = "Failed to read signature"
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
