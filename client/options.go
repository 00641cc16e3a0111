package client

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/xferterm/xferterm/transfer"
)

// ParseDirection accepts the real client's names for the directions
// (reference-client.md §1): send or download is transfer.Send (files go from this host
// to the terminal's machine; the client sends ac=send), receive or upload is
// transfer.Receive (files come from the terminal's machine; ac=receive).
func ParseDirection(s string) (transfer.Direction, error) {
	switch s {
	case "send", "download":
		return transfer.Send, nil
	case "receive", "upload":
		return transfer.Receive, nil
	}
	return 0, fmt.Errorf("client: unknown direction %q (want send or receive)", s)
}

// Compress is the compression policy.
type Compress uint8

// Compression policies (reference-client.md §1): Auto compresses regular files over
// 4096 bytes whose extension is not already compressed; Always drops the extension
// test; Never disables zlib.
const (
	CompressAuto Compress = iota
	CompressAlways
	CompressNever
)

func (c Compress) String() string {
	switch c {
	case CompressAlways:
		return "always"
	case CompressNever:
		return "never"
	}
	return "auto"
}

// ParseCompress parses auto, always or never.
func ParseCompress(s string) (Compress, error) {
	switch s {
	case "auto":
		return CompressAuto, nil
	case "always":
		return CompressAlways, nil
	case "never":
		return CompressNever, nil
	}
	return 0, fmt.Errorf("client: unknown compression %q (want auto, always or never)", s)
}

// Mode is how arguments map to paths.
type Mode uint8

// Modes (reference-client.md §1): Normal takes the last argument as the destination;
// Mirror sends every argument to the same path on the other side, with paths under
// HOME mapped to the other side's HOME.
const (
	Normal Mode = iota
	Mirror
)

func (m Mode) String() string {
	if m == Mirror {
		return "mirror"
	}
	return "normal"
}

// ParseMode parses normal or mirror.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "normal":
		return Normal, nil
	case "mirror":
		return Mirror, nil
	}
	return 0, fmt.Errorf("client: unknown mode %q (want normal or mirror)", s)
}

// Defaults of Options.
const (
	DefaultTimeout    = 2 * time.Minute
	DefaultCancelWait = 5 * time.Second
)

// Options configure Run.
type Options struct {
	// Direction is transfer.Send or transfer.Receive; the zero value means Send, the
	// real client's default.
	Direction      transfer.Direction
	Compress       Compress
	Mode           Mode
	TransmitDeltas bool
	// ConfirmPaths (--confirm-paths) makes a send session stop once the terminal has
	// answered every file command, show on the tty where each file will go, and wait
	// for the user to type y (go on) or n (cancel) before any data is sent. The real
	// client offers it in the send direction only (reference-client.md §1); a receive
	// session ignores it.
	ConfirmPaths bool

	// SendWindow, when positive, bounds the file data a send has written that the
	// terminal has not yet reported written (PROGRESS, OK): beyond it the client waits.
	// Inside tmux, which takes everything the pane writes at once and holds what the
	// terminal has not read, this bounds what tmux holds. A window that stays full is
	// probed; data found lost on the way fails its files at once (pacing.go). 0: no
	// limit, the pty's backpressure is enough.
	SendWindow int64
	// ReplyBudget, when positive, bounds the bytes of statuses a send may have provoked
	// and not yet read, as estimated from its commands: further file commands and
	// end_data wait for answers. Inside GNU screen, which drops input it cannot pass on
	// to the window at once. 0: no limit.
	ReplyBudget int

	// Args are the command-line paths: sources then, in Normal mode, the destination.
	Args []string

	// SessionID is the session id; "" means NewSessionID(os.Getpid()).
	SessionID string

	// Password, when not empty, is sent as a kitty-1 bypass encrypted for PublicKey (the
	// value of KITTY_PUBLIC_KEY) with EncodeBypass. Without a PublicKey Run refuses to
	// start: the password is never sent in the clear.
	Password  string
	PublicKey string
	// EncodeBypass returns the pw value before base64 ("kitty-1:{…}"); it is
	// bypass.EncodeKitty1, injected so that this package does not depend on bypass.
	EncodeBypass func(pubEnv, id, password string, now time.Time) (string, error)

	// Timeout bounds every wait for the terminal: for the answer to send/receive (which
	// may wait for a human), and later for any sign of progress (a reply, or a write the
	// terminal accepted), but not while the ConfirmPaths question waits for the user.
	// 0 means DefaultTimeout.
	Timeout time.Duration
	// CancelWait is how long a cancel waits for CANCELED. 0 means DefaultCancelWait.
	CancelWait time.Duration

	// Progress chooses the display: ProgressNone, ProgressTTY (redrawn in place on the
	// tty) or ProgressLines (plain lines written to Stdout).
	Progress ProgressMode
	// Stdout receives the lines of ProgressLines and the final summary line when the
	// display is not on the tty. nil means io.Discard.
	Stdout io.Writer
	// Width returns the tty width in cells for ProgressTTY; nil means 80.
	Width func() int

	// Home is this host's home directory (for ~ and Mirror mode); "" means $HOME.
	Home string
	// Cwd resolves relative local paths; "" means the process working directory.
	Cwd string
	// Now is the clock for mtimes in the bypass and the display; nil means time.Now.
	Now func() time.Time
}

// ErrUsage is wrapped by errors about the arguments.
var ErrUsage = errors.New("client: usage")

func (o *Options) withDefaults() {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.CancelWait <= 0 {
		o.CancelWait = DefaultCancelWait
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Width == nil {
		o.Width = func() int { return 80 }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}
