package rsync_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/xferterm/xferterm/rsync"
	"github.com/zeebo/xxh3"
)

// Vectors of rsync.md §9, printed by kitty's own code.
const (
	exampleOld = "abcdefghijklmnop"
	exampleNew = "abcdXXefghijklmnopQ"
	exampleSig = "AAAAAAAAAAAEAAAAAAAAAAAAAACKAdQDkJioU2+pl2QBAAAAAAAAAJoB/ANNRVillcNjqQIAAAAAAAAAqgEkBMX5R2W6784IAwAAAAAAAAC6AUwEf1y8d0LzaG4"
	exampleDel = "AAAAAAAAAAAAAQIAAABYWAMBAAAAAAAAAAIAAAABAQAAAFECEADpQr+QVO3lUVHpTUV8syZS"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "|", "", "\n", "", "\t", "").Replace(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unb64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBlockSizeFollowsTheClientRule(t *testing.T) {
	for _, tc := range []struct {
		size int64
		want int
	}{
		{-1, 6144}, {0, 6144}, {1, 1}, {2, 1}, {3, 2}, {100, 10}, {4096, 64}, {4097, 64},
		{11113, 64}, {1 << 20, 1024}, {10 << 20, 3200}, {1 << 40, 1048576}, {2 << 40, 1048576},
		{1<<63 - 1, 1048576},
	} {
		if got := rsync.BlockSize(tc.size); got != tc.want {
			t.Errorf("BlockSize(%d) = %d, want %d", tc.size, got, tc.want)
		}
	}
}

func TestWeakChecksumMatchesTheSpecVectors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint32
	}{
		{"abcd", 0x03D4018A}, {"bcde", 0x03DE018E}, {"efgh", 0x03FC019A}, {"", 0},
	} {
		if got := rsync.WeakSum([]byte(tc.in)); got != tc.want {
			t.Errorf("weak(%q) = %#x, want %#x", tc.in, got, tc.want)
		}
	}
}

