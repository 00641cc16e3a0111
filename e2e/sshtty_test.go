package e2e

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"
)

// sshTTYWait bounds one run of sshTTYCeiling, connection included; a healthy run of 256 MiB takes
// seconds.
const sshTTYWait = 5 * time.Minute

// The remote command of sshTTYCeiling prints these: the ready marker once its pty is raw, the done
// marker once head has read every byte. Their hyphens are not in the base64 alphabet, so the data
// cannot imitate them.
const (
	sshReadyMark = "XFERTERM-TTY-READY"
	sshDoneMark  = "XFERTERM-TTY-DONE"
)

// markSearchLimit is how many bytes readMark keeps while looking for a marker before giving up:
// only ssh's and the remote shell's few words come before a marker.
const markSearchLimit = 1 << 20

// wireExpansion is how many tty bytes a transfer puts on the wire per byte of file data it moves:
// base64 turns 3 bytes into 4. The packets' framing (an OSC of about 40 bytes per 4096 bytes of
// data) and the rounding of unpadded base64 (5462 characters per 4096 bytes) add under 1.5% and
// are not counted; nor is compression, which makes the bytes on the wire fewer.
const wireExpansion = 4.0 / 3

// writeWireFile writes to dst the first size bytes of the unpadded standard base64 of src, without
// line breaks: the kind of tty bytes a transfer of src puts on the wire, without the escape
// sequences around them. Nothing in it is special to a tty in raw mode or to ssh (no '~').
func writeWireFile(tb testing.TB, dst, src string, size int64) {
	tb.Helper()
	in, err := os.Open(src)
	if err != nil {
		tb.Fatalf("e2e: wire file: %v", err)
	}
	defer func() { _ = in.Close() }() // Read only.
	out, err := os.Create(dst)
	if err != nil {
		tb.Fatalf("e2e: wire file: %v", err)
	}
	defer func() { _ = out.Close() }() // Closed below on success; this is for the failures.
	w := bufio.NewWriterSize(out, 1<<20)
	enc := base64.NewEncoder(base64.RawStdEncoding, w)
	need := (size + 3) / 4 * 3 // the source bytes whose encoding covers size bytes
	n, err := io.Copy(enc, io.LimitReader(in, need))
	if err != nil {
		tb.Fatalf("e2e: wire file %s from %s: %v", dst, src, err)
	}
	if n != need {
		tb.Fatalf("e2e: wire file %s: %s has %d bytes, %d are needed", dst, src, n, need)
	}
	if err := enc.Close(); err != nil {
		tb.Fatalf("e2e: wire file %s: %v", dst, err)
	}
	if err := w.Flush(); err != nil {
		tb.Fatalf("e2e: wire file %s: %v", dst, err)
	}
	if err := out.Truncate(size); err != nil {
		tb.Fatalf("e2e: wire file %s: %v", dst, err)
	}
	if err := out.Close(); err != nil {
		tb.Fatalf("e2e: wire file %s: %v", dst, err)
	}
}

