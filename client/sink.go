package client

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/internal/inflate"
	"github.com/xferterm/xferterm/rsync"
	"github.com/xferterm/xferterm/scanner"
)

// fileSink receives the data of one regular file: through zlib when asked, through the
// rsync patcher when we sent a signature, into a temporary file beside the destination
// that replaces it only when complete and verified. A partial download never replaces a
// good file.
type fileSink struct {
	tmp     *os.File
	old     *os.File // rsync: our copy, the patch's basis
	patcher *rsync.Patcher
	inf     *inflate.Writer
	bw      *bufio.Writer // over tmp: a write syscall per 4 KiB packet would cost more than the copy
	w       io.Writer     // where packet data goes

	// written counts the bytes written towards tmp, for the display.
	written  int64
	reported int64
	disp     *display
}

func newFileSink(e *recvEntry, disp *display) (*fileSink, error) {
	tmp, err := os.CreateTemp(filepath.Dir(e.local), "."+filepath.Base(e.local)+".xferterm-*")
	if err != nil {
		return nil, err
	}
	s := &fileSink{tmp: tmp, disp: disp, bw: bufio.NewWriterSize(tmp, sinkBuf)}
	var out io.Writer = &countingWriter{w: s.bw, n: &s.written}
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

// commit ends the data, verifies it, applies e's metadata and renames the temporary
// file over the destination. On error the temporary file is removed.
func (s *fileSink) commit(e *recvEntry) error {
	err := s.end()
	if err == nil {
		err = applyMeta(s.tmp.Name(), e.perm, e.mtime, false)
	}
	if err == nil {
		err = s.tmp.Close()
	}
	if err == nil {
		err = os.Rename(s.tmp.Name(), e.local)
	}
	if err != nil {
		s.abort()
		return err
	}
	s.closeOld()
	return nil
}

// sinkBuf is the size of the buffer in front of the temporary file.
const sinkBuf = 64 << 10

// end flushes the stages in order: zlib, then the patcher's verification, then the
// buffer in front of the temporary file.
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
	if err := s.bw.Flush(); err != nil {
		return err
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
		_ = s.tmp.Close()           // Being thrown away.
		_ = os.Remove(s.tmp.Name()) // Best effort.
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

// applyMeta sets the permission bits and mtime of p when given. With symlink, p is a
// symlink: only its own times are set (there are no link permissions on Linux).
func applyMeta(p string, perm, mtime scanner.OptInt, symlink bool) error {
	if perm.Set && !symlink {
		if err := os.Chmod(p, os.FileMode(perm.Value)&os.ModePerm); err != nil {
			return err
		}
	}
	if mtime.Set {
		ts := []unix.Timespec{unix.NsecToTimespec(time.Now().UnixNano()), unix.NsecToTimespec(mtime.Value)}
		flags := 0
		if symlink {
			flags = unix.AT_SYMLINK_NOFOLLOW
		}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, flags); err != nil {
			return &os.PathError{Op: "utimes", Path: p, Err: err}
		}
	}
	return nil
}

// tempName returns a fresh hidden name beside p.
func tempName(p string) string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on Linux.
	return filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".xferterm-"+hex.EncodeToString(b[:]))
}

// replaceWithSymlink creates a symlink to target and renames it over p.
func replaceWithSymlink(target, p string, mtime scanner.OptInt) error {
	tmp := tempName(p)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	err := applyMeta(tmp, scanner.OptInt{}, mtime, true)
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		_ = os.Remove(tmp) // Best effort.
	}
	return err
}

// replaceWithLink makes p a hard link to target, replacing what is there.
func replaceWithLink(target, p string) error {
	tmp := tempName(p)
	if err := os.Link(target, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		_ = os.Remove(tmp) // Best effort.
		return err
	}
	return nil
}
