package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xferterm/xferterm/bypass"
	"github.com/xferterm/xferterm/internal/ptytest"
	"github.com/xferterm/xferterm/proxy"
	"github.com/xferterm/xferterm/scanner"
)

// The bypass and the audit log against a hostile remote program, through the real
// binary: findings 5 and 6 of the adversarial review (issue 16), and the audit half of
// finding 4.

// bypassFlood: FLOOD send sessions with wrong sha256 passwords for fresh ids, with the
// right password (PW) in the middle (kitty-1, "goodm") and after them (kitty-1
// "goodk", sha256 "goods"). It says RESULT with the status of each right one and how
// many others were refused, then waits for q.
func bypassFlood(r *remote) int {
	n, _ := strconv.Atoi(os.Getenv("FLOOD"))
	pw, pub := os.Getenv("PW"), os.Getenv(bypass.PublicKeyEnvName)
	kitty1 := func(id string) scanner.Command {
		v, err := bypass.EncodeKitty1(pub, id, pw, time.Now())
		if err != nil {
			r.say("FAIL %v", err)
			os.Exit(1)
		}
		c := send(id)
		c.Bypass = v
		return c
	}
	sha := func(id, password string) scanner.Command {
		c := send(id)
		c.Bypass = bypass.EncodeSHA256(id, password)
		return c
	}
	good := map[string]string{}
	refused := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case c := <-r.replies:
				switch {
				case strings.HasPrefix(c.ID, "good"):
					good[c.ID] = c.Status
					if len(good) == 3 {
						refused <- n
						return
					}
				case strings.HasPrefix(c.Status, "EPERM:"):
					n++
				}
			case <-time.After(ptytest.WaitTimeout):
				r.say("FAIL no reply")
				os.Exit(1)
			}
		}
	}()
	var batch []scanner.Command
	for i := range n {
		if i == n/2 {
			batch = append(batch, kitty1("goodm"))
		}
		batch = append(batch, sha("bogus"+strconv.Itoa(i), "guess"+strconv.Itoa(i)))
		if len(batch) == 100 {
			r.write(batch...)
			batch = batch[:0]
		}
	}
	r.write(append(batch, kitty1("goodk"), sha("goods", pw))...)
	m := <-refused
	r.say("RESULT goodm=%s goodk=%s goods=%s refused=%d", good["goodm"], good["goodk"], good["goods"], m)
	for _, id := range []string{"goodm", "goodk", "goods"} {
		r.write(scanner.Command{Action: scanner.ActionFinish, ID: id})
	}
	return r.end("")
}

// bypassReplay: with MODE=first it encrypts the password (PW) for KITTY_PUBLIC_KEY as
// session "rp", keeps the value in VALUE_FILE, and sends it; with MODE=second it sends
// the value kept there, as someone who saw it in the stream would. Then it waits for q.
func bypassReplay(r *remote) int {
	file := os.Getenv("VALUE_FILE")
	var value string
	if os.Getenv("MODE") == "first" {
		v, err := bypass.EncodeKitty1(os.Getenv(bypass.PublicKeyEnvName), "rp", os.Getenv("PW"), time.Now())
		if err == nil {
			err = os.WriteFile(file, []byte(v), 0o600)
		}
		if err != nil {
			r.say("FAIL %v", err)
			return 1
		}
		value = v
	} else {
		data, err := os.ReadFile(file)
		if err != nil {
			r.say("FAIL %v", err)
			return 1
		}
		value = string(data)
	}
	c := send("rp")
	c.Bypass = value
	r.write(c)
	if r.reply().Status == scanner.StatusOK {
		return r.end("rp")
	}
	return r.end("")
}

