package ptytest

import (
	"bytes"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"
)

// WaitTimeout is the watchdog of every wait in the tests that use this package.
const WaitTimeout = 30 * time.Second

// Output collects what a terminal shows (or any other stream the test reads) and lets
// the test wait for it. Its methods may be called concurrently.
type Output struct {
	mu   sync.Mutex
	cond *sync.Cond // signalled on every read, and by the watchdog of WaitFor
	b    []byte     // everything read so far
	err  error      // why reading stopped, once it has
}

// NewOutput returns an empty Output; start collecting with `go o.Collect(r)`.
func NewOutput() *Output {
	o := &Output{}
	o.cond = sync.NewCond(&o.mu)
	return o
}

// Grow makes room for n more bytes, so that a large stream is not copied as it grows.
func (o *Output) Grow(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.b = append(make([]byte, 0, len(o.b)+n+64<<10), o.b...)
}

// Collect reads r until an error (EIO at the master once every slave is closed, EOF
// for a pipe), keeping what it reads. It returns when reading stops.
func (o *Output) Collect(r io.Reader) {
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

// WaitFor waits until cond holds for the output so far, or fails the test when reading
// stops first or WaitTimeout runs out. cond is called with the output locked: it must
// not keep the slice or call o's methods.
func (o *Output) WaitFor(t testing.TB, what string, cond func([]byte) bool) {
	t.Helper()
	o.waitFor(t, what, func() bool { return cond(o.b) })
}

// WaitForString waits until the output contains s.
func (o *Output) WaitForString(t testing.TB, s string) {
	t.Helper()
	o.WaitFor(t, strconv.Quote(s), func(b []byte) bool { return bytes.Contains(b, []byte(s)) })
}

// WaitEOF waits until reading has stopped.
func (o *Output) WaitEOF(t testing.TB) {
	t.Helper()
	o.waitFor(t, "EOF", func() bool { return o.err != nil })
}

func (o *Output) waitFor(t testing.TB, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(WaitTimeout)
	timer := time.AfterFunc(WaitTimeout, func() {
		o.mu.Lock()
		o.cond.Broadcast()
		o.mu.Unlock()
	})
	defer timer.Stop()
	o.mu.Lock()
	defer o.mu.Unlock()
	for !done() {
		if o.err != nil || time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v; output so far:\n%q", what, o.err, Tail(o.b, 2000))
		}
		o.cond.Wait()
	}
}

// Bytes returns a copy of the output so far.
func (o *Output) Bytes() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return bytes.Clone(o.b)
}

// Tail returns a copy of the last n bytes of the output so far.
func (o *Output) Tail(n int) []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	return bytes.Clone(Tail(o.b, n))
}

// Tail returns the last n bytes of b (all of b if it is shorter), for failure messages.
func Tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// Receive returns the next value from ch, or fails the test with failure when none
// comes within WaitTimeout.
func Receive[T any](t testing.TB, ch <-chan T, failure string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(WaitTimeout):
		t.Fatal(failure)
		var zero T
		return zero // Not reached: Fatal ends the test's goroutine.
	}
}
