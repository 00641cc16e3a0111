package fs

import (
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/internal/atomicfile"
	"github.com/xferterm/xferterm/internal/inflate"
	"github.com/xferterm/xferterm/scanner"
)

// fileState is where one entry of a send session stands.
type fileState uint8

const (
	fileQueued  fileState = iota + 1 // waiting for its turn to be decided
	fileAsking                       // a person is asked about it
	fileWaiting                      // STARTED: waiting for its first packet
	fileSigning                      // rsync: our signature is still being sent
	fileWriting                      // packets are arriving
	fileLinking                      // a symbolic link whose data has arrived: its target waits to be decided
	fileDone                         // complete, OK sent
	fileDir                          // a directory, created, OK sent
	fileFailed                       // an error was sent; further packets are ignored
)

var fileStateNames = [...]string{"", "queued", "asking", "waiting", "signing", "writing", "linking", "done", "directory", "failed"}

func (s fileState) String() string {
	if int(s) < len(fileStateNames) {
		return fileStateNames[s]
	}
	return "invalid"
}

// maxLinkData caps the data of a symbolic or hard link entry (a target path).
const maxLinkData = 64 << 10

// upFile is one entry of a send session (one `ac=file`). Its bytes flow
//
//	packet → [inflater] → [patcher (deltaFormat)] → limitedWriter → temporary file
//
// or, for links, into a small buffer that becomes the link at end_data.
type upFile struct {
	fid  string
	path string // absolute and cleaned; reported in `n`
	cost int64  // what it holds of the budget as an entry (costEntry, fid, path)

	bufCost int64 // what its buffers hold of the budget while it is written
	ft      scanner.FileType
	zip     bool
	rsync   bool // asked for rsync; see sig/old for whether it is used
	prm     scanner.OptInt
	mtime   scanner.OptInt
	want    scanner.OptInt // regular files: the size the file command announced (sz)
	state   fileState
	exist   existing // what was at path at `file` time

	// A directory entry: the directory it made or found (at finish, metadata goes only
	// to that very directory), and whether the remote's permissions may be given to it
	// (transfer.Decision.SetMode).
	dirKey  fileKey
	setMode bool

	linkText string    // a symbolic link: the text it will hold, once its data has arrived
	asked    fileState // while fileAsking: the state it was asked from (queued or linking)

	// Held while open (counted in upload.open).
	opened bool
	w      io.Writer // where packet bytes go
	z      *inflate.Writer
	lw     *limitedWriter
	tmp    *tempFile
	link   *linkBuffer
	patch  io.WriteCloser // rsync: the patcher of the session's delta format
	old    *os.File       // rsync: the existing file, for the signature and the patch
	oldLen int64          // its size when opened
	sig    io.Reader      // rsync: signature still to send

	final    int64 // bytes of the completed entry
	reported int64 // size in the last PROGRESS
}

// size is the bytes written so far (or of the completed entry).
func (f *upFile) size() int64 {
	switch {
	case f.lw != nil:
		return f.lw.written
	case f.link != nil:
		return int64(len(f.link.b))
	}
	return f.final
}

// start opens f for its first packet: a temporary file beside the destination (its
// missing parents made on the way, never through a link), or a link buffer.
func (f *upFile) start(u *upload) error {
	// Its buffers are charged to the budget: a remote with many files open at once in
	// many sessions finds the budget full before the memory is.
	cost := int64(costOpen)
	if f.zip {
		cost += costInflate
	}
	if f.old != nil {
		cost += costPatch
	}
	if !u.acct.take(cost) {
		return errTooManyOpen
	}
	f.bufCost = cost
	if !f.opened {
		f.opened = true
		u.open++
	}
	f.state = fileWriting
	lim := u.e.cfg.Limits
	if f.ft == scanner.FileSymlink || f.ft == scanner.FileLink {
		f.link = &linkBuffer{}
		f.w = f.link
	} else {
		dir, base, err := u.walk.openParent(f.path, true)
		if err != nil {
			return err
		}
		tmp, err := createTemp(target{dir: dir, base: base, path: f.path}, &u.e.uploadHooks)
		if err != nil {
			closeFD(dir)
			return err
		}
		f.tmp = tmp
		f.lw = &limitedWriter{
			w:       tmp,
			fd:      tmp.Fd(),
			max:     lim.MaxFileSize,
			reserve: lim.DiskReserve,
			hooks:   &u.e.uploadHooks,
			path:    f.path,
		}
		f.w = f.lw
		if f.old != nil {
			f.patch = u.deltas().patcher(f.old, f.oldLen, f.lw)
			f.w = f.patch
		}
	}
	if f.zip {
		f.z = inflate.New(f.w)
		f.w = f.z
	}
	return nil
}

