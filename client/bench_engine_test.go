package client_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/xferterm/xferterm/client"
	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// benchFileSize is the size of the file each in-process benchmark iteration moves.
const benchFileSize = 64 << 20

// runBenchEngine wires the client to a real fs.Engine through pipes the way the proxy
// does (scanner → HandlePayload; Pull → the client's input), without the checks of
// runEngine, and runs one transfer.
func runBenchEngine(b *testing.B, home string, opts client.Options) {
	e, err := fs.NewEngine(fs.Config{Home: home, Approver: allow})
	if err != nil {
		b.Fatal(err)
	}
	cr, tw := io.Pipe() // engine → client
	tr, cw := io.Pipe() // client → engine
	pumpDone := make(chan struct{})
	go func() {
		defer close(pumpDone)
		sc := scanner.New(io.Discard, func(p []byte, err error) {
			if err == nil {
				_ = e.HandlePayload(p)
			}
		}, 0)
		buf := make([]byte, 64<<10)
		_, _ = io.CopyBuffer(sc, tr, buf)
	}()
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		ptyWriter(e, tw, stop)
	}()
	err = client.Run(b.Context(), pipeTTY{cr, cw}, opts)
	_ = cw.Close()
	<-pumpDone
	close(stop)
	_ = tw.Close()
	<-writerDone
	_ = e.Close()
	_ = tr.Close()
	_ = cr.Close()
	if err != nil {
		b.Fatal(err)
	}
}

func benchEngine(b *testing.B, dir transfer.Direction, content string, compress client.Compress) {
	remote, home := b.TempDir(), b.TempDir()
	src := filepath.Join(remote, "src.bin")
	if dir == transfer.Receive {
		src = filepath.Join(home, "src.bin")
	}
	if err := os.WriteFile(src, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(content)))
	i := 0
	for b.Loop() {
		i++
		dst := filepath.Join(home, "dst.bin")
		if dir == transfer.Receive {
			dst = filepath.Join(remote, "dst.bin")
		}
		runBenchEngine(b, home, client.Options{Direction: dir, Compress: compress,
			Args: []string{src, dst}, Home: remote, Cwd: remote, Progress: client.ProgressNone})
		b.StopTimer()
		_ = os.Remove(dst)
		b.StartTimer()
	}
}

// BenchmarkEngineTransfer moves a 64 MiB file between the client and a real engine in
// this process, through pipes: the CPU cost of both ends without a pty or ssh.
func BenchmarkEngineTransfer(b *testing.B) {
	random := randomData(7, benchFileSize)
	text := textData(benchFileSize)
	for _, tc := range []struct {
		name     string
		dir      transfer.Direction
		content  string
		compress client.Compress
	}{
		{"send/random", transfer.Send, random, client.CompressAuto},
		{"send/random-nozlib", transfer.Send, random, client.CompressNever},
		{"send/text", transfer.Send, text, client.CompressAuto},
		{"receive/random", transfer.Receive, random, client.CompressAuto},
		{"receive/random-nozlib", transfer.Receive, random, client.CompressNever},
		{"receive/text", transfer.Receive, text, client.CompressAuto},
	} {
		b.Run(tc.name, func(b *testing.B) { benchEngine(b, tc.dir, tc.content, tc.compress) })
	}
}
