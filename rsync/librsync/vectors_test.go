package librsync_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"testing/iotest"

	"github.com/xferterm/xferterm/rsync/librsync"
)

// TestBlake2b256: known answers of BLAKE2b with a 32-byte digest (RFC 7693's algorithm;
// the values were printed by Python's hashlib.blake2b(digest_size=32)), around the
// 128-byte block boundary.
func TestBlake2b256(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{nil, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"},
		{[]byte("abc"), "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"},
		{bytes.Repeat([]byte("a"), 128), "ae2aa48507885c4c950fb809b2076f959cde9f8ea6da260d9a3587df33dac450"},
		{bytes.Repeat([]byte("a"), 129), "2f64744a6de0d2c0b56e64cf6e29a5aaa255010d415d51c75ccc82f73dccd865"},
	} {
		got := librsync.Blake2b256(tc.in)
		if hex.EncodeToString(got[:]) != tc.want {
			t.Errorf("BLAKE2b-256 of %d bytes = %x, want %s", len(tc.in), got, tc.want)
		}
	}
}

// TestWeakSums: the weak sums of "abcd" as librsync's rdiff writes them in a signature with
// a 4-byte block (checked in TestGoldenSignatures).
func TestWeakSums(t *testing.T) {
	if got, want := librsync.RKSum([]byte("abcd")), uint32(0x238bd873); got != want {
		t.Errorf("Rabin-Karp(abcd) = %#x, want %#x", got, want)
	}
	if got, want := librsync.Rollsum([]byte("abcd")), uint32(0x050a0206); got != want {
		t.Errorf("rollsum(abcd) = %#x, want %#x", got, want)
	}
}

// TestDefaultParams: the block lengths the 0.26 client's librsync picks (printed by its
// begin_create_signature for these sizes), RK-BLAKE2 and 32-byte strong sums.
func TestDefaultParams(t *testing.T) {
	for _, tc := range []struct {
		size int64
		bl   int
	}{
		{0, 256}, {1, 256}, {100, 256}, {4096, 256}, {4097, 256}, {65536, 256}, {100000, 256},
		{1 << 20, 1024}, {10 << 20, 3200}, {1 << 30, 32768}, {1 << 40, 1 << 20}, {1 << 50, librsync.MaxBlockLen},
	} {
		p := librsync.DefaultParams(tc.size)
		if p.BlockLen != tc.bl || p.StrongLen != 32 || p.Magic != librsync.RKBlake2Magic {
			t.Errorf("DefaultParams(%d) = %+v, want block length %d, strong 32, RK-BLAKE2", tc.size, p, tc.bl)
		}
	}
}

// TestGoldenSignatures: signatures of "abcd…" written by librsync 2.3.2's rdiff
// (rdiff signature -H blake2 -R <weak> -b 4 -S 8).
func TestGoldenSignatures(t *testing.T) {
	in := []byte("abcdefghij")
	for _, tc := range []struct {
		name string
		p    librsync.Params
		want string
	}{
		{"RK-BLAKE2", librsync.Params{Magic: librsync.RKBlake2Magic, BlockLen: 4, StrongLen: 8}, goldenRK},
		{"BLAKE2 with the rollsum", librsync.Params{Magic: librsync.Blake2Magic, BlockLen: 4, StrongLen: 8}, goldenRollsum},
	} {
		got := readAll(t, iotest.OneByteReader(librsync.NewSignatureReader(bytes.NewReader(in), tc.p)))
		if hex.EncodeToString(got) != tc.want {
			t.Errorf("%s: signature\n got %x\nwant %s", tc.name, got, tc.want)
		}
		sig, err := librsync.ParseSignature(got)
		if err != nil || sig.Len() != 3 || sig.Params() != tc.p {
			t.Errorf("%s: parsed back as %v, %v", tc.name, sig, err)
		}
	}
}

