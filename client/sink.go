package client

import (
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/internal/atomicfile"
	"github.com/xferterm/xferterm/internal/inflate"
	"github.com/xferterm/xferterm/rsync"
	"github.com/xferterm/xferterm/scanner"
)

// fileSink receives the data of one regular file: through zlib when asked, through the
// rsync patcher when we sent a signature, into a temporary file beside the destination
// that replaces it only when complete and verified (atomicfile). A partial download
// never replaces a good file.
type fileSink struct {
	tmp     *atomicfile.File
	old     *os.File // rsync: our copy, the patch's basis
	patcher *rsync.Patcher
	inf     *inflate.Writer
	w       io.Writer // where packet data goes

	// written counts the bytes written towards tmp, for the display.
	written  int64
	reported int64
	disp     *display
}

func newFileSink(e *recvEntry, disp *display) (*fileSink, error) {
	dir, err := openDir(filepath.Dir(e.local))
	if err != nil {
		return nil, err
	}
	tmp, err := atomicfile.Create(dir, filepath.Base(e.local))
	if err != nil {
		_ = unix.Close(dir) // Read-only.
		return nil, &os.PathError{Op: "create", Path: e.local, Err: err}
	}
	s := &fileSink{tmp: tmp, disp: disp}
	var out io.Writer = &countingWriter{w: tmp, n: &s.written}
	if e.useRsync {
		old, err := os.Open(e.local)
		if err != nil {
			s.abort()
			return nil, err
		}
		fi, err := old.Stat()
		if err != nil {
			_ = old.Close() // Read-only.
			s.abort()
			return nil, err
		}
		s.old = old
		s.patcher = rsync.NewPatcher(old, fi.Size(), rsync.BlockSize(e.size), out)
		out = s.patcher
	}
	if e.zip {
		s.inf = inflate.New(out)
		out = s.inf
	}
	s.w = out
	return s, nil
}

func (s *fileSink) write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	_, err := s.w.Write(p)
	s.report()
	return err
}

// report passes the bytes written since the last report to the display.
func (s *fileSink) report() {
	s.disp.add(s.written - s.reported)
	s.reported = s.written
}

// commit ends the data, verifies it, gives the file e's permission bits (0600 when none
// were sent) and mtime, and renames it over the destination. On error the temporary
// file is removed.
func (s *fileSink) commit(e *recvEntry) error {
	err := s.end()
	if err == nil {
		mode := uint32(0o600)
		if e.perm.Set {
			mode = uint32(e.perm.Value) & 0o777
		}
		err = s.tmp.Commit(mode, e.mtime.Value, e.mtime.Set)
		if err != nil {
			err = &os.PathError{Op: "write", Path: e.local, Err: err}
		}
	}
	if err != nil {
		s.abort()
		return err
	}
	s.closeOld()
	return nil
}

// end flushes the stages in order: zlib, then the patcher's verification. (Commit
// flushes the file's own buffer.)
func (s *fileSink) end() error {
	if s.inf != nil {
		inf := s.inf
		s.inf = nil
		if err := inf.Close(); err != nil {
			return err
		}
	}
	if s.patcher != nil {
		if err := s.patcher.Close(); err != nil {
			return err
		}
	}
	s.report()
	return nil
}

// abort removes the temporary file. It may be called more than once.
func (s *fileSink) abort() {
	if s.inf != nil {
		_ = s.inf.Close() // The output is being thrown away.
		s.inf = nil
	}
	if s.tmp != nil {
		s.tmp.Discard()
		s.tmp = nil
	}
	s.closeOld()
}

func (s *fileSink) closeOld() {
	if s.old != nil {
		_ = s.old.Close() // Read-only.
		s.old = nil
	}
}

// countingWriter counts the bytes written to w.
type countingWriter struct {
	w io.Writer
	n *int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	*c.n += int64(n)
	return n, err
}

// applyMeta sets the permission bits and mtime of the directory p when given.
func applyMeta(p string, perm, mtime scanner.OptInt) error {
	if perm.Set {
		if err := os.Chmod(p, os.FileMode(perm.Value)&os.ModePerm); err != nil {
			return err
		}
	}
	if mtime.Set {
		t := time.Unix(0, mtime.Value)
		if err := os.Chtimes(p, t, t); err != nil {
			return err
		}
	}
	return nil
}

// openDir opens the directory p for atomicfile.
func openDir(p string) (int, error) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: p, Err: err}
	}
	return fd, nil
}

// replaceWithSymlink creates a symlink to target and renames it over p.
func replaceWithSymlink(target, p string, mtime scanner.OptInt) error {
	return replaceEntry(p, "symlink", func(dir int, name string) error { return unix.Symlinkat(target, dir, name) },
		func(dir int, name string) error {
			if !mtime.Set {
				return nil
			}
			return atomicfile.SetMtime(dir, name, mtime.Value)
		})
}

// replaceWithLink makes p a hard link to target, replacing what is there.
func replaceWithLink(target, p string) error {
	return replaceEntry(p, "link", func(dir int, name string) error {
		return unix.Linkat(unix.AT_FDCWD, target, dir, name, 0)
	}, nil)
}

// replaceEntry puts the entry create makes (and prepare, if not nil, finishes) at p,
// through atomicfile.Replace in p's directory.
func replaceEntry(p, op string, create, prepare func(dir int, name string) error) error {
	dir, err := openDir(filepath.Dir(p))
	if err != nil {
		return err
	}
	defer func() { _ = unix.Close(dir) }() // Read-only.
	var prep func(string) error
	if prepare != nil {
		prep = func(name string) error { return prepare(dir, name) }
	}
	err = atomicfile.Replace(dir, filepath.Base(p), func(name string) error { return create(dir, name) }, prep)
	if err != nil {
		return &os.PathError{Op: op, Path: p, Err: err}
	}
	return nil
}
