package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xferterm/xferterm/bypass"
	"github.com/xferterm/xferterm/rsync"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
)

// The engine's findings of the adversarial review (issue 16), each through the real
// binary under a hostile remote program (remote_test.go): what an attacker on the remote
// host can print, against xferterm's real policy.

// bypassSend starts the send session id with the password in $PW (sha256 scheme: no key
// needed) and reports whether it was allowed.
func (r *remote) bypassSend(id string) bool {
	c := send(id)
	c.Bypass = bypass.EncodeSHA256(id, os.Getenv("PW"))
	r.write(c)
	return r.reply().Status == scanner.StatusOK
}

// ready says READY and waits for a key: the test prepares the disk meanwhile.
func (r *remote) ready() {
	r.say("READY")
	r.key()
}

// withPassword returns the flags and environment of a remote program that knows the
// bypass password.
func withPassword(t *testing.T) ([]string, string) {
	const password = "correct horse battery staple"
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--password-file", pwFile}, "PW=" + password
}

// signatureOracle: with the password, uploads with tt=rsync onto three existing files
// and reports for each what the terminal answered: "SIGNED <name> <block size> <blocks>"
// or "PLAIN <name>"; each file is then written with "new".
func signatureOracle(r *remote) int {
	r.ready()
	if !r.bypassSend("sig") {
		return 1
	}
	for i, name := range []string{"pin.txt", "big.bin", "~/.ssh/authorized_keys"} {
		fid := string(rune('1' + i))
		f := file("sig", fid, name)
		f.Transmit = scanner.TransmitRsync
		r.write(f)
		st := r.reply()
		if st.Status != scanner.StatusStarted {
			continue
		}
		if st.Transmit == scanner.TransmitRsync {
			var sig []byte
			for c := r.reply(); c.Action == scanner.ActionData; c = r.reply() {
				sig = append(sig, c.Data...)
			}
			s, err := rsync.ParseSignature(sig)
			if err != nil {
				r.say("FAIL %v", err)
				return 1
			}
			r.say("SIGNED %s %d %d", name, s.BlockSize(), s.Len())
		} else {
			r.say("PLAIN %s", name)
		}
		r.write(scanner.Command{Action: scanner.ActionEndData, ID: "sig", FileID: fid, Data: []byte("new")})
		r.reply()
	}
	return r.end("sig")
}

// TestHostileSignatureOracle (finding 2): the remote, allowed to write (here by the
// password), asks for deltas onto existing files to read them through their signature.
// A 14-byte secret gets no signature (on main: 4-byte blocks, enough to rebuild it); a
// 5000-byte file gets 64-byte blocks, whole ones only; a sensitive destination, allowed
// by the user, gets none.
func TestHostileSignatureOracle(t *testing.T) {
	flags, env := withPassword(t)
	p := startScreen(t, "signature-oracle", flags, env)
	p.Out.WaitForString(t, "READY")
	for name, data := range map[string][]byte{
		"pin.txt":              []byte("PIN=4711-xyzzy"),
		"big.bin":              testdata.RandomBytes(1, 5000),
		".ssh/authorized_keys": testdata.RandomBytes(2, 5000),
	} {
		if err := os.WriteFile(filepath.Join(p.home, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p.Type(t, "g")
	p.answer("~/.ssh/authorized_keys", "y", "DONE")
	got := strings.Join(append(p.lines("SIGNED"), p.lines("PLAIN")...), "\n")
	want := "SIGNED big.bin 64 78\nPLAIN pin.txt\nPLAIN ~/.ssh/authorized_keys"
	if got != want {
		t.Errorf("the terminal answered\n%s\nwant\n%s", got, want)
	}
	p.finish(false)
}
