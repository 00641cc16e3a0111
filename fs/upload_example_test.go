package fs_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// A send session as the real client runs it (terminal-side.md §6.1): the engine asks
// its Approver, answers STARTED for the file, writes it beside its destination and
// renames it there at end_data, and ends the session silently at finish.
func Example_sendSession() {
	home, err := os.MkdirTemp("", "xferterm-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(home)
	e, err := fs.NewEngine(fs.Config{Home: home, Approver: transfer.Fixed{Allow: true, How: "example"}})
	if err != nil {
		panic(err)
	}
	defer e.Close()

	b64 := base64.RawStdEncoding.EncodeToString
	for _, payload := range []string{
		"id=s1;ac=send",
		"id=s1;fid=1;ac=file;n=" + b64([]byte("notes/hello.txt")) + ";prm=420",
		"id=s1;fid=1;ac=end_data;d=" + b64([]byte("hello\n")),
		"id=s1;ac=finish",
	} {
		_ = e.HandlePayload([]byte(payload))
		out := e.Pull(nil, 1<<20)
		for _, seq := range bytes.SplitAfter(out, []byte("\x1b\\")) {
			if len(seq) == 0 {
				continue
			}
			c, _ := scanner.Parse(bytes.TrimSuffix(bytes.TrimPrefix(seq, []byte("\x1b]5113;")), []byte("\x1b\\")))
			fmt.Printf("st=%s fid=%q n=%q sz=%d\n", c.Status, c.FileID, strings.Replace(c.Name, home, "~", 1), c.Size.Value)
		}
	}
	b, _ := os.ReadFile(home + "/notes/hello.txt")
	fmt.Printf("%q\n", b)
	// Output:
	// st=OK fid="" n="" sz=0
	// st=STARTED fid="1" n="~/notes/hello.txt" sz=0
	// st=OK fid="1" n="~/notes/hello.txt" sz=6
	// "hello\n"
}
