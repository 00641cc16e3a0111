package proxy

import (
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
)

// notifySignals subscribes to the signals Run handles and returns the channel and the
// function that unsubscribes:
//
//   - SIGWINCH: the terminal was resized; the child gets the new size.
//   - SIGHUP, SIGTERM, SIGINT, SIGQUIT end xferterm (see isEndSignal). SIGQUIT is
//     among them because Go's default for it (a goroutine dump, exit 2) would skip
//     restoring the terminal.
//   - SIGPIPE is caught so that a write to a closed stdout returns EPIPE, which Run
//     handles as a failed terminal, instead of killing the process with the terminal
//     still raw.
func notifySignals() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, unix.SIGWINCH, unix.SIGPIPE, unix.SIGHUP, unix.SIGTERM, unix.SIGINT, unix.SIGQUIT)
	return ch, func() { signal.Stop(ch) }
}

// isEndSignal reports whether sig ends xferterm: it is forwarded to the child, the child
// is hung up, and Run returns 128+N.
func isEndSignal(sig os.Signal) bool {
	switch sig {
	case unix.SIGHUP, unix.SIGTERM, unix.SIGINT, unix.SIGQUIT:
		return true
	}
	return false
}
