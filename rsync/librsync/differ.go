package librsync

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/xferterm/xferterm/internal/deltaio"
)

// minBuffer is the smallest buffer of the new file the Differ keeps; with small blocks it
// holds many, so that unmatched data goes out in few LITERAL commands.
const minBuffer = 256 << 10

// readBudget bounds the bytes of the new file one Read consumes without output to show for
// them (a run of matching blocks is held back to be merged into one COPY): Read then
// returns (0, nil) and the caller comes back later, instead of hashing a whole identical
// file in one call.
const readBudget = 4 << 20

// Differ generates a delta of a new file against a signature. It is pull-based: Read
// yields delta bytes, ending with the END command and then io.EOF.
//
// It matches whole blocks only: the window of one block length slides over the new file
// one byte at a time; where its weak checksum and strong sum are those of a block of the
// basis, it emits COPY of that block (consecutive blocks merge into one COPY) and moves a
// whole block on; the bytes it slides over become LITERAL commands. A short last block of
// the basis is never matched, so the basis's tail is sent as literal data.
//
// Memory: the signature plus one buffer of max(2 blocks, 256 KiB), whatever the size of
// the new file. Read errors from the new file are wrapped and sticky. A Differ must not be
// used by several goroutines at once.
type Differ struct {
	sig *Signature
	r   io.Reader
	bl  int
	rk  bool   // Rabin-Karp, else the rollsum
	mn  uint32 // Rabin-Karp: M^bl; the rollsum: bl

	// A slice of the new file: the window is w.Buf[w.Pos:w.Pos+bl] when haveWin; the
	// pending literal run is w.Buf[w.Data:w.Pos].
	w       deltaio.Window
	haveWin bool
	h, s2   uint32 // Rabin-Karp hash, or the rollsum's s1 (h) and s2

	// One COPY held back to merge with the next adjacent one.
	pend             bool
	pendOff, pendLen uint64

	out deltaio.Out // undelivered output; w.Buf is not modified until it is delivered

	started bool // the delta magic has been emitted
	done    bool
	err     error
	work    int // bytes of the new file read during the current Read
}

// NewDiffer returns a Differ that reads newFile and yields its delta against sig. A nil sig
// makes Read fail.
func NewDiffer(sig *Signature, newFile io.Reader) *Differ {
	d := &Differ{sig: sig, r: newFile}
	if sig == nil {
		d.err = errors.New("librsync: nil signature")
		return d
	}
	d.bl = sig.p.BlockLen
	d.rk = sig.p.Magic == RKBlake2Magic
	if d.rk {
		d.mn = rkPow(d.bl)
	} else {
		d.mn = uint32(d.bl)
	}
	d.w.Buf = make([]byte, 0, max(2*d.bl, minBuffer))
	return d
}

// Read implements io.Reader. It returns io.EOF after the END command has been delivered.
// It may return (0, nil) after reading readBudget bytes of the new file without producing
// output: the delta is not finished, call again. The delta bytes are the same however the
// calls are split.
func (d *Differ) Read(p []byte) (int, error) {
	n := 0
	d.work = 0
	for n < len(p) {
		if !d.out.Delivered() {
			n += d.out.Drain(p[n:])
			continue
		}
		if d.done || d.err != nil || d.work >= readBudget {
			break
		}
		d.out.Reset()
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
		return 0, nil
	}
}

// step works until it has output, has finished, has failed or has spent its budget.
func (d *Differ) step() {
	if !d.started {
		d.started = true
		h := d.out.Alloc(deltaMagicSize)
		binary.BigEndian.PutUint32(h, DeltaMagic)
		d.out.Put(h)
		return
	}
	bl := d.bl
	for d.out.Empty() && !d.done && d.err == nil && d.work < readBudget {
		if d.w.Shift {
			d.w.MoveToFront()
		}
		if !d.haveWin {
			if !d.need(d.w.Pos + bl) {
				continue
			}
			win := d.w.Buf[d.w.Pos : d.w.Pos+bl]
			if d.rk {
				d.h = rkSum(win)
			} else {
				d.h, d.s2 = rollsum(win)
			}
			d.haveWin = true
			d.try(d.weak())
			continue
		}
		if !d.need(d.w.Pos + bl + 1) {
			continue
		}
		outs := d.w.Buf[d.w.Pos : len(d.w.Buf)-bl]
		ins := d.w.Buf[d.w.Pos+bl:]
		for len(outs) > 0 {
			var n int
			var hit bool
			if d.rk {
				n, hit, d.h = rollRK(outs, ins, d.h, d.mn, d.sig.filter, d.sig.filterShift)
			} else {
				n, hit, d.h, d.s2 = rollRS(outs, ins, d.h, d.s2, d.mn, d.sig.filter, d.sig.filterShift)
			}
			d.w.Pos += n
			if !hit || d.try(d.weak()) {
				break
			}
			outs, ins = outs[n:], ins[n:]
		}
	}
}

// weak returns the weak checksum of the window.
func (d *Differ) weak() uint32 {
	if d.rk {
		return d.h
	}
	return rollDigest(d.h, d.s2)
}

