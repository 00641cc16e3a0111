package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"golang.org/x/term"

	"github.com/xferterm/xferterm/bypass"
	"github.com/xferterm/xferterm/internal/ptytest"
	"github.com/xferterm/xferterm/scanner"
)

// remote is the remote program of the prompt tests, run as a helper mode under
// xferterm: it writes commands to its terminal as a client does, and prints what it
// gets back, one line each, for the test to read on the screen:
//
//	REPLY <id> <fid> <status>   a status for one of its sessions ("-" for no fid)
//	KEY <hex>                   keystrokes that reached it
//
// Its tty is in raw mode, as the kitten's is: Ctrl+C arrives as a byte.
type remote struct {
	replies chan scanner.Command
	keys    chan []byte
}

// remoteScenarios are the helper modes of the prompt tests.
var remoteScenarios = map[string]func(r *remote) int{
	"ask-twice":     askTwice,
	"flood":         flood,
	"collect":       collect,
	"allow-all":     allowAll,
	"bypass-read":   bypassRead,
	"long-read":     longRead,
	"cancel-upload": cancelUpload,
	"bypass-flood":  bypassFlood,
	"bypass-replay": bypassReplay,

	// engine_hostile_test.go
	"signature-oracle": signatureOracle,
	"chmod-roots":      chmodRoots,
	"launder":          launder,
}

// runRemote runs a scenario and returns its exit code.
func runRemote(scenario func(r *remote) int) int {
	if _, err := term.MakeRaw(0); err != nil {
		return 101
	}
	r := &remote{replies: make(chan scanner.Command, 256), keys: make(chan []byte, 256)}
	go r.read()
	return scenario(r)
}

// read sorts what arrives on stdin into replies and keystrokes.
func (r *remote) read() {
	sc := scanner.New(keyReporter{r}, func(p []byte, err error) {
		if err != nil {
			return
		}
		if c, err := scanner.Parse(p); err == nil {
			r.replies <- c
		}
	}, 0)
	_, _ = io.Copy(sc, os.Stdin)
}

// keyReporter prints the keystrokes that reach the remote program and hands them on.
type keyReporter struct{ r *remote }

func (k keyReporter) Write(p []byte) (int, error) {
	fmt.Printf("\r\nKEY %x\r\n", p)
	k.r.keys <- append([]byte(nil), p...)
	return len(p), nil
}

// write sends cmds to the terminal in one write.
func (r *remote) write(cmds ...scanner.Command) {
	var b []byte
	for _, c := range cmds {
		b = c.AppendOSC(b)
	}
	_, _ = os.Stdout.Write(b)
}

// say prints a line for the test.
func (r *remote) say(format string, args ...any) { fmt.Printf("\r\n"+format+"\r\n", args...) }

// reply waits for the next status, prints it, and returns it; nothing within the
// watchdog ends the program.
func (r *remote) reply() scanner.Command {
	select {
	case c := <-r.replies:
		fid := c.FileID
		if fid == "" {
			fid = "-"
		}
		r.say("REPLY %s %s %s", c.ID, fid, c.Status)
		return c
	case <-time.After(ptytest.WaitTimeout):
		r.say("FAIL no reply")
		os.Exit(1)
		return scanner.Command{}
	}
}

// key waits for a keystroke.
func (r *remote) key() []byte {
	select {
	case k := <-r.keys:
		return k
	case <-time.After(ptytest.WaitTimeout):
		r.say("FAIL no key")
		os.Exit(1)
		return nil
	}
}

// untilKey waits for the key q, doing each on any other key: the end of a scenario.
func (r *remote) untilKey(q byte, each func(k []byte)) {
	for {
		k := r.key()
		if len(k) == 1 && k[0] == q {
			return
		}
		if each != nil {
			each(k)
		}
	}
}

// end finishes the session id (none when empty), says DONE, and waits for q: the end
// of a scenario.
func (r *remote) end(id string) int {
	if id != "" {
		r.write(scanner.Command{Action: scanner.ActionFinish, ID: id})
	}
	r.say("DONE")
	r.untilKey('q', nil)
	return 0
}

// allowed starts the send session id and reports whether it was allowed.
func (r *remote) allowed(id string) bool {
	r.write(send(id))
	return r.reply().Status == scanner.StatusOK
}

func send(id string) scanner.Command { return scanner.Command{Action: scanner.ActionSend, ID: id} }

func receive(id string, specs int) scanner.Command {
	return scanner.Command{Action: scanner.ActionReceive, ID: id, Size: scanner.Some(int64(specs))}
}

