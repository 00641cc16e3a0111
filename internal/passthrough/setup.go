package passthrough

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
)

// Kind is the multiplexer the client's terminal belongs to.
type Kind uint8

// Kinds of multiplexer.
const (
	None   Kind = iota // no multiplexer, or not one directly around the client
	Tmux               // a tmux pane
	Screen             // a GNU screen window
)

func (k Kind) String() string {
	switch k {
	case Tmux:
		return "tmux"
	case Screen:
		return "screen"
	}
	return "none"
}

// Host is what Setup needs from the system, passed in so that tests need no
// multiplexer.
type Host struct {
	// Getenv reads the client's environment (TMUX, TMUX_PANE, STY).
	Getenv func(key string) string
	// SessionID is the client's session id (getsid(0)): the process id of the session
	// leader of its terminal, which in a tmux pane is the pane's first process.
	SessionID int
	// Run runs a tmux command (name is "tmux") and returns its standard output; its
	// error says what the command printed on its standard error.
	Run func(ctx context.Context, name string, args ...string) (string, error)
}

// Session is the multiplexer found by Setup, with the change Setup made to it.
type Session struct {
	kind    Kind
	host    Host
	pane    string   // tmux: $TMUX_PANE
	checked bool     // tmux: tmux answered about the pane (its option is known to be on)
	undo    []string // tmux arguments that put allow-passthrough back; nil: nothing to undo
	once    sync.Once
	err     error
}

// ErrNested is wrapped by the error of Setup when the client's terminal is inside more
// than one multiplexer, through which its sequences cannot reach the terminal.
var ErrNested = errors.New("passthrough: nested terminal multiplexers")

