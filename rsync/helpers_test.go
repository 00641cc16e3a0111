package rsync_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/xferterm/xferterm/rsync"
	"github.com/zeebo/xxh3"
)

// This file holds an independent, deliberately naive model of rsync.md §4
// and §6 (whole files in memory, checksums recomputed from scratch at every
// position, absolute offsets), used to check the streaming implementation.

type refEntry struct {
	index  uint64
	weak   uint32
	strong uint64
}

// refWeak computes the weak checksum straight from the formula of §3.1.
func refWeak(x []byte) uint32 {
	var a, b uint64
	l := uint64(len(x))
	for i, c := range x {
		a += uint64(c)
		b += (l - uint64(i)) * uint64(c)
	}
	return uint32(a%65536 + 65536*(b%65536))
}

func refSignature(old []byte, bs int) []byte {
	out := make([]byte, 8, 12+(len(old)/bs+1)*20)
	out = binary.LittleEndian.AppendUint32(out, uint32(bs))
	for i := 0; i*bs < len(old); i++ {
		blk := old[i*bs : min((i+1)*bs, len(old))]
		out = binary.LittleEndian.AppendUint64(out, uint64(i))
		out = binary.LittleEndian.AppendUint32(out, refWeak(blk))
		out = binary.LittleEndian.AppendUint64(out, xxh3.Hash(blk))
	}
	return out
}

func refParseSignature(sig []byte) (bs int, entries []refEntry) {
	bs = int(binary.LittleEndian.Uint32(sig[8:]))
	for e := sig[12:]; len(e) >= 20; e = e[20:] {
		entries = append(entries, refEntry{
			index:  binary.LittleEndian.Uint64(e),
			weak:   binary.LittleEndian.Uint32(e[8:]),
			strong: binary.LittleEndian.Uint64(e[12:]),
		})
	}
	return bs, entries
}

// refDelta is the §6 algorithm written as plainly as possible. The working
// buffer is modelled only by its start offset: a need at or beyond
// bufStart+8*bs flushes the literal run and moves bufStart to the window.
func refDelta(sig []byte, newb []byte) []byte {
	bs, entries := refParseSignature(sig)
	table := map[uint32][]refEntry{}
	for _, e := range entries {
		table[e.weak] = append(table[e.weak], e)
	}
	var out []byte
	type pendingOp struct {
		ok           bool
		start, extra uint64
	}
	var pend pendingOp
	writePending := func() {
		if !pend.ok {
			return
		}
		if pend.extra == 0 {
			out = append(out, 0)
			out = binary.LittleEndian.AppendUint64(out, pend.start)
		} else {
			out = append(out, 3)
			out = binary.LittleEndian.AppendUint64(out, pend.start)
			out = binary.LittleEndian.AppendUint32(out, uint32(pend.extra))
		}
		pend.ok = false
	}
	data := func(b []byte) {
		if len(b) == 0 {
			return
		}
		writePending()
		out = append(out, 1)
		out = binary.LittleEndian.AppendUint32(out, uint32(len(b)))
		out = append(out, b...)
	}
	block := func(k uint64) {
		if pend.ok && pend.start+pend.extra+1 == k {
			pend.extra++
			return
		}
		writePending()
		pend = pendingOp{true, k, 0}
	}
	bufStart, winPos, winSz, dataPos := 0, 0, 0, 0
	for {
		var p int // absolute position needed
		if winSz > 0 {
			p = winPos + winSz
		} else {
			p = winPos + bs - 1
		}
		if p-bufStart >= 8*bs {
			data(newb[dataPos:winPos])
			dataPos = winPos
			bufStart = winPos
		}
		if p >= len(newb) {
			break
		}
		if winSz > 0 {
			winPos++
		} else {
			winSz = bs
		}
		w := newb[winPos : winPos+bs]
		strong := xxh3.Hash(w)
		for _, e := range table[refWeak(w)] {
			if e.strong == strong {
				data(newb[dataPos:winPos])
				block(e.index)
				winPos += bs
				dataPos = winPos
				winSz = 0
				break
			}
		}
	}
	data(newb[dataPos:winPos])
	data(newb[winPos:])
	writePending()
	out = append(out, 2, 16, 0)
	sum := xxh3.Hash128(newb).Bytes()
	return append(out, sum[:]...)
}