// write passes one packet's bytes down the chain.
func (f *upFile) write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	_, err := f.w.Write(p)
	if err != nil && f.patch != nil {
		return wrapDelta(err)
	}
	return err
}

// finish completes f at end_data: the stream must be whole (zlib trailer, rsync
// checksum), then the temporary file or link gets its metadata and is renamed over the
// destination.
func (f *upFile) finish(u *upload) error {
	if f.z != nil {
		err := f.z.Close()
		f.z = nil
		if err != nil {
			return err
		}
	}
	if f.patch != nil {
		if err := f.patch.Close(); err != nil {
			return wrapDelta(err)
		}
	}
	var err error
	switch f.ft {
	case scanner.FileSymlink, scanner.FileLink:
		err = u.makeLink(f)
	default:
		f.final = f.lw.written
		if f.want.Set && f.want.Value >= 0 && f.final != f.want.Value {
			// The original stays, and release below removes the temporary file.
			err = &sizeError{got: f.final, want: f.want.Value}
			break
		}
		err = f.tmp.commit(permOf(f.prm, defaultFileMode, u.e.umask), f.mtime.Value, f.mtime.Set)
	}
	f.final = f.size()
	f.release(u)
	if err != nil {
		return err
	}
	f.state = fileDone
	return nil
}

// release closes whatever f holds and removes its temporary file. It may be called more
// than once; it does not change f.state.
func (f *upFile) release(u *upload) {
	if f.z != nil {
		_ = f.z.Close() // Best effort: the output is being thrown away.
		f.z = nil
	}
	if f.tmp != nil {
		f.tmp.discard()
		f.tmp = nil
	}
	if f.old != nil {
		_ = f.old.Close() // Best effort: opened read-only.
		f.old = nil
	}
	if f.lw != nil {
		f.final = f.lw.written
	}
	if f.link != nil {
		f.final = int64(len(f.link.b))
	}
	f.lw, f.link, f.patch, f.sig, f.w = nil, nil, nil, nil, nil
	u.acct.give(f.bufCost)
	f.bufCost = 0
	if f.opened {
		f.opened = false
		u.open--
	}
}

// applyDirMetadata gives a directory entry its mode and mtime at finish (§6.6), without
// following a link that may have replaced it. The mode goes only where the approval
// side allowed it (never HOME, a write root or a directory above one; an existing
// directory opened to group or others only when the user said so), and only to the
// directory the entry made or found.
func (f *upFile) applyDirMetadata(u *upload) error {
	dir, base, err := u.walk.openParent(f.path, false)
	if err != nil {
		return err
	}
	defer closeFD(dir)
	if f.prm.Set && f.setMode {
		if err := chmodNoFollow(dir, base, permOf(f.prm, defaultDirMode, u.e.umask), &f.dirKey); err != nil {
			return err
		}
	}
	if f.mtime.Set {
		return atomicfile.SetMtime(dir, base, f.mtime.Value)
	}
	return nil
}

func closeFD(fd int) {
	if fd >= 0 {
		_ = unix.Close(fd) // Best effort: read-only descriptors.
	}
}
