package passthrough

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xferterm/xferterm/internal/termtext"
	"github.com/xferterm/xferterm/scanner"
)

// DefaultProbeWait bounds the wait for the answers to a probe. A terminal answers within
// a round trip; a multiplexer in between answers at once what it answers itself.
const DefaultProbeWait = 3 * time.Second

// Errors of Probe.
var (
	// ErrUnreachable is wrapped by the error of Probe when nothing answered, or when
	// another multiplexer answered instead of the terminal.
	ErrUnreachable = errors.New("passthrough: the transfer's codes do not reach the terminal")
	// ErrInterrupted is returned by Probe when the user typed Ctrl+C meanwhile.
	ErrInterrupted = errors.New("passthrough: interrupted")
)

// Probe finds out, before the transfer starts, whether what the client writes through
// the multiplexer reaches a terminal that speaks the protocol, so that a transfer that
// cannot work fails at once instead of waiting for its timeout. It writes, wrapped like
// the protocol's codes:
//
//   - a cancel for the session id (one the terminal has no session for), which
//     xferterm's terminal side answers CANCELED;
//   - XTVERSION (CSI > q), which most terminals and tmux answer with their name;
//   - DA1 (CSI c), which every terminal and every multiplexer answers, last.
//
// It reads tty until the DA1 answer arrives, wait passes, or the user types Ctrl+C
// (ErrInterrupted), and dropping the answers it reads, so that none reaches the shell.
// The codes get through when the cancel is answered, or when the DA1 answer comes from
// something that is not a multiplexer: kitty's terminal side does not answer the cancel,
// and kitty names itself in XTVERSION. When a multiplexer answers (XTVERSION names tmux,
// or DA1 is the VT100 answer of tmux and GNU screen with no XTVERSION), the codes went to
// a multiplexer around this one, which swallows OSC 5113 (nested multiplexers, which the
// environment does not show). When nothing answers, nothing gets through. Both fail with
// an error wrapping ErrUnreachable that says what to change. For None, Probe does
// nothing. It leaves tty without a read deadline.
func (s *Session) Probe(tty DeadlineReadWriter, id string, wait time.Duration) error {
	if s.kind == None {
		return nil
	}
	a := newAnswers(id)
	if _, err := tty.Write(s.probeQuery(id)); err != nil {
		return fmt.Errorf("passthrough: probe: %w", err)
	}
	if err := tty.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return fmt.Errorf("passthrough: probe: %w", err)
	}
	defer func() { _ = tty.SetReadDeadline(time.Time{}) }() // Best effort: leave it usable.
	buf := make([]byte, 4096)
	for !a.da1 && !a.interrupted {
		n, err := tty.Read(buf)
		a.Write(buf[:n])
		if err != nil {
			break // The deadline, or a broken tty: decided below with what arrived.
		}
	}
	if a.interrupted {
		return ErrInterrupted
	}
	return s.verdict(a, wait)
}

// probeQuery is the cancel, XTVERSION and DA1, wrapped in one passthrough string. The
// cancel ends with BEL, which the terminal side accepts and screen needs.
func (s *Session) probeQuery(id string) []byte {
	body := []byte(introducer + "id=" + id + ";ac=cancel\a" + "\x1b[>0q" + "\x1b[c")
	if s.kind == Screen {
		return appendScreenStrings(nil, body)
	}
	return appendTmuxString(nil, body)
}

// verdict decides from the answers a probe got.
func (s *Session) verdict(a *answers, wait time.Duration) error {
	name := s.kind.String()
	if s.kind == Screen {
		name = "GNU screen"
	}
	switch {
	case a.canceled:
		return nil
	case !a.da1:
		if s.kind == Tmux && !s.checked {
			return fmt.Errorf("%w: nothing answered through tmux within %v. tmux could not be asked about its allow-passthrough option (is tmux on PATH?), and it seems to be off: put tmux on PATH, or turn it on with `tmux set -g allow-passthrough on` (and in ~/.tmux.conf), and run xferterm transfer again", ErrUnreachable, wait)
		}
		return fmt.Errorf("%w: nothing answered through %s within %v: %s runs inside another terminal multiplexer (which swallows them), or no terminal is attached; run xferterm transfer in a shell of the outer multiplexer, or outside both", ErrUnreachable, name, wait, name)
	case multiplexerVersion(a.version):
		return fmt.Errorf("%w: %s answered instead of a terminal that speaks the transfer protocol: %s runs inside it (nested multiplexers), and it swallows the codes. Run xferterm transfer in a shell of the outer one, or outside both. (If the terminal you sit at is that multiplexer: start the session with `xferterm -- ssh …` there; an xferterm older than this client does not answer this check: update it.)", ErrUnreachable, termtext.Sanitize(a.version), name)
	case a.version == "" && a.da1Params == vt100DA1:
		return fmt.Errorf("%w: a multiplexer (GNU screen?) answered instead of a terminal that speaks the transfer protocol: %s runs inside it (nested multiplexers), and it swallows the codes. Run xferterm transfer in a shell of the outer one, or outside both", ErrUnreachable, name)
	}
	return nil // A terminal answered; kitty does not answer the cancel.
}