func TestXXH3MatchesTheSpecVectors(t *testing.T) {
	if got := xxh3.HashString("abcd"); got != 0x6497A96F53A89890 {
		t.Errorf("XXH3-64(abcd) = %#x", got)
	}
	for in, want := range map[string]string{
		"":                    "99aa06d3014798d86001c324468d497f",
		"abcd":                "8d6b60383dfa90c21be79eecd1b1353d",
		"abcdXXefghijklmnopQ": "e942bf9054ede55151e94d457cb32652",
	} {
		sum := xxh3.HashString128(in).Bytes()
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("XXH3-128(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestSignatureOfTheWorkedExample(t *testing.T) {
	want := unhex(t, `
		00 00 00 00 00 00 00 00 04 00 00 00
		00 00 00 00 00 00 00 00 | 8a 01 d4 03 | 90 98 a8 53 6f a9 97 64
		01 00 00 00 00 00 00 00 | 9a 01 fc 03 | 4d 45 58 a5 95 c3 63 a9
		02 00 00 00 00 00 00 00 | aa 01 24 04 | c5 f9 47 65 ba ef ce 08
		03 00 00 00 00 00 00 00 | ba 01 4c 04 | 7f 5c bc 77 42 f3 68 6e`)
	if !bytes.Equal(want, unb64(t, exampleSig)) {
		t.Fatal("hex and base64 of §9.1 disagree")
	}
	bs := rsync.BlockSize(int64(len(exampleOld)))
	if bs != 4 {
		t.Fatalf("block size %d, want 4", bs)
	}
	for name, r := range map[string]io.Reader{
		"whole":    strings.NewReader(exampleOld),
		"one byte": iotest.OneByteReader(strings.NewReader(exampleOld)),
		"half":     iotest.HalfReader(strings.NewReader(exampleOld)),
	} {
		got, err := io.ReadAll(iotest.OneByteReader(rsync.NewSignatureReader(r, bs)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: signature\n got %x\nwant %x", name, got, want)
		}
	}
}

func TestSignatureOfAnEmptyFileIsTheHeader(t *testing.T) {
	got := makeSignature(t, nil, rsync.BlockSize(0))
	if want := unhex(t, "00 00 00 00 00 00 00 00 00 18 00 00"); !bytes.Equal(got, want) {
		t.Errorf("got %x, want %x", got, want)
	}
}

func TestDeltaOfTheWorkedExample(t *testing.T) {
	want := unhex(t, `
		00 00 00 00 00 00 00 00 00
		01 02 00 00 00 58 58
		03 01 00 00 00 00 00 00 00 02 00 00 00
		01 01 00 00 00 51
		02 10 00 e9 42 bf 90 54 ed e5 51 51 e9 4d 45 7c b3 26 52`)
	if !bytes.Equal(want, unb64(t, exampleDel)) {
		t.Fatal("hex and base64 of §9.2 disagree")
	}
	sig := parseSig(t, unb64(t, exampleSig))
	for name, r := range map[string]io.Reader{
		"whole":    strings.NewReader(exampleNew),
		"one byte": iotest.OneByteReader(strings.NewReader(exampleNew)),
		"half":     iotest.HalfReader(strings.NewReader(exampleNew)),
		"data+eof": iotest.DataErrReader(strings.NewReader(exampleNew)),
	} {
		got, err := io.ReadAll(iotest.OneByteReader(rsync.NewDiffer(sig, r)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: delta\n got %x\nwant %x", name, got, want)
		}
	}
}

func TestDeltaVectorsOfSection9_4(t *testing.T) {
	for _, tc := range []struct {
		name, sig, newFile, want string
	}{
		{"hi against an empty signature", "00 00 00 00 00 00 00 00 00 18 00 00", "hi",
			"01 02 00 00 00 68 69 | 02 10 00 7d 59 6c e5 fc ab af 62 2a 23 00 bb d7 ea 6e 9a"},
		{"an empty new file", hex.EncodeToString(unb64(t, exampleSig)), "",
			"02 10 00 99 aa 06 d3 01 47 98 d8 60 01 c3 24 46 8d 49 7f"},
		{"identical files of one block", hex.EncodeToString(refSignature([]byte("abcd"), 4)), "abcd",
			"00 00 00 00 00 00 00 00 00 | 02 10 00 8d 6b 60 38 3d fa 90 c2 1b e7 9e ec d1 b1 35 3d"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := makeDelta(t, unhex(t, tc.sig), []byte(tc.newFile))
			if want := unhex(t, tc.want); !bytes.Equal(got, want) {
				t.Errorf("delta\n got %x\nwant %x", got, want)
			}
			out, err := patch(nil, 6144, got, nil, 0)
			if tc.name != "identical files of one block" && (err != nil || string(out) != tc.newFile) {
				t.Errorf("patch = %q, %v", out, err)
			}
		})
	}
}

func TestPatchOfTheWorkedExampleAtEverySplit(t *testing.T) {
	delta := unb64(t, exampleDel)
	for i := 0; i <= len(delta); i++ {
		for j := i; j <= len(delta); j++ {
			var out bytes.Buffer
			p := rsync.NewPatcher(strings.NewReader(exampleOld), int64(len(exampleOld)), 4, &out)
			for _, piece := range [][]byte{delta[:i], delta[i:j], delta[j:]} {
				if n, err := p.Write(piece); err != nil || n != len(piece) {
					t.Fatalf("split %d,%d: Write = %d, %v", i, j, n, err)
				}
			}
			if err := p.Close(); err != nil {
				t.Fatalf("split %d,%d: Close: %v", i, j, err)
			}
			if out.String() != exampleNew {
				t.Fatalf("split %d,%d: got %q", i, j, out.String())
			}
			if p.Written() != int64(len(exampleNew)) {
				t.Fatalf("split %d,%d: Written = %d", i, j, p.Written())
			}
		}
	}
}

func TestIdenticalFilesGiveOneBlockRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, bs := range []int{1, 4, 64, 1000} {
		old := randBytes(rng, 16*bs, 0)
		if bs == 1 {
			old = []byte("0123456789abcdef")
		}
		ops := parseOps(t, makeDelta(t, makeSignature(t, old, bs), old))
		if len(ops) != 2 || ops[0].typ != 3 || ops[0].start != 0 || ops[0].extra != 15 || ops[1].typ != 2 {
			t.Errorf("bs %d: ops %+v, want BlockRange 0..15 and Hash", bs, ops)
		}
	}
}

func TestRepeatedBlocksMatchTheFirstEntry(t *testing.T) {
	old := bytes.Repeat([]byte("abcd"), 3)
	ops := parseOps(t, makeDelta(t, makeSignature(t, old, 4), old))
	for i, o := range ops[:3] {
		if o.typ != 0 || o.start != 0 {
			t.Errorf("op %d = %+v, want Block 0", i, o)
		}
	}
}

func TestFirstMatchingEntryInSignatureOrderWins(t *testing.T) {
	entry := func(index uint64, window, strongOf string) []byte {
		b := binary.LittleEndian.AppendUint64(nil, index)
		b = binary.LittleEndian.AppendUint32(b, rsync.WeakSum([]byte(window)))
		return binary.LittleEndian.AppendUint64(b, xxh3.HashString(strongOf))
	}
	header := unhex(t, "00 00 00 00 00 00 00 00 04 00 00 00")
	// Same weak checksum everywhere; the strong one matches "abcd" for
	// indices 9, 5 and 3, in that signature order.
	sig := cat(header, entry(7, "abcd", "zzzz"), entry(9, "abcd", "abcd"), entry(2, "abcd", "yyyy"),
		entry(5, "abcd", "abcd"), entry(3, "abcd", "abcd"))
	got := makeDelta(t, sig, []byte("abcd"))
	if want := refDelta(sig, []byte("abcd")); !bytes.Equal(got, want) {
		t.Fatalf("delta %x, model %x", got, want)
	}
	if ops := parseOps(t, got); ops[0].typ != 0 || ops[0].start != 9 {
		t.Errorf("ops %+v, want Block 9 first", ops)
	}
}

func TestManyEntriesSharingAWeakChecksumStayFast(t *testing.T) {
	// A hostile signature: 200 000 entries with the weak checksum of every
	// window of the new file but the wrong strong checksum. Each window
	// costs a binary search, not a scan of all the entries.
	header := unhex(t, "00 00 00 00 00 00 00 00 04 00 00 00")
	sig := bytes.Clone(header)
	for i := range 200_000 {
		sig = binary.LittleEndian.AppendUint64(sig, uint64(i))
		sig = binary.LittleEndian.AppendUint32(sig, rsync.WeakSum([]byte("aaaa")))
		sig = binary.LittleEndian.AppendUint64(sig, uint64(i))
	}
	newb := bytes.Repeat([]byte("a"), 256<<10)
	delta := makeDelta(t, sig, newb)
	if lit := literalBytes(t, delta); lit != len(newb) {
		t.Errorf("%d literal bytes, want %d", lit, len(newb))
	}
}
