package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// streamBlock is the size of the block a stream repeats: generating all of a large
// stream would be slow under the race detector. It is odd, so that block boundaries fall
// everywhere relative to the 64 KiB writes.
const streamBlock = 1<<20 + 4099

// stream repeats one block of gen output.
type stream struct {
	block []byte
	off   int
}

func newStream() *stream {
	b := make([]byte, streamBlock)
	newGen(1).fill(b)
	return &stream{block: b}
}

func (s *stream) fill(p []byte) {
	for len(p) > 0 {
		n := copy(p, s.block[s.off:])
		p, s.off = p[n:], (s.off+n)%len(s.block)
	}
}

// gen produces a deterministic stream of terminal-like output: text, UTF-8, CSI, OSC
// other than 5113 (titles, hyperlinks, clipboard, 5112, near misses of 5113), DCS and
// raw bytes. It never contains an OSC 5113 introducer.
type gen struct {
	rng  *rand.Rand
	pend []byte
}

func newGen(seed uint64) *gen { return &gen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

func (g *gen) fill(p []byte) {
	for len(p) > 0 {
		if len(g.pend) == 0 {
			g.pend = g.piece()
		}
		n := copy(p, g.pend)
		p, g.pend = p[n:], g.pend[n:]
	}
}

func (g *gen) piece() []byte {
	r := g.rng
	switch r.IntN(12) {
	case 0, 1, 2:
		return fmt.Appendf(nil, "line %d of plain text, some words here and there\r\n", r.IntN(1e6))
	case 3:
		return []byte("héllo wörld ✓ 日本語 🙂 ñ\r\n")
	case 4:
		return fmt.Appendf(nil, "\x1b[%d;%dm", r.IntN(108), r.IntN(50))
	case 5:
		return fmt.Appendf(nil, "\x1b[%d;%dH\x1b[K\x1b[?25l\x1b[?2026h", r.IntN(50), r.IntN(200))
	case 6:
		return fmt.Appendf(nil, "\x1b]0;title %d\x07\x1b]8;;https://example.com/%d\x1b\\link\x1b]8;;\x1b\\", r.IntN(100), r.IntN(100))
	case 7:
		return fmt.Appendf(nil, "\x1b]52;c;%x\x07", r.Uint64())
	case 8:
		// Near misses: another code, a longer code, no ';', a cut introducer.
		return []byte("\x1b]5112;x=y\x1b\\\x1b]51130;a\x07\x1b]5113x\x07\x1b]511\x1b[0m\x1b]")
	case 9:
		return []byte("\x1bP+q544e\x1b\\\x1b_Gf=100;AAAA\x1b\\")
	case 10:
		b := make([]byte, 64)
		for i := range b {
			if b[i] = byte(r.Uint32()); b[i] == 0x1b {
				b[i] = 'x'
			}
		}
		return b
	default:
		return []byte(strings.Repeat("─", r.IntN(40)) + "\r\n")
	}
}

// outBuf collects what the terminal shows.
type outBuf struct {
	mu   sync.Mutex
	cond *sync.Cond
	b    []byte
	err  error
}

func newOutBuf() *outBuf {
	o := &outBuf{}
	o.cond = sync.NewCond(&o.mu)
	return o
}

func (o *outBuf) grow(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.b = append(make([]byte, 0, n+64<<10), o.b...)
}

func (o *outBuf) readFrom(r io.Reader) {
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		o.mu.Lock()
		o.b = append(o.b, buf[:n]...)
		if err != nil {
			o.err = err
		}
		o.cond.Broadcast()
		o.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (o *outBuf) waitFor(t *testing.T, what string, cond func([]byte) bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	timer := time.AfterFunc(waitTimeout, func() {
		o.mu.Lock()
		o.cond.Broadcast()
		o.mu.Unlock()
	})
	defer timer.Stop()
	o.mu.Lock()
	defer o.mu.Unlock()
	for !cond(o.b) {
		if o.err != nil || time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v; output so far %q", what, o.err, tailOf(o.b, 500))
		}
		o.cond.Wait()
	}
}

func (o *outBuf) waitForString(t *testing.T, s string) {
	t.Helper()
	o.waitFor(t, strconv.Quote(s), func(b []byte) bool { return bytes.Contains(b, []byte(s)) })
}

func (o *outBuf) bytes() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b
}

func (o *outBuf) tail(n int) []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return bytes.Clone(tailOf(o.b, n))
}

func tailOf(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
