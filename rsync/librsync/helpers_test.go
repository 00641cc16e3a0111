package librsync_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/xferterm/xferterm/rsync/librsync"
)

// readAll drains r, tolerating the Differ's (0, nil) reads.
func readAll(tb testing.TB, r io.Reader) []byte {
	tb.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		tb.Fatalf("read: %v", err)
	}
	return b
}

// patch applies delta to old in one Write and returns the new file.
func patch(tb testing.TB, old, delta []byte) []byte {
	tb.Helper()
	var out bytes.Buffer
	p := librsync.NewPatcher(bytes.NewReader(old), int64(len(old)), &out)
	if _, err := p.Write(delta); err != nil {
		tb.Fatalf("patch: %v", err)
	}
	if err := p.Close(); err != nil {
		tb.Fatalf("patch: close: %v", err)
	}
	return out.Bytes()
}
