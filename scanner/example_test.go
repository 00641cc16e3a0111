package scanner_test

import (
	"bytes"
	"fmt"

	"github.com/xferterm/xferterm/scanner"
)

// ExampleNew filters a child's output: OSC 5113 sequences go to the handler, everything
// else to the terminal, however the output is split into writes.
func ExampleNew() {
	var terminal bytes.Buffer // stands for os.Stdout
	s := scanner.New(&terminal, func(payload []byte, err error) {
		if err != nil {
			fmt.Println("dropped:", err)
			return
		}
		c, err := scanner.Parse(payload)
		if err != nil {
			fmt.Println("ignored:", err)
			return
		}
		fmt.Printf("%s for session %s\n", c.Action, c.ID)
		reply := scanner.Command{Action: scanner.ActionStatus, ID: c.ID, Status: scanner.StatusOK}
		fmt.Printf("reply %q\n", reply.AppendOSC(nil)) // to the child's input
	}, scanner.DefaultMaxPayload)

	// The client's writes arrive cut anywhere, even inside the introducer.
	for _, chunk := range []string{
		"Scanning files…\r\n\x1b]51",
		"13;id=14968085;ac=send\x1b",
		"\\\x1b[32mPermission granted\x1b[39m\r\n",
		"\x1b]5113;ac=bogus\x07",
		"\x1b]5113;id=1;ac=data;d=AAAA", // cut short by the end of the stream
	} {
		if _, err := s.Write([]byte(chunk)); err != nil {
			fmt.Println(err)
		}
	}
	if err := s.Flush(); err != nil { // at EOF
		fmt.Println(err)
	}
	fmt.Printf("terminal got %q\n", terminal.String())
	// Output:
	// send for session 14968085
	// reply "\x1b]5113;ac=status;id=14968085;st=T0s\x1b\\"
	// ignored: scanner: bad value for key "ac": unknown value "bogus"
	// dropped: scanner: osc 5113 sequence not terminated
	// terminal got "Scanning files…\r\n\x1b[32mPermission granted\x1b[39m\r\n"
}
