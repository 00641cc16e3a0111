package rsync_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/xferterm/xferterm/rsync"
	"github.com/zeebo/xxh3"
)

// hashOp returns the Hash op for content.
func hashOp(content string) []byte {
	sum := xxh3.HashString128(content).Bytes()
	return append([]byte{2, 16, 0}, sum[:]...)
}

func blockOp(i uint64) []byte { return binary.LittleEndian.AppendUint64([]byte{0}, i) }

func rangeOp(i uint64, extra uint32) []byte {
	return binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint64([]byte{3}, i), extra)
}

func dataOp(s string) []byte {
	return append(binary.LittleEndian.AppendUint32([]byte{1}, uint32(len(s))), s...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestPatcherRejectsBadDeltas(t *testing.T) {
	const old = "abcdefghijklmnop" // 4 blocks of 4
	var corrupt *rsync.CorruptError
	for _, tc := range []struct {
		name  string
		bs    int
		delta []byte
		is    error  // errors.Is target, or nil for a *CorruptError
		msg   string // substring of the message
	}{
		{"an unknown operation type", 4, []byte{7}, nil, "unknown operation type 7"},
		{"a block index beyond the old file", 4, blockOp(4), nil, "beyond the old file"},
		{"a huge block index", 4, blockOp(1 << 63), nil, "beyond the old file"},
		{"a block range running past the old file", 4, rangeOp(2, 2), nil, "beyond the old file"},
		{"a block range of 2^32 blocks", 4, rangeOp(0, 1<<32-1), nil, "beyond the old file"},
		{"a checksum of the wrong length", 4, []byte{2, 8, 0}, nil, "checksum length 8"},
		{"an operation after the checksum", 4, cat(dataOp("x"), hashOp("x"), dataOp("y")), nil, "after the checksum"},
		{"a wrong checksum", 4, cat(dataOp("x"), hashOp("y")), rsync.ErrChecksumMismatch, "checksum mismatch"},
		{"a missing checksum", 4, cat(blockOp(0)), rsync.ErrMissingChecksum, "checksum missing"},
		{"an empty delta", 4, nil, rsync.ErrMissingChecksum, "checksum missing"},
		{"a truncated op header", 4, cat(dataOp("x"), hashOp("x"))[:4], rsync.ErrTruncated, "truncated"},
		{"a truncated data op", 4, dataOp("hello")[:7], rsync.ErrTruncated, "truncated"},
		{"a truncated checksum", 4, cat(dataOp("x"), hashOp("x"))[:10], rsync.ErrTruncated, "truncated"},
		{"block size 0", 0, hashOp(""), rsync.ErrBlockSize, "invalid block size"},
		{"block size above 1 MiB", rsync.MaxBlockSize + 1, hashOp(""), rsync.ErrBlockSize, "invalid block size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Whole, then byte by byte: same error.
			for _, piece := range []int{0, 1} {
				var out bytes.Buffer
				p := rsync.NewPatcher(strings.NewReader(old), int64(len(old)), tc.bs, &out)
				var err error
				for rest := tc.delta; len(rest) > 0 && err == nil; {
					n := len(rest)
					if piece > 0 {
						n = piece
					}
					_, err = p.Write(rest[:n])
					rest = rest[n:]
				}
				closeErr := p.Close()
				if err == nil {
					err = closeErr
				} else if closeErr != err {
					t.Errorf("Close = %v, want the sticky %v", closeErr, err)
				}
				if err == nil {
					t.Fatal("no error")
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Errorf("error %q is not %q", err, tc.is)
				}
				if tc.is == nil && !errors.As(err, &corrupt) {
					t.Errorf("error %q is not a *CorruptError", err)
				}
				if !strings.HasPrefix(err.Error(), "rsync: ") || !strings.Contains(err.Error(), tc.msg) {
					t.Errorf("error %q lacks the prefix or %q", err, tc.msg)
				}
				if _, again := p.Write(hashOp("")); again != err {
					t.Errorf("Write after an error = %v, want the sticky %v", again, err)
				}
				if again := p.Close(); again != err {
					t.Errorf("second Close = %v, want %v", again, err)
				}
			}
		})
	}
}

func TestPatcherReportsTheOffsetOfACorruptOp(t *testing.T) {
	var out bytes.Buffer
	p := rsync.NewPatcher(strings.NewReader(""), 0, 4, &out)
	_, err := p.Write(cat(dataOp("abc"), []byte{9}))
	var ce *rsync.CorruptError
	if !errors.As(err, &ce) || ce.Offset != 8 || ce.Input != "delta" {
		t.Fatalf("got %#v", err)
	}
	if out.String() != "abc" {
		t.Errorf("output %q", out.String())
	}
}

func TestPatcherAcceptsEmptyAndConsecutiveDataOps(t *testing.T) {
	got, err := patch(nil, 4, cat(dataOp(""), dataOp("ab"), dataOp("c"), hashOp("abc")), nil, 0)
	if err != nil || string(got) != "abc" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestPatcherCopiesAShortLastBlock(t *testing.T) {
	got, err := patch([]byte("abcdef"), 4, cat(rangeOp(0, 1), blockOp(1), hashOp("abcdefef")), nil, 0)
	if err != nil || string(got) != "abcdefef" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestPatcherWriteAfterCloseFails(t *testing.T) {
	p := rsync.NewPatcher(strings.NewReader(""), 0, 4, io.Discard)
	if _, err := p.Write(hashOp("")); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Write(nil); !errors.Is(err, rsync.ErrClosed) {
		t.Errorf("Write after Close = %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestPatcherWrapsOutputAndOldFileErrors(t *testing.T) {
	boom := errors.New("boom")
	p := rsync.NewPatcher(strings.NewReader("abcd"), 4, 4, failWriter{boom})
	if _, err := p.Write(blockOp(0)); !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "rsync: writing new file") {
		t.Errorf("output error = %v", err)
	}
	// The old file is shorter than announced.
	p = rsync.NewPatcher(strings.NewReader("ab"), 4, 4, io.Discard)
	if _, err := p.Write(blockOp(0)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short old file error = %v", err)
	}
}

func TestSignatureDecoderRejectsBadSignatures(t *testing.T) {
	header := func(fields ...uint16) []byte {
		b := make([]byte, 0, 12)
		for _, f := range fields[:4] {
			b = binary.LittleEndian.AppendUint16(b, f)
		}
		return binary.LittleEndian.AppendUint32(b, uint32(fields[4])|uint32(fields[5])<<16)
	}
	good := header(0, 0, 0, 0, 4, 0)
	for _, tc := range []struct {
		name string
		sig  []byte
		is   error
		msg  string
	}{
		{"version 1", header(1, 0, 0, 0, 4, 0), nil, "unsupported version 1"},
		{"checksum type 1", header(0, 1, 0, 0, 4, 0), nil, "unsupported checksum type 1"},
		{"strong hash type 2", header(0, 0, 2, 0, 4, 0), nil, "unsupported strong hash type 2"},
		{"weak hash type 3", header(0, 0, 0, 3, 4, 0), nil, "unsupported weak hash type 3"},
		{"block size 0", header(0, 0, 0, 0, 0, 0), rsync.ErrBlockSize, "invalid block size: 0"},
		{"block size 1 MiB + 1", header(0, 0, 0, 0, 1, 16), rsync.ErrBlockSize, "invalid block size"},
		{"no bytes", nil, rsync.ErrTruncated, "header has 0 of 12 bytes"},
		{"half a header", good[:6], rsync.ErrTruncated, "header has 6 of 12 bytes"},
		{"a partial entry", cat(good, make([]byte, 20+7)), rsync.ErrTruncated, "7 bytes of unused signature data"},
		{"too many entries", cat(good, make([]byte, 20*11)), rsync.ErrTooManyEntries, "more than 10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, piece := range []int{1, 7, 1 << 20} {
				var d rsync.SignatureDecoder
				rsync.SetMaxEntries(&d, 10)
				var err error
				for rest := tc.sig; len(rest) > 0 && err == nil; rest = rest[min(piece, len(rest)):] {
					_, err = d.Write(rest[:min(piece, len(rest))])
				}
				if err == nil {
					_, err = d.Finish()
				}
				if err == nil {
					t.Fatal("no error")
				}
				var ce *rsync.CorruptError
				if tc.is != nil && !errors.Is(err, tc.is) || tc.is == nil && !errors.As(err, &ce) {
					t.Errorf("piece %d: error %q of the wrong kind", piece, err)
				}
				if !strings.HasPrefix(err.Error(), "rsync: ") || !strings.Contains(err.Error(), tc.msg) {
					t.Errorf("piece %d: error %q lacks the prefix or %q", piece, err, tc.msg)
				}
				if _, again := d.Finish(); again != err {
					t.Errorf("Finish after an error = %v, want the sticky %v", again, err)
				}
			}
		})
	}
}

func TestSignatureDecoderAcceptsEverySplit(t *testing.T) {
	sig := unb64(t, exampleSig)
	for i := 0; i <= len(sig); i++ {
		for j := i; j <= len(sig); j++ {
			var d rsync.SignatureDecoder
			for _, piece := range [][]byte{sig[:i], sig[i:j], sig[j:]} {
				if _, err := d.Write(piece); err != nil {
					t.Fatalf("split %d,%d: %v", i, j, err)
				}
			}
			s, err := d.Finish()
			if err != nil || s.BlockSize() != 4 || s.Len() != 4 {
				t.Fatalf("split %d,%d: %v", i, j, err)
			}
			if _, err := d.Write([]byte{0}); !errors.Is(err, rsync.ErrClosed) {
				t.Fatalf("Write after Finish = %v", err)
			}
			if again, err := d.Finish(); again != s || err != nil {
				t.Fatalf("second Finish = %v, %v", again, err)
			}
		}
	}
}

func TestSignatureReaderRejectsBadBlockSizes(t *testing.T) {
	for _, bs := range []int{-1, 0, rsync.MaxBlockSize + 1} {
		if _, err := io.ReadAll(rsync.NewSignatureReader(strings.NewReader("x"), bs)); !errors.Is(err, rsync.ErrBlockSize) {
			t.Errorf("block size %d: %v", bs, err)
		}
	}
}

func TestReadErrorsAreWrappedAndSticky(t *testing.T) {
	boom := errors.New("boom")
	old := io.MultiReader(strings.NewReader("abcdef"), iotest.ErrReader(boom))
	r := rsync.NewSignatureReader(old, 4)
	got, err := io.ReadAll(r)
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "rsync: reading old file") {
		t.Errorf("signature: %v", err)
	}
	if len(got) != 12 {
		t.Errorf("signature: %d bytes before the error, want the header only", len(got))
	}
	if _, again := r.Read(make([]byte, 10)); again != err {
		t.Errorf("signature: error not sticky: %v", again)
	}

	sig := parseSig(t, unb64(t, exampleSig))
	d := rsync.NewDiffer(sig, io.MultiReader(strings.NewReader(exampleNew), iotest.ErrReader(boom)))
	if _, err = io.ReadAll(d); !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "rsync: reading new file") {
		t.Errorf("delta: %v", err)
	}
	if _, again := d.Read(make([]byte, 10)); again != err {
		t.Errorf("delta: error not sticky: %v", again)
	}
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func TestDifferGivesUpOnAReaderThatNeverProgresses(t *testing.T) {
	sig := parseSig(t, unb64(t, exampleSig))
	if _, err := io.ReadAll(rsync.NewDiffer(sig, emptyReader{})); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("got %v", err)
	}
}

func TestPatcherStreamsDataOpsWithoutBufferingThem(t *testing.T) {
	var out bytes.Buffer
	p := rsync.NewPatcher(strings.NewReader(""), 0, 4, &out)
	op := dataOp("hello world")
	for i := range op {
		if _, err := p.Write(op[i : i+1]); err != nil {
			t.Fatal(err)
		}
		if want := max(0, i+1-5); out.Len() != want {
			t.Fatalf("after %d delta bytes the output has %d bytes, want %d", i+1, out.Len(), want)
		}
	}
}
