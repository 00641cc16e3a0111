package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/term"
)

// hostileStream is what a hostile remote prints: OSC 5113 in spellings that kitty runs
// although they are not the plain "ESC ] 5113 ;", and bytes placed so that removing one
// sequence would join the rest into another. between separates the attacks so the
// expected output is easy to read.
var hostileStream = strings.Join([]string{
	"\x1b]05113;ac=send;id=a1\x1b\\",                           // a leading zero
	"\x1b]5113ac=send;id=a2\x1b\\",                             // no ';' after the code
	"\x1b]5\x0011\x7f3;ac=send;id=a3\x1b\\",                    // NUL and DEL in the code (older kitty drops them)
	"\x1b]5113\x7f0;ac=send;id=a4\x1b\\",                       // 5113 to newer kitty, 51130 to older kitty
	"\x1b\x1b]5113;ac=send;id=a5\x07]5113;ac=send;id=a6\x1b\\", // ESC + sequence + "]5113;…"
	"\x1b]51\x1b]5113;ac=send;id=a7\x07" + "13;ac=send;id=a8\x1b\\",
	"\x1b]5113;ac=send;id=a9\x18after-CAN", // CAN aborts a sequence: never served
	"END",
}, "|")

// hostileOutput is what must reach the terminal: the text between the attacks, and the
// rest of the spliced attacks as plain text (no ESC ] in front of it).
const hostileOutput = "||||]5113;ac=send;id=a6\x1b\\|13;ac=send;id=a8\x1b\\|after-CAN|END"

// hostileServed are the sessions xferterm must see (and refuse, with --policy deny).
var hostileServed = []string{"a1", "a2", "a3", "a4", "a5", "a7"}

// statusReply matches a status reply of the engine, with its session id and status.
var statusReply = regexp.MustCompile(`ac=status;id=(\w+);st=(\w+)`)

// hostileSpellings is the child: it prints hostileStream and reports the session ids of
// the replies it gets, until it has one for each of hostileServed.
func hostileSpellings() int {
	if _, err := term.MakeRaw(0); err != nil {
		return 101
	}
	if _, err := os.Stdout.WriteString(hostileStream); err != nil {
		return 102
	}
	in := bufio.NewReader(os.Stdin)
	var ids []string
	for len(ids) < len(hostileServed) {
		reply, err := in.ReadString('\\')
		if err != nil {
			return 103
		}
		if m := statusReply.FindStringSubmatch(reply); m != nil {
			st, _ := base64.RawStdEncoding.DecodeString(m[2])
			ids = append(ids, m[1]+"="+strings.SplitN(string(st), ":", 2)[0])
		}
	}
	fmt.Printf("\r\nREPLIES %s\r\n", strings.Join(ids, " "))
	return 0
}

// TestHostileSpellingsOfOSC5113 runs the real binary under a child that prints
// hostileStream: every spelling kitty would run is taken out of the output and served
// (refused, by the policy), nothing that a terminal could read as OSC 5113 reaches it, and
// a sequence aborted by CAN is not served.
func TestHostileSpellingsOfOSC5113(t *testing.T) {
	r := startWith(t, []string{"--policy", "deny", "--audit-log", ""}, "hostile-spellings", nil)
	if code := r.wait(); code != 0 {
		t.Fatalf("exit status %d; stderr %q; output %q", code, r.stderr.String(), r.Out.Tail(500))
	}
	out := string(r.Drain(t))
	got, replies, ok := strings.Cut(out, "\r\nREPLIES ")
	if !ok {
		t.Fatalf("no replies line in %q", out)
	}
	if got != hostileOutput {
		t.Errorf("the terminal got\n%q\nwant\n%q", got, hostileOutput)
	}
	var want []string
	for _, id := range hostileServed {
		want = append(want, id+"=EPERM")
	}
	gotIDs := strings.Fields(replies)
	slices.Sort(gotIDs)
	if !slices.Equal(gotIDs, want) {
		t.Errorf("replies %q, want %q", gotIDs, want)
	}
}