// op is one decoded delta operation.
type op struct {
	typ          byte
	start, extra uint64
	data         []byte
}

// parseOps decodes a well-formed delta.
func parseOps(t testing.TB, delta []byte) []op {
	t.Helper()
	var ops []op
	for len(delta) > 0 {
		switch delta[0] {
		case 0:
			ops = append(ops, op{typ: 0, start: binary.LittleEndian.Uint64(delta[1:])})
			delta = delta[9:]
		case 1:
			n := int(binary.LittleEndian.Uint32(delta[1:]))
			ops = append(ops, op{typ: 1, data: delta[5 : 5+n]})
			delta = delta[5+n:]
		case 2:
			n := int(binary.LittleEndian.Uint16(delta[1:]))
			ops = append(ops, op{typ: 2, data: delta[3 : 3+n]})
			delta = delta[3+n:]
		case 3:
			ops = append(ops, op{typ: 3, start: binary.LittleEndian.Uint64(delta[1:]),
				extra: uint64(binary.LittleEndian.Uint32(delta[9:]))})
			delta = delta[13:]
		default:
			t.Fatalf("unknown op %d", delta[0])
		}
	}
	return ops
}

// literalBytes returns the number of bytes carried in Data ops.
func literalBytes(t testing.TB, delta []byte) int {
	n := 0
	for _, o := range parseOps(t, delta) {
		if o.typ == 1 {
			n += len(o.data)
		}
	}
	return n
}

// makeSignature returns the signature bytes of old made by the package.
func makeSignature(t testing.TB, old []byte, bs int) []byte {
	t.Helper()
	sig, err := io.ReadAll(rsync.NewSignatureReader(bytes.NewReader(old), bs))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func parseSig(t testing.TB, sig []byte) *rsync.Signature {
	t.Helper()
	s, err := rsync.ParseSignature(sig)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// makeDelta returns the delta of newb against the signature bytes sig.
func makeDelta(t testing.TB, sig []byte, newb []byte) []byte {
	t.Helper()
	delta, err := io.ReadAll(rsync.NewDiffer(parseSig(t, sig), bytes.NewReader(newb)))
	if err != nil {
		t.Fatal(err)
	}
	return delta
}

// patch applies delta to old, writing it in pieces of 1..maxPiece bytes
// (all at once if rng is nil).
func patch(old []byte, bs int, delta []byte, rng *rand.Rand, maxPiece int) ([]byte, error) {
	var out bytes.Buffer
	p := rsync.NewPatcher(bytes.NewReader(old), int64(len(old)), bs, &out)
	for len(delta) > 0 {
		n := len(delta)
		if rng != nil {
			n = min(n, 1+rng.IntN(maxPiece))
		}
		m, err := p.Write(delta[:n])
		if err != nil {
			return out.Bytes(), err
		}
		if m != n {
			return out.Bytes(), fmt.Errorf("short write %d of %d without error", m, n)
		}
		delta = delta[n:]
	}
	return out.Bytes(), p.Close()
}

// randBytes returns n bytes; if alphabet > 0 the bytes are drawn from that
// many distinct values (low entropy).
func randBytes(rng *rand.Rand, n, alphabet int) []byte {
	b := make([]byte, n)
	for i := range b {
		if alphabet > 0 {
			b[i] = 'a' + byte(rng.IntN(alphabet))
		} else {
			b[i] = byte(rng.Uint32())
		}
	}
	return b
}

// chunkReader returns between 1 and max bytes per Read, at random.
type chunkReader struct {
	r   io.Reader
	rng *rand.Rand
	max int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return c.r.Read(p[:min(len(p), 1+c.rng.IntN(c.max))])
}

// readChunked drains r with reads of 1..max bytes at random.
func readChunked(r io.Reader, rng *rand.Rand, max int) ([]byte, error) {
	var out []byte
	buf := make([]byte, max)
	for {
		n, err := r.Read(buf[:1+rng.IntN(max)])
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}