// TestGoldenDelta: a delta written by librsync 2.3.2's rdiff (old "abcdefghij", new
// "XXabcdefghij!", block 4) patches into the new file at every split of its bytes.
func TestGoldenDelta(t *testing.T) {
	delta, _ := hex.DecodeString(goldenDelta)
	old, want := []byte("abcdefghij"), []byte("XXabcdefghij!")
	for chunk := 1; chunk <= len(delta); chunk++ {
		var out bytes.Buffer
		p := librsync.NewPatcher(bytes.NewReader(old), int64(len(old)), &out)
		for b := delta; len(b) > 0; b = b[min(chunk, len(b)):] {
			if _, err := p.Write(b[:min(chunk, len(b))]); err != nil {
				t.Fatalf("chunk %d: %v", chunk, err)
			}
		}
		if err := p.Close(); err != nil || !bytes.Equal(out.Bytes(), want) || p.Written() != int64(len(want)) {
			t.Fatalf("chunk %d: got %q (%d written), %v; want %q", chunk, out.Bytes(), p.Written(), err, want)
		}
	}
}

// TestDeltaEncoding: the commands this package writes, by hand: literals up to 64 bytes
// are one byte, longer ones take the smallest length field; adjacent copies merge, and
// each copy takes the smallest start and length fields.
func TestDeltaEncoding(t *testing.T) {
	blk := func(i int) []byte { return bytes.Repeat([]byte{byte('A' + i)}, 300) }
	old := bytes.Join([][]byte{blk(0), blk(1), blk(2), blk(3)}, nil)
	p := librsync.Params{Magic: librsync.RKBlake2Magic, BlockLen: 300, StrongLen: 32}
	sig, err := librsync.ParseSignature(readAll(t, librsync.NewSignatureReader(bytes.NewReader(old), p)))
	if err != nil {
		t.Fatal(err)
	}
	lit70 := bytes.Repeat([]byte("z"), 70)
	newFile := bytes.Join([][]byte{[]byte("hi"), blk(1), blk(2), lit70, blk(0), []byte("!")}, nil)
	got := readAll(t, librsync.NewDiffer(sig, bytes.NewReader(newFile)))
	want := bytes.Join([][]byte{
		{0x72, 0x73, 0x02, 0x36},
		{0x02}, []byte("hi"), // LITERAL_2
		{0x4a, 0x01, 0x2c, 0x02, 0x58}, // COPY_N2_N2 300, 600: blocks 1 and 2 merged
		{0x41, 70}, lit70,              // LITERAL_N1 70
		{0x46, 0x00, 0x01, 0x2c}, // COPY_N1_N2 0, 300: block 0
		{0x01, '!'},              // LITERAL_1
		{0x00},                   // END
	}, nil)
	if !bytes.Equal(got, want) {
		t.Fatalf("delta\n got %x\nwant %x", got, want)
	}
	if out := patch(t, old, got); !bytes.Equal(out, newFile) {
		t.Fatalf("patched into %q", out)
	}
}

// TestSignatureErrors: what a hostile or broken peer's signature gets.
func TestSignatureErrors(t *testing.T) {
	hdr := func(magic, bl, sl uint32) []byte {
		return fmt.Appendf(nil, "%s", []byte{byte(magic >> 24), byte(magic >> 16), byte(magic >> 8), byte(magic),
			byte(bl >> 24), byte(bl >> 16), byte(bl >> 8), byte(bl), byte(sl >> 24), byte(sl >> 16), byte(sl >> 8), byte(sl)})
	}
	var corrupt *librsync.CorruptError
	for _, tc := range []struct {
		name  string
		in    []byte
		check func(error) bool
	}{
		{"a delta's magic", hdr(librsync.DeltaMagic, 256, 32), func(err error) bool { return errors.As(err, &corrupt) }},
		{"MD4", hdr(0x72730136, 256, 32), func(err error) bool { return errors.As(err, &corrupt) }},
		{"RK-MD4", hdr(0x72730146, 256, 32), func(err error) bool { return errors.As(err, &corrupt) }},
		{"block length 0", hdr(librsync.RKBlake2Magic, 0, 32), func(err error) bool { return errors.As(err, &corrupt) }},
		{"block length too large", hdr(librsync.RKBlake2Magic, librsync.MaxBlockLen+1, 32), func(err error) bool { return errors.As(err, &corrupt) }},
		{"strong length 0", hdr(librsync.RKBlake2Magic, 256, 0), func(err error) bool { return errors.As(err, &corrupt) }},
		{"strong length 33", hdr(librsync.RKBlake2Magic, 256, 33), func(err error) bool { return errors.As(err, &corrupt) }},
		{"strong length 2^32-1", hdr(librsync.RKBlake2Magic, 256, 1<<32-1), func(err error) bool { return errors.As(err, &corrupt) }},
		{"truncated header", hdr(librsync.RKBlake2Magic, 256, 32)[:11], func(err error) bool { return errors.Is(err, librsync.ErrTruncated) }},
		{"leftover bytes", append(hdr(librsync.RKBlake2Magic, 256, 4), 1, 2, 3, 4, 5, 6, 7), func(err error) bool { return errors.Is(err, librsync.ErrTruncated) }},
		{"too many entries", append(hdr(librsync.RKBlake2Magic, 256, 1), make([]byte, 5*4)...), func(err error) bool { return errors.Is(err, librsync.ErrTooManyEntries) }},
	} {
		var d librsync.SignatureDecoder
		d.SetMaxEntries(3)
		_, err := d.Write(tc.in)
		if err == nil {
			_, err = d.Finish()
		}
		if !tc.check(err) {
			t.Errorf("%s: got %v", tc.name, err)
		}
		if _, again := d.Finish(); again == nil || again.Error() != err.Error() {
			t.Errorf("%s: the error is not sticky: %v then %v", tc.name, err, again)
		}
	}
}

