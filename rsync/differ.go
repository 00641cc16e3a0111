package rsync

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/zeebo/xxh3"
)

// maxEmptyReads is how many (0, nil) reads in a row the Differ tolerates
// from the new file before failing with io.ErrNoProgress.
const maxEmptyReads = 100

// minReadSize is the smallest read the Differ makes from the new file; for
// tiny block sizes the new file is read through a buffer of this size.
const minReadSize = 32 << 10

// readBudget bounds the bytes of the new file one Read consumes when it has no
// output to show for them (a run of matching blocks is held back to be coalesced
// into one BlockRange): Read then returns (0, nil), and the caller comes back
// later. Without it a Read over a large identical file would hash the whole file
// at once (about 0.7 s per GiB) while the caller holds its locks.
const readBudget = 4 << 20

// Differ generates a delta (rsync.md §5) from a signature and a new file. It
// is pull-based: Read yields delta bytes, ending with the Hash operation and
// then io.EOF. The output is byte for byte what kitty's delta generator
// produces (rsync.md §6).
//
// Memory: the signature table plus one buffer of 8 blocks, whatever the
// size of the new file. Read errors from the new file are wrapped and
// sticky. A Differ must not be used by several goroutines at once.
type Differ struct {
	sig *Signature
	r   io.Reader
	bs  int
	buf []byte // slice of the new file; len = bytes read, cap = 8*bs

	// The window is buf[winPos:winPos+bs] when haveWin; the pending literal
	// run is buf[dataPos:winPos].
	winPos  int
	dataPos int
	haveWin bool
	a, b    uint32 // running rolling sums of the window, unmasked
	shift   bool   // move buf[winPos:] to the front before going on
	eof     bool
	sum     xxh3.Hasher // XXH3-128 of everything read from the new file

	// At most one Block/BlockRange op held back for coalescing.
	pend      bool
	pendStart uint64
	pendExtra uint64 // additional blocks; 0 means a plain Block op

	// Undelivered output: segs[segPos:nsegs], each a slice of scratch or of
	// buf. buf is not modified until they are delivered.
	scratch  [64]byte
	nscratch int
	segs     [6][]byte
	nsegs    int
	segPos   int

	done bool
	err  error
	work int // bytes of the new file read during the current Read
}

// NewDiffer returns a Differ that reads newFile and yields its delta against
// sig. The block size is the signature's. A nil sig makes Read fail.
func NewDiffer(sig *Signature, newFile io.Reader) *Differ {
	d := &Differ{sig: sig, r: newFile}
	if sig == nil {
		d.err = errors.New("rsync: nil signature")
		return d
	}
	d.bs = sig.blockSize
	d.buf = make([]byte, 0, 8*d.bs)
	if cap(d.buf) < minReadSize {
		d.r = bufio.NewReaderSize(newFile, minReadSize)
	}
	d.sum.Reset()
	return d
}

// Read implements io.Reader. It returns io.EOF after the Hash operation has
// been delivered. It may return (0, nil) after reading readBudget bytes of the
// new file (at least) without producing output: the delta is not finished, call
// again. The delta bytes are the same however the calls are split.
func (d *Differ) Read(p []byte) (int, error) {
	n := 0
	d.work = 0
	for n < len(p) {
		if d.segPos < d.nsegs {
			c := copy(p[n:], d.segs[d.segPos])
			n += c
			if d.segs[d.segPos] = d.segs[d.segPos][c:]; len(d.segs[d.segPos]) == 0 {
				d.segPos++
			}
			continue
		}
		if d.done || d.err != nil || d.work >= readBudget {
			break
		}
		d.nsegs, d.segPos, d.nscratch = 0, 0, 0
		d.step()
	}
	switch {
	case n > 0 || len(p) == 0:
		return n, nil
	case d.err != nil:
		return 0, d.err
	case d.done:
		return 0, io.EOF
	default:
		return 0, nil // the work budget is spent; more next time
	}
}

func (d *Differ) step() {
	bs := d.bs
	sig := d.sig
	for d.nsegs == 0 && !d.done && d.err == nil && d.work < readBudget {
		if d.shift {
			d.doShift()
		}
		if !d.haveWin {
			// §6 step 2: a fresh window needs bs bytes.
			if !d.need(d.winPos + bs) {
				continue
			}
			weak, a, b := weakSum(d.buf[d.winPos : d.winPos+bs])
			d.a, d.b, d.haveWin = a, b, true
			if idx, ok := sig.find(weak, d.buf[d.winPos:d.winPos+bs]); ok {
				d.matched(idx)
			}
			continue
		}
		// §6 step 1: slide the window one byte at a time over everything
		// read so far, testing the filter after each byte.
		if !d.need(d.winPos + bs + 1) {
			continue
		}
		buf := d.buf
		outs := buf[d.winPos : len(buf)-bs]
		ins := buf[d.winPos+bs:]
		for len(outs) > 0 {
			n, hit, a, b := roll(outs, ins, d.a, d.b, uint32(bs), sig.filter, sig.filterShift)
			d.winPos += n
			d.a, d.b = a, b
			if !hit {
				break
			}
			if idx, ok := sig.find(a&0xffff|b<<16, buf[d.winPos:d.winPos+bs]); ok {
				d.matched(idx)
				break
			}
			outs, ins = outs[n:], ins[n:]
		}
	}
}