// sshTTYCeiling measures how long size bytes of path take as a raw tty byte stream through ssh to
// s, with the ssh_config the transfers use (ssh -F s.ClientConf) and a pty requested with -tt,
// both ptys in raw mode: cat prints the file on the remote pty and we read ssh's pty master until
// size bytes have arrived (toRemote false, the direction of a send), or we write the file into
// ssh's pty master and head -c reads it on the remote pty, then prints a marker that we wait for
// (toRemote true, the direction of a receive). The time runs from the remote's report that its
// pty is raw to the last byte read here, or to the marker printed after head: ssh's connection and
// login are not counted, as a transfer runs in a session already open. path must not contain
// "\r~" or "\n~" (ssh's escapes): base64 from writeWireFile does not.
func sshTTYCeiling(tb testing.TB, s *sshServer, path string, size int64, toRemote bool) time.Duration {
	tb.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		tb.Fatalf("e2e: ssh tty baseline: opening a pty: %v", err)
	}
	defer func() { _ = ptmx.Close() }() // Best effort.
	// Raw before ssh starts, so that nothing is cooked before ssh makes it raw itself.
	if _, err := term.MakeRaw(int(tty.Fd())); err != nil {
		tb.Fatalf("e2e: ssh tty baseline: raw mode: %v", err)
	}
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		tb.Fatalf("e2e: ssh tty baseline: window size: %v", err)
	}

	remote := fmt.Sprintf("stty raw -echo && printf %%s %s && exec cat %s", sshReadyMark, shellQuote(path))
	if toRemote {
		remote = fmt.Sprintf("stty raw -echo && printf %%s %s && head -c %d > /dev/null && echo %s",
			sshReadyMark, size, sshDoneMark)
	}
	cmd := exec.Command(suite.tools["ssh"], "-F", s.ClientConf, "-tt", s.HostAlias, remote)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true} // the pty is its terminal
	if err := cmd.Start(); err != nil {
		tb.Fatalf("e2e: ssh tty baseline: starting ssh: %v", err)
	}
	_ = tty.Close() // ssh holds its own copy; ours would keep the master from seeing EIO.
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var waitErr error
	waited := false
	wait := func() error {
		if !waited {
			waitErr, waited = <-exited, true
		}
		return waitErr
	}
	defer func() {
		_ = cmd.Process.Kill() // Best effort: on success it has exited already.
		_ = wait()
	}()
	var timedOut atomic.Bool
	watchdog := time.AfterFunc(sshTTYWait, func() {
		timedOut.Store(true)
		_ = cmd.Process.Kill() // Best effort: the reads below then fail with EIO.
	})
	defer watchdog.Stop()
	// fail reports err with what ssh printed outside the data and how it ended.
	fail := func(what string, err error, said []byte) {
		tb.Helper()
		if timedOut.Load() {
			tb.Fatalf("e2e: ssh tty baseline: not done within %v (%s: %v); ssh printed %q", sshTTYWait, what, err, said)
		}
		_ = cmd.Process.Kill() // Best effort, so that the wait below ends.
		tb.Fatalf("e2e: ssh tty baseline: %s: %v; ssh printed %q and ended with %v", what, err, said, wait())
	}

	rest, said, err := readMark(ptmx, nil, sshReadyMark)
	if err != nil {
		fail("waiting for the remote pty to be raw", err, said)
	}
	start := time.Now()

	if !toRemote {
		n := int64(len(rest))
		first := rest[:min(len(rest), 256)] // for the error messages: an error from cat, say
		buf := make([]byte, 64<<10)
		for n < size {
			m, err := ptmx.Read(buf)
			n += int64(m)
			if len(first) < 256 {
				first = append(first, buf[:min(m, 256-len(first))]...)
			}
			if err != nil {
				fail(fmt.Sprintf("reading ssh's pty after %d of %d bytes", n, size), err, append(said, first...))
			}
		}
		elapsed := time.Since(start)
		extra, err := io.Copy(io.Discard, ptmx)
		if err != nil && !errors.Is(err, syscall.EIO) { // EIO: ssh has closed its side.
			fail("reading ssh's pty to its end", err, said)
		}
		if err := wait(); err != nil {
			fail("ssh", err, said)
		}
		if n+extra != size {
			tb.Fatalf("e2e: ssh tty baseline: read %d bytes after the ready marker, want %d", n+extra, size)
		}
		return elapsed
	}

	if len(rest) > 0 {
		fail("the remote pty echoes", fmt.Errorf("%q after the ready marker", rest), said)
	}
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("e2e: ssh tty baseline: %v", err)
	}
	defer func() { _ = f.Close() }() // Read only.
	copied := make(chan error, 1)
	go func() {
		n, err := io.Copy(ptmx, io.LimitReader(f, size))
		if err == nil && n != size {
			err = fmt.Errorf("%s has %d bytes, want %d", path, n, size)
		}
		if err != nil {
			_ = cmd.Process.Kill() // Best effort: head would wait for the missing bytes.
		}
		copied <- err
	}()
	var copyErr error
	copyDone := false
	copyWait := func() error {
		if !copyDone {
			copyErr, copyDone = <-copied, true
		}
		return copyErr
	}
	defer func() {
		_ = cmd.Process.Kill() // Best effort: ssh's end unblocks the writer; on success both are done.
		_ = copyWait()
	}()
	if _, said, err = readMark(ptmx, said, sshDoneMark); err != nil {
		_ = cmd.Process.Kill() // Best effort: it ends the writer too.
		if werr := copyWait(); werr != nil {
			err = fmt.Errorf("%w (writing ssh's pty: %v)", err, werr)
		}
		fail("waiting for head to read every byte", err, said)
	}
	elapsed := time.Since(start)
	if err := copyWait(); err != nil {
		fail("writing ssh's pty", err, said)
	}
	if _, err := io.Copy(io.Discard, ptmx); err != nil && !errors.Is(err, syscall.EIO) {
		fail("reading ssh's pty to its end", err, said)
	}
	if err := wait(); err != nil {
		fail("ssh", err, said)
	}
	return elapsed
}

// readMark reads f until mark has arrived. It returns the bytes that came after mark in the same
// read, and said with everything up to the end of mark appended (on failure, with everything
// read). It gives up after markSearchLimit bytes without the mark.
func readMark(f io.Reader, said []byte, mark string) ([]byte, []byte, error) {
	from := len(said)
	buf := make([]byte, 64<<10)
	for {
		if i := bytes.Index(said[from:], []byte(mark)); i >= 0 {
			end := from + i + len(mark)
			return bytes.Clone(said[end:]), said[:end], nil
		}
		if len(said)-from > markSearchLimit {
			return nil, said, fmt.Errorf("no %s within %d bytes", mark, markSearchLimit)
		}
		n, err := f.Read(buf)
		said = append(said, buf[:n]...)
		if err != nil && n == 0 {
			return nil, said, fmt.Errorf("before %s: %w", mark, err)
		}
	}
}