// vt100DA1 is the DA1 answer of tmux and GNU screen: a VT100 with advanced video.
const vt100DA1 = "?1;2"

// multiplexerVersion reports whether an XTVERSION answer names a multiplexer.
func multiplexerVersion(v string) bool {
	v = strings.ToLower(v)
	return strings.HasPrefix(v, "tmux") || strings.HasPrefix(v, "screen")
}

// Limits of the answers a probe reads.
const (
	maxAnswer  = 256 // bytes of a DCS or CSI answer looked into; longer ones are skipped
	maxVersion = 128 // bytes of an XTVERSION text kept
)

// answers reads the terminal's answers to a probe from a byte stream in pieces of any
// size: OSC 5113 replies through a scanner, and in the rest XTVERSION (DCS > | text ST),
// DA1 (CSI ? params c) and Ctrl+C (0x03 outside a sequence). Everything else is dropped.
// It keeps at most maxAnswer bytes.
type answers struct {
	id string
	sc *scanner.Scanner

	canceled    bool   // CANCELED for id
	version     string // XTVERSION text, "" when none came
	da1         bool   // a DA1 answer came
	da1Params   string // its parameters, "?" first
	interrupted bool   // Ctrl+C

	state probeState
	seq   []byte // the DCS or CSI being read, up to maxAnswer bytes
	long  bool   // it is longer: skipped
}

// probeState is where the byte stream outside OSC 5113 stands.
type probeState uint8

const (
	inGround    probeState = iota
	inEscape               // after ESC
	inCSI                  // ESC [ …
	inDCS                  // ESC P …
	inDCSEscape            // ESC P … ESC
	inOSC                  // ESC ] … (other than 5113)
	inOSCEscape            // ESC ] … ESC
)

func newAnswers(id string) *answers {
	a := &answers{id: id, seq: make([]byte, 0, maxAnswer)}
	a.sc = scanner.New(rest{a}, a.reply, 0)
	return a
}

// Write takes the next bytes read from the tty. It never fails.
func (a *answers) Write(p []byte) (int, error) {
	_, _ = a.sc.Write(p) // rest never fails.
	return len(p), nil
}

// reply takes one OSC 5113 payload.
func (a *answers) reply(p []byte, err error) {
	if err != nil {
		return
	}
	c, err := scanner.Parse(p)
	if err == nil && c.ID == a.id && c.Action == scanner.ActionStatus && c.Status == scanner.StatusCanceled {
		a.canceled = true
	}
}

// rest receives the bytes outside OSC 5113 sequences.
type rest struct{ a *answers }

func (r rest) Write(p []byte) (int, error) {
	for _, b := range p {
		r.a.step(b)
	}
	return len(p), nil
}

// step moves the recognizer by one byte.
func (a *answers) step(b byte) {
	switch a.state {
	case inGround:
		switch b {
		case 0x03:
			a.interrupted = true
		case esc:
			a.state = inEscape
		}
	case inEscape:
		a.seq, a.long = a.seq[:0], false
		switch b {
		case '[':
			a.state = inCSI
		case 'P':
			a.state = inDCS
		case ']':
			a.state = inOSC
		case esc:
		default:
			a.state = inGround
		}
	case inCSI:
		switch {
		case b >= 0x40 && b <= 0x7e: // final byte
			if b == 'c' && !a.long && len(a.seq) > 0 && a.seq[0] == '?' {
				a.da1, a.da1Params = true, string(a.seq)
			}
			a.state = inGround
		case b >= 0x20 && b <= 0x3f:
			a.add(b)
		default: // a control byte cuts the sequence
			a.state = inGround
			a.step(b)
		}
	case inDCS:
		if b == esc {
			a.state = inDCSEscape
		} else {
			a.add(b)
		}
	case inDCSEscape:
		if b == '\\' {
			if !a.long && len(a.seq) >= 2 && a.seq[0] == '>' && a.seq[1] == '|' {
				a.version = string(a.seq[2:min(len(a.seq), 2+maxVersion)])
			}
			a.state = inGround
			return
		}
		a.state = inEscape
		a.step(b)
	case inOSC:
		switch b {
		case bel:
			a.state = inGround
		case esc:
			a.state = inOSCEscape
		}
	case inOSCEscape:
		if b == '\\' {
			a.state = inGround
			return
		}
		a.state = inEscape
		a.step(b)
	}
}

// add appends b to the sequence being read, up to maxAnswer bytes.
func (a *answers) add(b byte) {
	if len(a.seq) == maxAnswer {
		a.long = true
		return
	}
	a.seq = append(a.seq, b)
}