// roll slides the window one byte at a time: outs[i] leaves it and ins[i]
// enters it. It stops after the first position whose weak checksum passes
// the filter (hit) or at the end of outs, and returns how far the window
// moved and the running sums there. This is the hot loop of the package: it
// stays free of calls and tests two positions per branch (measured about
// 10% faster than one; indexing beat reslicing despite two bounds checks).
func roll(outs, ins []byte, a, b, bs uint32, filter []uint64, fshift uint32) (n int, hit bool, a2, b2 uint32) {
	ins = ins[:len(outs)]
	fshift &= 31
	i := 0
	for ; i+1 < len(outs); i += 2 {
		o0, o1 := uint32(outs[i]), uint32(outs[i+1])
		a0 := a + uint32(ins[i]) - o0
		b0 := b + a0 - bs*o0
		a1 := a0 + uint32(ins[i+1]) - o1
		b1 := b0 + a1 - bs*o1
		h0 := mix(a0&0xffff|b0<<16) >> fshift
		h1 := mix(a1&0xffff|b1<<16) >> fshift
		f0 := filter[h0/64] & (1 << (h0 % 64))
		f1 := filter[h1/64] & (1 << (h1 % 64))
		if f0|f1 != 0 {
			if f0 != 0 {
				return i + 1, true, a0, b0
			}
			return i + 2, true, a1, b1
		}
		a, b = a1, b1
	}
	for ; i < len(outs); i++ {
		o := uint32(outs[i])
		a += uint32(ins[i]) - o
		b += a - bs*o
		h := mix(a&0xffff|b<<16) >> fshift
		if filter[h/64]&(1<<(h%64)) != 0 {
			return i + 1, true, a, b
		}
	}
	return len(outs), false, a, b
}

// matched handles a window that matched block idx (§6 step 3).
func (d *Differ) matched(idx uint64) {
	d.emitData(d.buf[d.dataPos:d.winPos])
	d.addBlock(idx)
	d.winPos += d.bs
	d.dataPos = d.winPos
	d.haveWin = false
}

// need makes buf hold at least n bytes (n-1 is the position needed). It
// returns false if that is not possible now: the caller must then loop, as
// need has produced output, finished the delta, or failed.
func (d *Differ) need(n int) bool {
	if n <= len(d.buf) {
		return true
	}
	if n > cap(d.buf) {
		// The buffer wraps: flush the literal run, then move the window
		// to the front. The move waits until the flushed bytes are read.
		n -= d.winPos
		d.emitData(d.buf[d.dataPos:d.winPos])
		d.dataPos = d.winPos
		d.shift = true
		if d.nsegs > 0 {
			return false
		}
		d.doShift()
	}
	empty := 0
	for len(d.buf) < n && !d.eof {
		m, err := d.r.Read(d.buf[len(d.buf):cap(d.buf)])
		if m > 0 {
			_, _ = d.sum.Write(d.buf[len(d.buf) : len(d.buf)+m]) // Never fails.
			d.buf = d.buf[:len(d.buf)+m]
			d.work += m
			empty = 0
		}
		switch {
		case err == io.EOF:
			d.eof = true
		case err != nil:
			d.err = fmt.Errorf("rsync: reading new file: %w", err)
			return false
		case m == 0:
			if empty++; empty >= maxEmptyReads {
				d.err = fmt.Errorf("rsync: reading new file: %w", io.ErrNoProgress)
				return false
			}
		}
	}
	if len(d.buf) < n {
		d.finish()
		return false
	}
	return true
}

// doShift moves buf[winPos:] to the front of buf.
func (d *Differ) doShift() {
	k := copy(d.buf, d.buf[d.winPos:])
	d.buf = d.buf[:k]
	d.dataPos -= d.winPos
	d.winPos = 0
	d.shift = false
}

// finish emits the literal run, the unmatched tail, the pending block op and
// the Hash op.
func (d *Differ) finish() {
	d.emitData(d.buf[d.dataPos:d.winPos])
	d.emitData(d.buf[d.winPos:])
	d.writePending()
	h := d.alloc(3 + checksumSize)
	h[0] = opHash
	binary.LittleEndian.PutUint16(h[1:], checksumSize)
	sum := d.sum.Sum128().Bytes()
	copy(h[3:], sum[:])
	d.put(h)
	d.done = true
}

// alloc returns n bytes of scratch space.
func (d *Differ) alloc(n int) []byte {
	b := d.scratch[d.nscratch : d.nscratch+n]
	d.nscratch += n
	return b
}

func (d *Differ) put(b []byte) {
	d.segs[d.nsegs] = b
	d.nsegs++
}

// emitData emits a Data op for lit, if not empty, after the pending block op.
func (d *Differ) emitData(lit []byte) {
	if len(lit) == 0 {
		return
	}
	d.writePending()
	h := d.alloc(5)
	h[0] = opData
	binary.LittleEndian.PutUint32(h[1:], uint32(len(lit)))
	d.put(h)
	d.put(lit)
}

// addBlock passes Block idx through the coalescer.
func (d *Differ) addBlock(idx uint64) {
	if d.pend && d.pendExtra < math.MaxUint32 && d.pendStart+d.pendExtra != math.MaxUint64 &&
		d.pendStart+d.pendExtra+1 == idx {
		d.pendExtra++
		return
	}
	d.writePending()
	d.pend, d.pendStart, d.pendExtra = true, idx, 0
}

// writePending emits the held-back block op, if any.
func (d *Differ) writePending() {
	if !d.pend {
		return
	}
	d.pend = false
	if d.pendExtra == 0 {
		h := d.alloc(9)
		h[0] = opBlock
		binary.LittleEndian.PutUint64(h[1:], d.pendStart)
		d.put(h)
		return
	}
	h := d.alloc(13)
	h[0] = opBlockRange
	binary.LittleEndian.PutUint64(h[1:], d.pendStart)
	binary.LittleEndian.PutUint32(h[9:], uint32(d.pendExtra))
	d.put(h)
}
