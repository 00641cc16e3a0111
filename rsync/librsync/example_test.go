package librsync_test

import (
	"bytes"
	"fmt"
	"io"

	"github.com/xferterm/xferterm/rsync/librsync"
)

// The receiver signs its old file, the sender diffs its new file against that signature,
// and the receiver patches.
func Example() {
	old := bytes.Repeat([]byte("old data, "), 100)
	newFile := append([]byte("a new start; "), old...)

	sig, _ := librsync.ParseSignature(mustRead(librsync.NewSignatureReader(bytes.NewReader(old), librsync.DefaultParams(int64(len(old))))))
	delta := mustRead(librsync.NewDiffer(sig, bytes.NewReader(newFile)))

	var out bytes.Buffer
	p := librsync.NewPatcher(bytes.NewReader(old), int64(len(old)), &out)
	_, _ = p.Write(delta)
	err := p.Close()
	fmt.Println(bytes.Equal(out.Bytes(), newFile), err, len(delta) < len(newFile)/2)
	// Output: true <nil> true
}

func mustRead(r io.Reader) []byte {
	b, err := io.ReadAll(r)
	if err != nil {
		panic(err)
	}
	return b
}
