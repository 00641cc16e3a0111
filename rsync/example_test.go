package rsync_test

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/xferterm/xferterm/rsync"
)

// The three steps of a delta transfer: the receiver signs its old file, the
// sender diffs its new file against the signature, the receiver patches.
func ExampleNewDiffer() {
	oldFile := "abcdefghijklmnop"
	newFile := "abcdXXefghijklmnopQ"

	// Receiver: the signature of the old file, with the client's block size.
	bs := rsync.BlockSize(int64(len(oldFile)))
	var dec rsync.SignatureDecoder // Sender: parse it as it arrives.
	if _, err := io.Copy(&dec, rsync.NewSignatureReader(strings.NewReader(oldFile), bs)); err != nil {
		panic(err)
	}
	sig, err := dec.Finish()
	if err != nil {
		panic(err)
	}

	// Sender: the delta of the new file.
	var delta bytes.Buffer
	if _, err := io.Copy(&delta, rsync.NewDiffer(sig, strings.NewReader(newFile))); err != nil {
		panic(err)
	}

	// Receiver: patch the old file; Close verifies the checksum.
	var out bytes.Buffer
	p := rsync.NewPatcher(strings.NewReader(oldFile), int64(len(oldFile)), sig.BlockSize(), &out)
	if _, err := io.Copy(p, &delta); err != nil {
		panic(err)
	}
	if err := p.Close(); err != nil {
		panic(err)
	}
	fmt.Printf("block size %d, %d signature entries, %q\n", bs, sig.Len(), out.String())
	// Output: block size 4, 4 signature entries, "abcdXXefghijklmnopQ"
}

// A Patcher rejects a delta that stops before its checksum.
func ExamplePatcher_truncated() {
	p := rsync.NewPatcher(strings.NewReader("abcd"), 4, 4, io.Discard)
	_, _ = p.Write([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0}) // Block 0; the error comes at Close.
	fmt.Println(p.Close())
	// Output: rsync: checksum missing at end of delta
}