func file(id, fid, name string) scanner.Command {
	return scanner.Command{Action: scanner.ActionFile, ID: id, FileID: fid, Name: name}
}

// askTwice: two send sessions, one after the other (finding 1).
func askTwice(r *remote) int {
	r.say("READY")
	r.key() // the test's stray keystroke, typed before anything is asked
	r.write(send("first"))
	r.reply()
	r.write(send("second"))
	r.reply()
	return r.end("second")
}

// flood: 25 send sessions in one write (finding 2). Then m asks once more; q ends.
func flood(r *remote) int {
	var cmds []scanner.Command
	for i := range 25 {
		cmds = append(cmds, send(fmt.Sprintf("f%02d", i+1)))
	}
	r.write(cmds...)
	for range 25 {
		r.reply()
	}
	r.say("ALL REPLIED")
	r.untilKey('q', func(k []byte) {
		if string(k) == "m" {
			r.write(send("more"))
			r.reply()
		}
	})
	return 0
}

// collect: a receive session that announces 1000 specs and trickles them, so that it
// keeps collecting and is never shown (finding 3).
func collect(r *remote) int {
	r.write(receive("r1", 1000), file("r1", "0", "notes.txt"))
	r.say("COLLECTING")
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(200 * time.Millisecond) // well within the 2 s spec timeout
		defer t.Stop()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			case <-t.C:
				r.write(file("r1", strconv.Itoa(i), "notes.txt"))
			}
		}
	}()
	r.untilKey('q', nil)
	close(stop)
	return 0
}

// allowAll: an approved send session writes ~/.vimrc (the test answers "allow all"),
// then ~/.ssh/authorized_keys (finding 4).
func allowAll(r *remote) int {
	if !r.allowed("a1") {
		return 1
	}
	r.write(file("a1", "1", "~/.vimrc"))
	if r.reply().Status != scanner.StatusStarted {
		return 1
	}
	r.write(scanner.Command{Action: scanner.ActionEndData, ID: "a1", FileID: "1", Data: []byte("set nocompatible\n")})
	r.reply()
	r.write(file("a1", "2", "~/.ssh/authorized_keys"))
	if r.reply().Status == scanner.StatusStarted {
		r.write(scanner.Command{Action: scanner.ActionEndData, ID: "a1", FileID: "2", Data: []byte("ssh-ed25519 AAAA attacker\n")})
		r.reply()
	}
	return r.end("a1")
}

// bypassRead: receive sessions with the password (PW): one reads a private key, one an
// ordinary file (finding 5).
func bypassRead(r *remote) int {
	pw := os.Getenv("PW")
	for _, s := range []struct{ id, spec string }{{"key", "~/.ssh/id_ed25519"}, {"notes", "notes.txt"}} {
		c := receive(s.id, 1)
		c.Bypass = bypass.EncodeSHA256(s.id, pw)
		r.write(c, file(s.id, "0", s.spec))
		if r.reply().Status != scanner.StatusOK {
			continue
		}
		for { // the listing, up to its final OK
			if c := r.reply(); c.Action == scanner.ActionStatus && c.Status == scanner.StatusOK && c.FileID == "" {
				break
			}
		}
		r.write(scanner.Command{Action: scanner.ActionFinish, ID: s.id})
	}
	return r.end("")
}

// longRead: a receive session of 40 paths whose last 3 are sensitive (finding 6).
func longRead(r *remote) int {
	cmds := []scanner.Command{receive("long", 40)}
	for i := range 37 {
		cmds = append(cmds, file("long", strconv.Itoa(i), fmt.Sprintf("src/file%02d.go", i)))
	}
	for i, p := range []string{"~/.ssh/id_ed25519", "~/.aws/credentials", "~/.gnupg/private-keys-v1.d"} {
		cmds = append(cmds, file("long", strconv.Itoa(37+i), p))
	}
	r.write(cmds...)
	r.reply()
	return r.end("")
}

// cancelUpload: an approved send session that has started a file and then waits: a
// transfer the user can see running (finding 3, the other side).
func cancelUpload(r *remote) int {
	if !r.allowed("c1") {
		return 1
	}
	r.write(file("c1", "1", "partial.bin"))
	r.reply()
	r.write(scanner.Command{Action: scanner.ActionData, ID: "c1", FileID: "1", Data: []byte("half of it")})
	r.say("RUNNING")
	r.reply() // CANCELED, when the user presses Ctrl+C
	return r.end("")
}