// TestPatchErrors: what a hostile or broken peer's delta gets.
func TestPatchErrors(t *testing.T) {
	magic := []byte{0x72, 0x73, 0x02, 0x36}
	d := func(cmds ...byte) []byte { return append(append([]byte(nil), magic...), cmds...) }
	old := []byte("0123456789")
	var corrupt *librsync.CorruptError
	for _, tc := range []struct {
		name  string
		delta []byte
		check func(error) bool
	}{
		{"a signature's magic", []byte{0x72, 0x73, 0x01, 0x47, 0}, func(err error) bool { return errors.As(err, &corrupt) }},
		{"reserved command", d(0x55), func(err error) bool { return errors.As(err, &corrupt) }},
		{"copy past the end", d(0x45, 5, 6, 0), func(err error) bool { return errors.As(err, &corrupt) }},
		{"copy start past the end", d(0x45, 11, 0, 0), func(err error) bool { return errors.As(err, &corrupt) }},
		{"copy of 2^64-1 bytes", d(0x48, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0), func(err error) bool { return errors.As(err, &corrupt) }},
		{"data after END", d(0, 1), func(err error) bool { return errors.As(err, &corrupt) }},
		{"no END", d(0x01, 'x'), func(err error) bool { return errors.Is(err, librsync.ErrMissingEnd) }},
		{"inside a literal", d(0x03, 'x'), func(err error) bool { return errors.Is(err, librsync.ErrTruncated) }},
		{"inside a command header", d(0x4f, 0, 0), func(err error) bool { return errors.Is(err, librsync.ErrTruncated) }},
		{"inside the magic", magic[:2], func(err error) bool { return errors.Is(err, librsync.ErrTruncated) }},
		{"empty", nil, func(err error) bool { return errors.Is(err, librsync.ErrTruncated) }},
	} {
		p := librsync.NewPatcher(bytes.NewReader(old), int64(len(old)), &bytes.Buffer{})
		_, err := p.Write(tc.delta)
		if err == nil {
			err = p.Close()
		}
		if !tc.check(err) {
			t.Errorf("%s: got %v", tc.name, err)
		}
		if again := p.Close(); again == nil {
			t.Errorf("%s: Close after the error returned nil", tc.name)
		}
		if _, err := p.Write([]byte{0}); err == nil {
			t.Errorf("%s: Write after the error returned nil", tc.name)
		}
	}
	// A delta that ends well: the maximal copy and a zero-length literal are fine.
	if out := patch(t, old, d(0x45, 0, 10, 0x41, 0, 0)); !bytes.Equal(out, old) {
		t.Errorf("full copy gave %q", out)
	}
}

// Golden bytes written by librsync 2.3.2's rdiff; see the tests that use them.
const (
	goldenRK      = "727301470000000400000008238bd8739cc3912a042827e4f0e7b5e3e135c3b92f401736f4623af02dc4dfbc3d293c35"
	goldenRollsum = "727301370000000400000008050a02069cc3912a042827e405320216e135c3b92f401736019901112dc4dfbc3d293c35"
	goldenDelta   = "7273023602585845000803696a2100"
)
