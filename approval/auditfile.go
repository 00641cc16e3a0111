package approval

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/xferterm/xferterm/internal/lockfile"
)

// auditRotateWait is how long a rotation waits for another xferterm that rotates the
// same log.
const auditRotateWait = time.Second

// OpenAuditLog opens the log at path for appending, creating its directory (mode
// 0700) and the file (mode 0600) if needed; an existing file that group or others can
// access is made private. It refuses a path that is a symbolic link, a FIFO or
// anything but a regular file.
//
// The file is bounded: a record that would take it past opts.MaxSize is written to a
// new file, after the old one was renamed to path + ".1" (replacing the one before).
// Several xferterm processes may share the log: each appends whole lines, one rotates
// it at a time (with an flock(2) lock), and the others follow to the new file. Before
// each record the log checks that path still names its file, and opens path again if
// not, never through a symbolic link: a log swapped for a link to another file makes
// records fail (and be counted as lost), never reach that file.
func OpenAuditLog(path string, opts AuditOptions) (*AuditLog, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("approval: audit log %q is not an absolute path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("approval: audit log: %w", err)
	}
	out := &fileOut{path: path, max: opts.MaxSize}
	if out.max <= 0 {
		out.max = DefaultAuditMaxSize
	}
	if err := out.open(); err != nil {
		return nil, fmt.Errorf("approval: audit log: %w", err)
	}
	return newAuditLog(out, opts), nil
}

// fileOut is the auditOut of OpenAuditLog. AuditLog.mu guards it.
type fileOut struct {
	path string // read-only
	max  int64  // read-only
	f    *os.File
}

// open opens (or creates) the file at path for appending.
func (o *fileOut) open() error {
	f, err := lockfile.Open(o.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if o.f != nil {
		_ = o.f.Close() // Only appended to: nothing to flush.
	}
	o.f = f
	return nil
}

func (o *fileOut) write(line []byte) (int, error) {
	if o.f == nil || !lockfile.Same(o.f, o.path) {
		// Rotated by another process, removed, or replaced.
		if err := o.open(); err != nil {
			return 0, err
		}
	}
	st, err := o.f.Stat()
	if err != nil {
		return 0, err
	}
	if st.Size() > 0 && st.Size()+int64(len(line)) > o.max {
		if err := o.rotate(); err != nil {
			return 0, err
		}
	}
	return o.f.Write(line)
}

// rotate renames the file to path.1 and starts a new one, unless another process did
// so first.
func (o *fileOut) rotate() error {
	if err := lockfile.Lock(o.f, auditRotateWait); err != nil {
		return err
	}
	if lockfile.Same(o.f, o.path) {
		if err := os.Rename(o.path, o.path+".1"); err != nil {
			_ = lockfile.Unlock(o.f) // The rename error is the one to report.
			return fmt.Errorf("rotate: %w", err)
		}
	}
	// Opening the new file closes the old one, which releases the lock.
	return o.open()
}

func (o *fileOut) close() error {
	if o.f == nil {
		return nil
	}
	err := o.f.Close()
	o.f = nil
	return err
}
