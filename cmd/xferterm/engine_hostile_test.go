package main

import (
	"os"
	"path/filepath"
	"strconv"
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

// chmodRoots: with the password, directory entries that name the temp directory and
// HOME (asking for 000 and 0777), a private directory of the user's (asking for 0777)
// and a new one (0750), then finish.
func chmodRoots(r *remote) int {
	r.ready()
	if !r.bypassSend("ch") {
		return 1
	}
	for i, e := range []struct {
		name string
		prm  int64
	}{{os.Getenv("TMPDIR"), 0}, {os.Getenv("HOME"), 0o777}, {"~/shared", 0o777}, {"~/tree", 0o750}} {
		d := file("ch", string(rune('1'+i)), e.name)
		d.FileType, d.Permissions = scanner.FileDirectory, scanner.Some(e.prm)
		r.write(d)
		r.reply()
	}
	return r.end("ch")
}

// TestHostileChmodOfRoots (finding 8): a directory entry naming the temp directory (a
// write root) or HOME does not change its mode (on main the temp directory became 000);
// opening a private directory to others is asked about, and refused here; a directory
// the transfer makes gets what the remote asked for.
func TestHostileChmodOfRoots(t *testing.T) {
	tmp := filepath.Join(t.TempDir(), "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(tmp, 0o700) }) // Best effort: so that it can be removed.
	flags, env := withPassword(t)
	p := startScreen(t, "chmod-roots", flags, env, "TMPDIR="+tmp)
	p.Out.WaitForString(t, "READY")
	if err := os.Mkdir(filepath.Join(p.home, "shared"), 0o700); err != nil {
		t.Fatal(err)
	}
	homeMode := mode(t, p.home)
	p.Type(t, "g")
	screen := p.armedPrompt("~/shared")
	if !strings.Contains(screen, "change the permissions of ~/shared (directory).") ||
		!strings.Contains(screen, "Its permissions would go from 0700 to 0777.") ||
		!strings.Contains(screen, "opens an existing directory to group or others") {
		t.Errorf("the question does not say what it asks:\n%s", screen)
	}
	p.Type(t, "n")
	p.Out.WaitForString(t, "REPLY ch 3 EPERM:")
	p.finish(true)
	for path, want := range map[string]os.FileMode{tmp: 0o700, p.home: homeMode, filepath.Join(p.home, "shared"): 0o700,
		filepath.Join(p.home, "tree"): 0o750} {
		if got := mode(t, path); got != want {
			t.Errorf("%s: mode %v, want %v", path, got, want)
		}
	}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// launder: the attack of finding 1. With the password, the remote uploads a symbolic
// link ~/photos → .ssh, then asks to read ~/photos/; it reports every file it got as
// "GOT <path> <content>".
func launder(r *remote) int {
	r.ready()
	if !r.bypassSend("up") {
		return 1
	}
	l := file("up", "1", "~/photos")
	l.FileType = scanner.FileSymlink
	r.write(l)
	r.reply()
	r.write(scanner.Command{Action: scanner.ActionEndData, ID: "up", FileID: "1", Data: []byte("path:.ssh")})
	r.reply()
	r.write(scanner.Command{Action: scanner.ActionFinish, ID: "up"})

	c := receive("rd", 1)
	c.Bypass = bypass.EncodeSHA256("rd", os.Getenv("PW"))
	r.write(c, file("rd", "0", "~/photos/"))
	if r.reply().Status != scanner.StatusOK {
		return r.end("")
	}
	var files []string
	for c := r.reply(); c.Action == scanner.ActionFile; c = r.reply() {
		if c.FileType == scanner.FileRegular {
			files = append(files, c.Name)
		}
	}
	for i, name := range files {
		r.write(file("rd", strconv.Itoa(i), name))
		var data []byte
		for c := r.reply(); ; c = r.reply() {
			data = append(data, c.Data...)
			if c.Action != scanner.ActionData {
				break
			}
		}
		r.say("GOT %s %q", name, data)
	}
	return r.end("rd")
}

// TestHostileSymlinkLaundersARead (finding 1): the link the remote uploads points into
// ~/.ssh, so it is asked about, even with the password, and says where it points; the
// user allows it, as one might. The read of ~/photos/ then shows where it leads, marked
// sensitive, and is asked about although the password was given: denied, nothing is
// sent. (On main: no question at all, and the private key was sent.)
func TestHostileSymlinkLaundersARead(t *testing.T) {
	flags, env := withPassword(t)
	p := startScreen(t, "launder", flags, env)
	p.Out.WaitForString(t, "READY")
	if err := os.WriteFile(filepath.Join(p.home, ".ssh", "id_ed25519"), []byte("PRIVATE KEY"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.Type(t, "g")
	screen := p.armedPrompt("The link would point to ~/.ssh.")
	if !strings.Contains(screen, "wants to write ~/photos (symlink).") || !strings.Contains(screen, "link target: protected location ~/.ssh/") {
		t.Errorf("the link's question does not say why it asks:\n%s", screen)
	}
	p.Type(t, "y")
	screen = p.armedPrompt("~/.ssh (through ~/photos)  protected location ~/.ssh/")
	if !strings.Contains(screen, "1 of them sensitive") {
		t.Errorf("the read's question does not mark the path:\n%s", screen)
	}
	p.Type(t, "n")
	p.Out.WaitForString(t, "REPLY rd - EPERM:")
	p.finish(true)
	if got := p.lines("GOT"); len(got) != 0 {
		t.Errorf("the remote read %q", got)
	}
	if target, err := os.Readlink(filepath.Join(p.home, "photos")); err != nil || target != ".ssh" {
		t.Errorf("the allowed link: %q, %v", target, err)
	}
}
