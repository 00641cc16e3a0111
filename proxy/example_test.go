package proxy_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	"github.com/xferterm/xferterm/proxy"
)

// Run a shell under the proxy, as `xferterm` does. The Console is made first so that an
// approval prompt can borrow it; the Engine (nil here) serves the transfers. Because it
// has no Output comment, this example is compiled but not run.
func ExampleRun() {
	console := proxy.NewConsole(os.Stdin, os.Stdout)
	cmd := exec.Command("/bin/sh")
	code, err := proxy.Run(context.Background(), cmd, proxy.Config{
		Console: console,
		Env:     []string{"KITTY_PUBLIC_KEY=1:..."},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "xferterm:", err)
	}
	os.Exit(code)
}