// Setup finds the multiplexer the client runs in and, for tmux 3.3 and later, turns its
// pane's allow-passthrough option on unless it is already on ("on" or "all"). It fails,
// with an error that says what to change, where the sequences could not get through:
// tmux and screen both around the client, a tmux session that no terminal is attached
// to, a tmux older than 1.5. On success the caller must call Restore once the transfer
// is over, whatever its outcome, and should Probe before it.
//
// The client is inside tmux when $TMUX is set and its terminal is the pane $TMUX_PANE's
// (the pane's first process leads the client's session); a $TMUX without that (a program
// with its own pseudo-terminal in between, such as xferterm itself) means no
// multiplexer. It is inside screen when $STY is set. A tmux that cannot be run or asked
// (not on PATH) is taken to be around the client with its passthrough on, as it is when
// a configuration turns it on for every pane: Probe finds out.
func Setup(ctx context.Context, h Host) (*Session, error) {
	tmux, sty := h.Getenv("TMUX"), h.Getenv("STY")
	switch {
	case tmux == "" && sty == "":
		return &Session{kind: None}, nil
	case tmux == "":
		return &Session{kind: Screen}, nil
	}
	s := &Session{kind: Tmux, host: h, pane: h.Getenv("TMUX_PANE")}
	if s.pane == "" {
		return nil, errors.New("passthrough: $TMUX is set but $TMUX_PANE is not: run xferterm transfer in a shell of a tmux pane, or unset TMUX if this shell is not in tmux")
	}
	info, err := s.tmux(ctx, "display-message", "-p", "-t", s.pane, "#{pane_pid}\t#{session_attached}\t#{version}")
	if err != nil {
		if sty != "" {
			return nil, fmt.Errorf("%w: $TMUX and $STY are both set, and tmux cannot be asked which one this shell is in (%w): run xferterm transfer where tmux is on PATH, or unset the one this shell is not in", ErrNested, err)
		}
		return s, nil // Probe decides.
	}
	s.checked = true
	fields := strings.Split(strings.TrimRight(info, "\n"), "\t")
	for len(fields) < 3 {
		fields = append(fields, "")
	}
	if pid, err := strconv.Atoi(fields[0]); err != nil || pid != h.SessionID {
		if sty != "" {
			return nil, fmt.Errorf("%w: this shell is inside GNU screen ($STY=%s), and screen runs inside tmux ($TMUX is set): tmux would swallow what screen passes on; run xferterm transfer in a tmux pane outside screen, or in a screen session outside tmux (or unset TMUX if screen is not inside tmux)", ErrNested, sty)
		}
		return &Session{kind: None}, nil // Something with its own terminal sits in between.
	}
	if sty != "" {
		return nil, fmt.Errorf("%w: this shell is in a tmux pane, and $STY=%s says tmux may run inside GNU screen, which would swallow what tmux passes on; run xferterm transfer in a tmux attached from a plain terminal or in a screen window outside tmux (or unset STY if tmux is not inside screen)", ErrNested, sty)
	}
	if n, err := strconv.Atoi(fields[1]); err == nil && n == 0 {
		return nil, errors.New("passthrough: the tmux session of this pane is not attached to any terminal, so nothing would receive the transfer: attach it (tmux attach) and run xferterm transfer again")
	}
	version := fields[2]
	if version == "" {
		if v, err := s.tmux(ctx, "-V"); err == nil {
			version = strings.TrimPrefix(strings.TrimSpace(v), "tmux ")
		}
	}
	if major, minor, ok := parseVersion(version); ok && (major < 1 || major == 1 && minor < 5) {
		return nil, fmt.Errorf("passthrough: tmux %s cannot pass escape sequences to the terminal (tmux 1.5 or later can): upgrade tmux, or run xferterm transfer outside tmux", version)
	}
	if err := s.enable(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// enable turns the pane's allow-passthrough on, remembering how to undo it. A tmux that
// does not know the option (before 3.3) passes the strings anyway.
func (s *Session) enable(ctx context.Context) error {
	cur, err := s.tmux(ctx, "show-options", "-A", "-p", "-v", "-t", s.pane, "allow-passthrough")
	if err != nil {
		return nil // No such option (or no -A, -p): tmux before 3.3, which always passes.
	}
	if v := strings.TrimSpace(cur); v == "on" || v == "all" {
		return nil
	}
	local, err := s.tmux(ctx, "show-options", "-p", "-v", "-t", s.pane, "allow-passthrough")
	if err != nil {
		return fmt.Errorf("passthrough: cannot read tmux's allow-passthrough of pane %s (%w): turn it on with `tmux set -g allow-passthrough on` and run xferterm transfer again", s.pane, err)
	}
	undo := []string{"set-option", "-p", "-t", s.pane, "-u", "allow-passthrough"}
	if v := strings.TrimSpace(local); v != "" {
		undo = []string{"set-option", "-p", "-t", s.pane, "allow-passthrough", v}
	}
	if _, err := s.tmux(ctx, "set-option", "-p", "-t", s.pane, "allow-passthrough", "on"); err != nil {
		return fmt.Errorf("passthrough: cannot turn on tmux's allow-passthrough for pane %s (%w): turn it on with `tmux set -g allow-passthrough on` and run xferterm transfer again", s.pane, err)
	}
	s.undo = undo
	return nil
}

func (s *Session) tmux(ctx context.Context, args ...string) (string, error) {
	return s.host.Run(ctx, "tmux", args...)
}

// Kind is the multiplexer found.
func (s *Session) Kind() Kind { return s.kind }

// Wrap returns w wrapped for the multiplexer (see NewWriter).
func (s *Session) Wrap(w io.Writer) io.Writer { return NewWriter(w, s.kind) }

// ErrScreenReceive is returned by CheckReceive inside GNU screen.
var ErrScreenReceive = errors.New("passthrough: GNU screen cannot carry a receive: it drops input that does not fit its 4 KiB buffer for the window at once, and the terminal sends file data as fast as it can; run xferterm transfer --direction receive outside screen (in a plain shell, or in tmux), or send from the other side instead")

// CheckReceive reports whether the terminal can send files to the client through the
// multiplexer (the receive direction): not through GNU screen, which drops what it
// cannot pass on to the window at once (screen 4.9 keeps 4 KiB of input per window);
// the bulk of a receive is the terminal's data, sent as fast as the connection takes it.
func (s *Session) CheckReceive() error {
	if s.kind == Screen {
		return ErrScreenReceive
	}
	return nil
}

// ErrScreenDeltas is returned by CheckSend for a send with deltas inside GNU screen.
var ErrScreenDeltas = errors.New("passthrough: deltas (--transmit-deltas) cannot work inside GNU screen: the terminal sends the signature of its copy as a burst of data, and screen drops what does not fit its buffer for the window; send without --transmit-deltas, or from outside screen")

// CheckSend reports whether a send can work through the multiplexer: not with deltas
// through GNU screen (see ErrScreenDeltas).
func (s *Session) CheckSend(deltas bool) error {
	if s.kind == Screen && deltas {
		return ErrScreenDeltas
	}
	return nil
}

// Flow control a send needs through each multiplexer (client.Options).
const (
	// TmuxSendWindow bounds the file data a send has written and the terminal has not
	// yet reported written. tmux takes everything the pane writes at once and holds what
	// the terminal has not read: without a bound, a slow link makes it hold the whole
	// file in memory (measured: 66 MB held for a 48 MiB file while ssh was stopped), and
	// a cancel waits behind all of it. 8 MiB is far more than a link holds in flight, and
	// more than the terminal may lag behind without a loss (PROGRESS every 64 KiB, zlib
	// and rsync buffers), which the client's stall probe relies on.
	TmuxSendWindow = 8 << 20
	// ScreenInput is the most input GNU screen 4.9 keeps for a window that is not
	// reading (measured: 16 KiB; the rest is dropped).
	ScreenInput = 16 << 10
	// ScreenReplyBudget bounds the estimated bytes of replies a send may have provoked
	// and not read: half of ScreenInput, for the PROGRESS replies and keys meanwhile.
	ScreenReplyBudget = ScreenInput / 2
)

// Changed reports whether Setup changed the multiplexer's settings, which Restore
// will put back.
func (s *Session) Changed() bool { return s.undo != nil }

// Restore puts back what Setup changed (tmux's allow-passthrough of the pane, as it
// was: unset, or set to its old value). Only the first call does anything; later ones
// return its result. It uses ctx for the tmux command: pass one that has not been
// canceled by the signal that ends the transfer.
func (s *Session) Restore(ctx context.Context) error {
	s.once.Do(func() {
		if s.undo == nil {
			return
		}
		if _, err := s.tmux(ctx, s.undo...); err != nil {
			s.err = fmt.Errorf("passthrough: could not restore tmux's allow-passthrough of pane %s (%w): it is still on; `tmux %s` restores it", s.pane, err, strings.Join(s.undo, " "))
		}
	})
	return s.err
}

// parseVersion reads "3.3a", "next-3.4" or "3.4-rc" as (3, 3), (3, 4), (3, 4); ok is
// false when s has no major.minor number (OpenBSD's "openbsd-7.4" is read as 7.4, which
// is newer than any limit here, as its tmux is).
func parseVersion(s string) (major, minor int, ok bool) {
	i := strings.IndexAny(s, "0123456789")
	if i < 0 {
		return 0, 0, false
	}
	s = s[i:]
	dot := strings.IndexByte(s, '.')
	if dot < 0 {
		return 0, 0, false
	}
	major, err := strconv.Atoi(s[:dot])
	if err != nil {
		return 0, 0, false
	}
	rest := s[dot+1:]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	minor, err = strconv.Atoi(rest[:j])
	if err != nil {
		return 0, 0, false
	}
	return major, minor, true
}
