package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// TestSessionThroughSSH: xferterm -- ssh behaves like ssh. Typed commands reach the remote shell,
// its output reaches the screen, the exit status of ssh is xferterm's, and the local terminal is
// left exactly as it was.
func TestSessionThroughSSH(t *testing.T) {
	for _, code := range []int{0, 3} {
		t.Run(fmt.Sprintf("exit %d", code), func(t *testing.T) {
			r := newRig(t)
			before := r.SttyState()
			r.Login()
			if got := r.Value(`hel""lo`); got != "hello" {
				t.Errorf("remote echo: got %q, want hello", got)
			}
			if got := r.Value(`$PWD`); got != r.Remote {
				t.Errorf("remote shell works in %q, want %q", got, r.Remote)
			}
			if st := r.Logout(code); st != code {
				t.Errorf("xferterm exited %d, want ssh's %d", st, code)
			}
			r.CheckShellUsable()
			if after := r.SttyState(); after != before {
				t.Errorf("terminal modes changed:\n\tbefore %s\n\tafter  %s", before, after)
			}
		})
	}
}

// TestSessionPassesEnvironment: the child of xferterm gets KITTY_PUBLIC_KEY, ssh forwards it
// (SendEnv), and it is the key of the line `xferterm pubkey` prints for the user to paste into a
// shell elsewhere.
func TestSessionPassesEnvironment(t *testing.T) {
	r := newRig(t)
	if line := r.Value(`$(xferterm pubkey)`); !strings.HasPrefix(line, "export KITTY_PUBLIC_KEY=") {
		t.Fatalf("xferterm pubkey printed %q, want export KITTY_PUBLIC_KEY=…", line)
	}
	// Pasted into a shell (here: eval in a subshell), the line sets the key.
	want := r.Value(`$(eval "$(xferterm pubkey)" && printf %s "$KITTY_PUBLIC_KEY")`)
	if !strings.HasPrefix(want, "1:") {
		t.Fatalf("after xferterm pubkey's line, KITTY_PUBLIC_KEY = %q, want 1:…", want)
	}
	r.Login()
	if got := r.Value(`$KITTY_PUBLIC_KEY`); got != want {
		t.Errorf("remote KITTY_PUBLIC_KEY = %q, want %q (from xferterm pubkey)", got, want)
	}
	if st := r.Logout(0); st != 0 {
		t.Errorf("xferterm exited %d", st)
	}
}
