package pollfd

import (
	"io"
	"testing"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// BenchmarkWrite writes 64 KiB pieces into a pty master whose raw slave another
// goroutine drains, through a File and, as the baseline, through a blocking os.File
// (write(2) waits in the kernel until the whole piece is in).
func BenchmarkWrite(b *testing.B) {
	for _, mode := range []string{"pollfd", "blocking"} {
		b.Run(mode, func(b *testing.B) {
			ptmx, tty, err := pty.Open()
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = tty.Close() }()
			if _, err := term.MakeRaw(int(tty.Fd())); err != nil {
				b.Fatal(err)
			}
			var w io.Writer = ptmx
			if mode == "pollfd" {
				fd, err := unix.Dup(int(ptmx.Fd()))
				if err != nil {
					b.Fatal(err)
				}
				_ = ptmx.Close()
				f, err := New(fd)
				if err != nil {
					b.Fatal(err)
				}
				defer func() { _ = f.Close() }()
				w = f
			} else {
				defer func() { _ = ptmx.Close() }()
			}
			piece := make([]byte, 64<<10)
			for i := range piece {
				piece[i] = 'a' + byte(i%26)
			}
			total := int64(b.N) * int64(len(piece))
			drained := make(chan error, 1)
			go func() {
				_, err := io.CopyN(io.Discard, struct{ io.Reader }{tty}, total)
				drained <- err
			}()
			b.SetBytes(int64(len(piece)))
			b.ResetTimer()
			for range b.N {
				if _, err := w.Write(piece); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-drained; err != nil {
				b.Fatal(err)
			}
		})
	}
}