// try looks the window up and, when a block matches, emits the literal run before it and
// the COPY, and moves past the block. It reports whether it matched.
func (d *Differ) try(weak uint32) bool {
	f := mix(weak) >> d.sig.filterShift
	if d.sig.filter[f/64]&(1<<(f%64)) == 0 {
		return false
	}
	idx, ok := d.sig.find(weak, d.w.Buf[d.w.Pos:d.w.Pos+d.bl])
	if !ok {
		return false
	}
	d.emitLiteral(d.w.Buf[d.w.Data:d.w.Pos])
	d.addCopy(uint64(idx)*uint64(d.bl), uint64(d.bl))
	d.w.Pos += d.bl
	d.w.Data = d.w.Pos
	d.haveWin = false
	return true
}

// rollRK slides a Rabin-Karp window one byte at a time (outs[i] leaves, ins[i] enters) and
// stops after the first position whose hash passes the filter, or at the end of outs. It
// returns how far the window moved and the hash there.
func rollRK(outs, ins []byte, h, mn uint32, filter []uint64, fshift uint32) (int, bool, uint32) {
	ins = ins[:len(outs)]
	fshift &= 31
	adj := mn * rkAdjust
	for i := range outs {
		h = h*rkMult + uint32(ins[i]) - mn*uint32(outs[i]) - adj
		f := mix(h) >> fshift
		if filter[f/64]&(1<<(f%64)) != 0 {
			return i + 1, true, h
		}
	}
	return len(outs), false, h
}

// rollRS is rollRK for the rollsum; bl is the window length.
func rollRS(outs, ins []byte, s1, s2, bl uint32, filter []uint64, fshift uint32) (int, bool, uint32, uint32) {
	ins = ins[:len(outs)]
	fshift &= 31
	for i := range outs {
		o := uint32(outs[i]) + rollsumOffset
		s1 += uint32(ins[i]) + rollsumOffset - o
		s2 += s1 - bl*o
		f := mix(rollDigest(s1, s2)) >> fshift
		if filter[f/64]&(1<<(f%64)) != 0 {
			return i + 1, true, s1, s2
		}
	}
	return len(outs), false, s1, s2
}

// need makes buf hold at least n bytes. It returns false if that is not possible now: the
// caller must then loop, as need has produced output, finished the delta, or failed.
func (d *Differ) need(n int) bool {
	if n <= len(d.w.Buf) {
		return true
	}
	if n > cap(d.w.Buf) {
		// The buffer wraps: flush the literal run, then move the window to the
		// front, once the flushed bytes have been delivered.
		n -= d.w.Pos
		d.emitLiteral(d.w.Buf[d.w.Data:d.w.Pos])
		d.w.Data = d.w.Pos
		d.w.Shift = true
		if !d.out.Empty() {
			return false
		}
		d.w.MoveToFront()
	}
	added, err := d.w.Fill(d.r, n)
	d.work += len(added)
	if err != nil {
		d.err = fmt.Errorf("librsync: reading new file: %w", err)
		return false
	}
	if len(d.w.Buf) < n {
		d.finish()
		return false
	}
	return true
}

// finish emits what is left as literal data, the held-back COPY and END.
func (d *Differ) finish() {
	d.emitLiteral(d.w.Buf[d.w.Data:])
	d.writePending()
	h := d.out.Alloc(1)
	h[0] = opEnd
	d.out.Put(h)
	d.done = true
}

// emitLiteral emits a LITERAL command for lit, if not empty, after the held-back COPY.
func (d *Differ) emitLiteral(lit []byte) {
	if len(lit) == 0 {
		return
	}
	d.writePending()
	n := uint64(len(lit))
	if n <= opLiteralMax {
		h := d.out.Alloc(1)
		h[0] = byte(n)
		d.out.Put(h)
	} else {
		w := intWidth(n)
		h := d.out.Alloc(1 + widthBytes[w])
		h[0] = opLiteralN1 + byte(w)
		putInt(h[1:], n)
		d.out.Put(h)
	}
	d.out.Put(lit)
}

// addCopy merges a copy of the basis with the held-back one when adjacent.
func (d *Differ) addCopy(off, n uint64) {
	if d.pend && d.pendOff+d.pendLen == off {
		d.pendLen += n
		return
	}
	d.writePending()
	d.pend, d.pendOff, d.pendLen = true, off, n
}

// writePending emits the held-back COPY, if any.
func (d *Differ) writePending() {
	if !d.pend {
		return
	}
	d.pend = false
	wo, wl := intWidth(d.pendOff), intWidth(d.pendLen)
	h := d.out.Alloc(1 + widthBytes[wo] + widthBytes[wl])
	h[0] = opCopyN1N1 + byte(4*wo+wl)
	putInt(h[1:1+widthBytes[wo]], d.pendOff)
	putInt(h[1+widthBytes[wo]:], d.pendLen)
	d.out.Put(h)
}

// widthBytes is the size of an integer argument of width class w (prototab.c).
var widthBytes = [4]int{1, 2, 4, 8}

// intWidth returns the smallest width class that holds v.
func intWidth(v uint64) int {
	switch {
	case v <= 0xff:
		return 0
	case v <= 0xffff:
		return 1
	case v <= 0xffffffff:
		return 2
	}
	return 3
}

// putInt writes v big-endian into all of b (1, 2, 4 or 8 bytes).
func putInt(b []byte, v uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}

// getInt reads a big-endian integer of len(b) bytes.
func getInt(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}
