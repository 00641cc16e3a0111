package client_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/xferterm/xferterm/client"
	"github.com/xferterm/xferterm/scanner"
)

// watchdog bounds every test run of the client: a hang fails the test instead of
// blocking the suite.
const watchdog = 20 * time.Second

// pipeTTY is the client's end of an in-memory terminal.
type pipeTTY struct {
	io.Reader
	io.Writer
}

// terminal is the far end of the in-memory tty: it reads what the client writes,
// extracts the OSC 5113 payloads and passes each to a handler, which answers with
// write. It records every payload the client sent.
type terminal struct {
	t          *testing.T
	fromClient *io.PipeReader
	toClient   *io.PipeWriter

	mu       sync.Mutex // guards payloads and text
	payloads []string
	text     []byte // pass-through bytes (the progress display)

	// onText, if set (by start), is called in the terminal goroutine with all the
	// pass-through text so far, after each piece of it.
	onText func(tm *terminal, text []byte)
}

// write sends raw bytes to the client. Errors after the client is gone are ignored.
func (tm *terminal) write(b []byte) { _, _ = tm.toClient.Write(b) }

// reply sends a reply the way the terminal side serializes one.
func (tm *terminal) reply(c scanner.Command) { tm.write(c.AppendOSC(nil)) }

// Payloads returns the OSC 5113 payloads the client has written so far.
func (tm *terminal) Payloads() []string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return append([]string(nil), tm.payloads...)
}

type textSink struct{ tm *terminal }

func (s textSink) Write(p []byte) (int, error) {
	s.tm.mu.Lock()
	s.tm.text = append(s.tm.text, p...)
	text := append([]byte(nil), s.tm.text...)
	s.tm.mu.Unlock()
	if s.tm.onText != nil {
		s.tm.onText(s.tm, text)
	}
	return len(p), nil
}

// runWith runs the client against a terminal whose handler is called for each payload
// (in the terminal's goroutine), and returns Run's error. start, if not nil, runs in
// the terminal goroutine before it reads anything.
func runWith(t *testing.T, opts client.Options, start func(tm *terminal), handle func(tm *terminal, payload []byte)) (*terminal, error) {
	t.Helper()
	return runWithContext(t, t.Context(), opts, start, handle)
}

// runWithContext is runWith with the context given to Run.
func runWithContext(t *testing.T, ctx context.Context, opts client.Options, start func(tm *terminal), handle func(tm *terminal, payload []byte)) (*terminal, error) {
	t.Helper()
	cr, tw := io.Pipe() // terminal → client
	tr, cw := io.Pipe() // client → terminal
	tm := &terminal{t: t, fromClient: tr, toClient: tw}
	termDone := make(chan struct{})
	go func() {
		defer close(termDone)
		if start != nil {
			start(tm)
		}
		sc := scanner.New(textSink{tm}, func(p []byte, err error) {
			if err != nil {
				t.Errorf("client wrote a broken OSC 5113 sequence: %v", err)
				return
			}
			tm.mu.Lock()
			tm.payloads = append(tm.payloads, string(p))
			tm.mu.Unlock()
			if handle != nil {
				handle(tm, p)
			}
		}, 0)
		_, _ = io.Copy(sc, tr) // Ends when the test closes the pipe.
	}()
	res := make(chan error, 1)
	go func() { res <- client.Run(ctx, pipeTTY{cr, cw}, opts) }()
	var err error
	select {
	case err = <-res:
	case <-time.After(watchdog):
		t.Fatalf("client.Run did not return within %s; payloads so far: %q", watchdog, tm.Payloads())
	}
	_ = tw.Close() // Ends the client's reader goroutine.
	_ = tr.Close() // Ends the terminal goroutine.
	_ = cr.Close()
	_ = cw.Close()
	<-termDone
	return tm, err
}