// passwordFile writes password to a private file and returns its path.
func passwordFile(t *testing.T, password string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(path, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBypassFloodDoesNotLockOutTheRightPassword is finding 5: some 4 100 bogus sha256
// values made the right password refused for 10 minutes. Here 5 000 come first; the
// right password, sent among them and after them in both schemes, is accepted. The
// refusals add a few lines to the screen and the audit log, not one each.
func TestBypassFloodDoesNotLockOutTheRightPassword(t *testing.T) {
	const password, flood = "correct horse battery staple", 5000
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	p := startScreen(t, "bypass-flood", []string{"--password-file", passwordFile(t, password), "--audit-log", audit},
		"PW="+password, "FLOOD="+strconv.Itoa(flood))
	p.Out.WaitForString(t, "RESULT ")
	if got, want := p.lines("RESULT "), "RESULT goodm=OK goodk=OK goods=OK refused="+strconv.Itoa(flood); len(got) != 1 || got[0] != want {
		t.Errorf("%q, want %q", got, want)
	}
	p.finish(true)

	notes := strings.Count(p.stderr.String(), "wrong password")
	if notes == 0 || notes > 5 {
		t.Errorf("%d notes about wrong passwords on the screen, want 1 to 5", notes)
	}
	data, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	var wrong, allowed []auditLine
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var rec auditLine
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		switch {
		case rec.Result == "allowed":
			allowed = append(allowed, rec)
		case strings.Contains(rec.Reason, "wrong password"):
			wrong = append(wrong, rec)
		}
	}
	total := 0
	for _, rec := range wrong {
		total += max(rec.Count, 1)
	}
	if len(wrong) > 4 || total != flood {
		t.Errorf("%d audit records for %d wrong passwords, want at most 4 for %d", len(wrong), total, flood)
	}
	var ids []string
	for _, rec := range allowed {
		ids = append(ids, rec.Session)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"goodk", "goodm", "goods"}) {
		t.Errorf("allowed sessions in the audit log: %q", ids)
	}
}

// auditLine is what these tests read of an audit record.
type auditLine struct {
	Session string `json:"session"`
	Result  string `json:"result"`
	Reason  string `json:"reason"`
	Count   int    `json:"count"`
}

// TestBypassReplayedToASecondXferterm is finding 6: a kitty-1 value that one xferterm
// accepted was accepted again by a second xferterm using the same key pair (the same
// HOME), because each remembered used ids in its own memory.
func TestBypassReplayedToASecondXferterm(t *testing.T) {
	const password = "correct horse battery staple"
	home := t.TempDir()
	flags := []string{"--password-file", passwordFile(t, password)}
	value := filepath.Join(t.TempDir(), "value")
	first := startScreenIn(t, home, "bypass-replay", flags, "PW="+password, "MODE=first", "VALUE_FILE="+value)
	first.Out.WaitForString(t, "REPLY rp - OK")
	second := startScreenIn(t, home, "bypass-replay", flags, "PW="+password, "MODE=second", "VALUE_FILE="+value)
	second.Out.WaitForString(t, "REPLY rp - ")
	if got := second.lines("REPLY rp - "); len(got) != 1 || !strings.HasPrefix(got[0], "REPLY rp - EPERM:") {
		t.Errorf("the second xferterm replied %q, want EPERM", got)
	}
	second.finish(true)
	first.finish(true)
	if !strings.Contains(second.stderr.String(), "session id already used") {
		t.Errorf("the second xferterm's notes: %q", second.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(home, ".config", "xferterm", bypass.UsedIDsFileName)); err != nil {
		t.Errorf("the record of used ids beside the key: %v", err)
	}
}

// fakeEngine counts the payloads it is handed.
type fakeEngine struct {
	proxy.Engine
	handled *int
}

func (e fakeEngine) HandlePayloadFrom([]byte, scanner.Dialect) error {
	*e.handled++
	return nil
}

// TestPacedEngineWaitsOutTheBackoff: the output pump waits out the verifier's backoff
// after the payload that caused it, and not at all when there is none.
func TestPacedEngineWaitsOutTheBackoff(t *testing.T) {
	handled := 0
	backoffs := []time.Duration{0, 3 * time.Millisecond, 0}
	var slept []string
	e := pacedEngine{
		Engine: fakeEngine{handled: &handled},
		backoff: func() time.Duration {
			d := backoffs[0]
			backoffs = backoffs[1:]
			return d
		},
		sleep: func(d time.Duration) { slept = append(slept, strconv.Itoa(handled)+":"+d.String()) },
	}
	for range 3 {
		if err := e.HandlePayloadFrom(nil, scanner.DialectCurrent); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"2:3ms"}; !slices.Equal(slept, want) {
		t.Fatalf("slept %q, want %q (after the second payload)", slept, want)
	}
}
