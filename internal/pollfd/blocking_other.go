//go:build !linux || xferterm_portable

package pollfd

// blockingMin is the least Write that would make the descriptor blocking. Elsewhere than
// on Linux (whose tgkill(2) interrupts such a write), and on Linux with the build tag
// xferterm_portable, which tests this twin there, every Write stays non-blocking.
const blockingMin = 8 << 10

// blockingWrite is the portable twin of blocking_linux.go: writes never block.
type blockingWrite struct{}

func (f *File) writeBlocking([]byte) int { return 0 }
func (blockingWrite) init(int) error     { return nil }
func (blockingWrite) startRead() bool    { return true }
func (blockingWrite) endRead()           {}
func (blockingWrite) interrupt(int)      {}
func (blockingWrite) stop(int)           {}
