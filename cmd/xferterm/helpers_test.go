package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
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
		// Near misses: other codes, longer codes, a code cut by another escape sequence.
		return []byte("\x1b]5112;x=y\x1b\\\x1b]51130;a\x07\x1b]51131\x07\x1b]511\x1b[0m\x1b]")
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
