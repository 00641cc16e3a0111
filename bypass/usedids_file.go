package bypass

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/xferterm/xferterm/internal/lockfile"
)

// UsedIDsFileName is the name of the FileIDs file, in the directory of the key pair
// (KeyFileName): every process that uses the key uses the same record.
const UsedIDsFileName = "bypass-used-ids"

// usedIDsLockWait is how long Use waits for another process to finish with the file.
// Each holds it for one read and one write of at most a few hundred KiB.
const usedIDsLockWait = time.Second

// FileIDs is a UsedIDs shared by every process on this computer that opens the same
// directory: a file, locked with flock(2) while it is read and written again. It is
// safe for concurrent use.
//
// The file is opened anew for every Use, never through a symbolic link, never a FIFO or
// anything but a regular file, and made private (0600) if it was not. What it holds is
// checked record by record: a record cut short or not written by xferterm is dropped,
// and so is one that has expired; at most maxUsedIDsFile bytes of it are read. A file
// that does not start with the header is not overwritten: Use then fails, so no bypass
// is accepted until it is removed (an id that cannot be recorded could be replayed).
// The same holds when the file cannot be written (a full disk).
//
// The file is not flushed to the disk (fsync): a crash of the whole computer within 10
// minutes of an accepted bypass may forget its id.
type FileIDs struct {
	path string // read-only
}

// NewFileIDs returns the record in dir/UsedIDsFileName. It does not touch the disk:
// call Check to find out early whether the file can be used.
func NewFileIDs(dir string) (*FileIDs, error) {
	if dir == "" || !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("bypass: directory %q of the used ids is not an absolute path", dir)
	}
	return &FileIDs{path: filepath.Join(dir, UsedIDsFileName)}, nil
}

// Path returns the path of the file.
func (s *FileIDs) Path() string { return s.path }

// Use implements UsedIDs.
func (s *FileIDs) Use(id string, until, now time.Time) error {
	h := hashID(id)
	return s.update(now, func(ids []usedID) ([]usedID, error) { return useID(ids, h, until, MaxUsedIDs) })
}

// Check does what Use does without recording an id: it creates the file if needed,
// locks and reads it, and drops what has expired. Its error wraps ErrStore.
func (s *FileIDs) Check(now time.Time) error { return s.update(now, nil) }

// update runs change (if not nil) on the live ids of the file, with the file locked,
// and writes the result back.
func (s *FileIDs) update(now time.Time, change func([]usedID) ([]usedID, error)) error {
	for attempt := 1; ; attempt++ {
		f, err := lockfile.Open(s.path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return storeError(s.path, err)
		}
		if err := lockfile.Lock(f, usedIDsLockWait); err != nil {
			_ = f.Close() // The lock error is the one to report.
			return storeError(s.path, err)
		}
		if !lockfile.Same(f, s.path) {
			// Removed or replaced between the open and the lock (xferterm writes the
			// file in place, so by someone else): the lock may not be the others'.
			_ = f.Close() // Nothing was written.
			if attempt < 3 {
				continue
			}
			return storeError(s.path, errors.New("the file keeps being replaced"))
		}
		err = s.updateLocked(f, now, change)
		if cerr := f.Close(); cerr != nil && err == nil { // Also releases the lock.
			err = storeError(s.path, cerr)
		}
		return err
	}
}

// updateLocked is update once f is open and locked.
func (s *FileIDs) updateLocked(f *os.File, now time.Time, change func([]usedID) ([]usedID, error)) error {
	data, err := io.ReadAll(io.LimitReader(f, int64(maxUsedIDsFile)))
	if err != nil {
		return storeError(s.path, err)
	}
	ids, err := parseUsedIDs(data, now)
	if err != nil {
		return storeError(s.path, err)
	}
	var useErr error
	if change != nil {
		ids, useErr = change(ids)
	}
	out := appendUsedIDs(make([]byte, 0, len(usedIDsHeader)+(len(ids))*recordSize), ids)
	if bytes.Equal(out, data) {
		return useErr
	}
	// In place, so that the file, and the lock on it, stay the same. A crash in
	// between leaves records of the old content after the new ones: valid ones, or
	// one cut short, which the next read drops.
	if _, err := f.WriteAt(out, 0); err != nil {
		return storeError(s.path, err)
	}
	if err := f.Truncate(int64(len(out))); err != nil {
		return storeError(s.path, err)
	}
	return useErr
}
