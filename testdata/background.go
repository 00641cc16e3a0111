package testdata

import (
	"context"
	"testing"
)

// Background runs run on its own goroutine with a context that ends when the test
// does, and waits then for run to return: a service (an approver's question loop)
// that lives as long as the test.
func Background(t testing.TB, run func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}
