package client_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/xferterm/xferterm/bypass"
	"github.com/xferterm/xferterm/client"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
	"github.com/xferterm/xferterm/transfer"
)

// recording is a transcript of the real client prepared for replay: its payloads, and
// the terminal's replies, each with the number of client payloads that preceded it.
type recording struct {
	id       string
	kitten   []string // the real client's payloads
	replies  []reply
	fileName map[string]string // the real client's request fid → n
}

type reply struct {
	after int // client payloads seen before the reply was sent
	data  []byte
}

func loadRecording(t *testing.T, name string) *recording {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(testdata.TranscriptsDir(), name+"-*.raw"))
	if len(matches) != 1 {
		t.Fatalf("transcript %s: found %d files", name, len(matches))
	}
	chunks, err := testdata.LoadTranscript(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	rec := &recording{fileName: make(map[string]string)}
	sc := scanner.New(&bytes.Buffer{}, func(p []byte, err error) {
		if err != nil {
			t.Fatalf("transcript %s: %v", name, err)
		}
		rec.kitten = append(rec.kitten, string(p))
		c, err := scanner.Parse(p)
		if err != nil {
			t.Fatalf("transcript %s: payload %q: %v", name, p, err)
		}
		rec.id = c.ID
		if c.Action == scanner.ActionFile && c.Name != "" {
			rec.fileName[c.FileID] = c.Name
		}
	}, 0)
	for _, c := range chunks {
		if c.Dir == testdata.KittenToTerminal {
			_, _ = sc.Write(c.Data)
			continue
		}
		rec.replies = append(rec.replies, reply{after: len(rec.kitten), data: c.Data})
	}
	return rec
}

// shape is what must match between the real client's payloads and ours: the action and
// the set of keys, with id first.
func shape(t *testing.T, payload string) string {
	t.Helper()
	var keys []string
	action := ""
	for i, kv := range strings.Split(payload, ";") {
		k, v, _ := strings.Cut(kv, "=")
		if i == 0 && k != "id" {
			t.Errorf("payload %q does not start with id=", payload)
		}
		if k == "ac" {
			action = v
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return action + " " + strings.Join(keys, ",")
}

// withoutAnnouncedSize checks that each file command of a regular file in a send session
// carries the size our client announces (which the real client does not send), and
// removes it.
func withoutAnnouncedSize(t *testing.T, payloads []string) []string {
	t.Helper()
	out := make([]string, 0, len(payloads))
	sending := false
	for _, p := range payloads {
		c, err := scanner.Parse([]byte(p))
		if err != nil {
			t.Fatalf("payload %q: %v", p, err)
		}
		sending = sending || c.Action == scanner.ActionSend
		if sending && c.Action == scanner.ActionFile && c.FileType == scanner.FileRegular {
			var kept []string
			for _, kv := range strings.Split(p, ";") {
				if !strings.HasPrefix(kv, "sz=") {
					kept = append(kept, kv)
				}
			}
			if !c.Size.Set || len(kept) == len(strings.Split(p, ";")) {
				t.Errorf("file command %q does not announce its size", p)
			}
			p = strings.Join(kept, ";")
		}
		out = append(out, p)
	}
	return out
}

func shapes(t *testing.T, payloads []string) []string {
	var out []string
	for _, p := range payloads {
		out = append(out, shape(t, p))
	}
	return out
}

// replay runs the client against the recorded terminal: each recorded reply is sent
// once the client has written as many payloads as the real client had. Data replies
// are re-addressed from the real client's request fids to ours (matched by name).
// inject[n] is written to the client after its n-th payload (e.g. a key press).
func replay(t *testing.T, rec *recording, opts client.Options, inject map[int]string) (*terminal, error) {
	t.Helper()
	opts.SessionID = rec.id
	ourFID := make(map[string]string) // n → our request fid
	next, count := 0, 0
	send := func(tm *terminal) {
		for next < len(rec.replies) && rec.replies[next].after <= count {
			tm.write(readdress(rec, rec.replies[next].data, ourFID))
			next++
		}
		if k, ok := inject[count]; ok {
			tm.write([]byte(k))
		}
	}
	return runWith(t, opts, send, func(tm *terminal, p []byte) {
		if c, err := scanner.Parse(p); err == nil && c.Action == scanner.ActionFile && c.Name != "" {
			ourFID[c.Name] = c.FileID
		}
		count++
		send(tm)
	})
}

func readdress(rec *recording, data []byte, ourFID map[string]string) []byte {
	const intro = "\x1b]5113;"
	if !bytes.HasPrefix(data, []byte(intro)) {
		return data
	}
	end := bytes.IndexAny(data[len(intro):], "\x1b\a")
	c, err := scanner.Parse(data[len(intro) : len(intro)+end])
	if err != nil || c.Action != scanner.ActionData && c.Action != scanner.ActionEndData {
		return data
	}
	if fid, ok := ourFID[rec.fileName[c.FileID]]; ok {
		c.FileID = fid
	}
	return c.AppendOSC(nil)
}

// writeFile creates dir/name with content and mode.
func writeFile(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

const hello = "hello from the remote side\nsecond line\n"

func TestReplayTranscripts(t *testing.T) {
	type check func(t *testing.T, dir string, err error)
	wantErr := func(target error) check {
		return func(t *testing.T, _ string, err error) {
			if !errors.Is(err, target) {
				t.Fatalf("Run: %v, want %v", err, target)
			}
		}
	}
	ok := func(t *testing.T, _ string, err error) {
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
	wantFile := func(name, content string, mode os.FileMode, mtime int64) check {
		return func(t *testing.T, dir string, err error) {
			ok(t, dir, err)
			p := filepath.Join(dir, name)
			got, rerr := os.ReadFile(p)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if content != "" && string(got) != content {
				t.Errorf("%s = %q, want %q", name, got, content)
			}
			fi, _ := os.Stat(p)
			if fi.Mode().Perm() != mode {
				t.Errorf("%s mode %v, want %v", name, fi.Mode().Perm(), mode)
			}
			if mtime != 0 && fi.ModTime().UnixNano() != mtime {
				t.Errorf("%s mtime %d, want %d", name, fi.ModTime().UnixNano(), mtime)
			}
		}
	}
	sendHello := func(t *testing.T, dir string) { writeFile(t, dir, "hello.txt", hello, 0o644) }
	tests := []struct {
		name   string
		file   string
		args   []string
		recv   bool
		setup  func(t *testing.T, dir string)
		inject map[int]string
		prefix bool // the real client's payloads are a prefix of ours (we also cancel)
		check  check
	}{
		{name: "send a small file", file: "01", args: []string{"hello.txt", "received.txt"}, setup: sendHello, check: ok},
		{name: "receive a small file", file: "02", recv: true, args: []string{"t.txt", "got.txt"},
			check: wantFile("got.txt", "data living on the terminal side\n", 0o644, 1795239705361414909)},
		{name: "send is refused", file: "05", args: []string{"hello.txt", "r2.txt"}, setup: sendHello,
			check: wantErr(client.ErrPermissionDenied)},
		{name: "receive is refused", file: "06", recv: true, args: []string{"t.txt", "g.txt"},
			check: wantErr(client.ErrPermissionDenied)},
		{name: "padded base64 in a send reply is fatal", file: "08", args: []string{"hello.txt", "p.txt"}, setup: sendHello,
			prefix: true, check: wantErr(client.ErrInvalidReply)},
		{name: "padded base64 in a receive reply is fatal", file: "09", recv: true, args: []string{"t.txt", "p.txt"},
			prefix: true, check: wantErr(client.ErrInvalidReply)},
		{name: "ctrl+c in the kitty keyboard protocol cancels a send", file: "11", args: []string{"hello.txt", "c1.txt"},
			setup: sendHello, check: wantErr(client.ErrCanceled)},
		{name: "ctrl+c in the kitty keyboard protocol cancels a receive", file: "13", recv: true, args: []string{"t.txt", "c3.txt"},
			check: wantErr(client.ErrCanceled)},
		{name: "a legacy ctrl+c byte cancels, unlike with the real client", file: "10", args: []string{"hello.txt", "c0.txt"},
			setup: sendHello, prefix: true, check: wantErr(client.ErrCanceled)},
		{name: "esc in the kitty keyboard protocol cancels", file: "20", args: []string{"hello.txt", "e.txt"},
			setup: sendHello, check: wantErr(client.ErrCanceled)},
		{name: "a directory tree with symlinks and a hard link", file: "28", args: []string{"tree", "dest/"},
			setup: makeTree, check: ok},
		{name: "mirror mode sends names under home as ~/", file: "29", args: []string{"hello.txt", "tree"},
			setup: func(t *testing.T, dir string) { sendHello(t, dir); makeTree(t, dir) }, check: ok},
		{name: "receive a compressed file", file: "31", recv: true, args: []string{"tbig.txt", "got-big.txt"},
			check: func(t *testing.T, dir string, err error) {
				ok(t, dir, err)
				if fi, err := os.Stat(filepath.Join(dir, "got-big.txt")); err != nil || fi.Size() != 180000 {
					t.Errorf("got-big.txt: %v, %v; want 180000 bytes", fi, err)
				}
			}},
		{name: "receive a directory", file: "32", recv: true, args: []string{"tdir", "got-dir"},
			check: func(t *testing.T, dir string, err error) {
				wantFile("got-dir/inner/y.txt", "y\n", 0o644, 0)(t, dir, err)
				wantFile("got-dir/x.txt", "x\n", 0o644, 0)(t, dir, err)
				if l, err := os.Readlink(filepath.Join(dir, "got-dir/lx")); err != nil || l != "x.txt" {
					t.Errorf("got-dir/lx -> %q, %v; want x.txt", l, err)
				}
				if fi, _ := os.Stat(filepath.Join(dir, "got-dir")); fi.Mode().Perm() != 0o755 {
					t.Errorf("got-dir mode %v", fi.Mode())
				}
			}},
		{name: "a missing file on the terminal side cancels", file: "33", recv: true, args: []string{"nope.txt", "n.txt"},
			check: func(t *testing.T, _ string, err error) {
				if err == nil || !strings.Contains(err.Error(), "file not found: nope.txt") {
					t.Fatalf("Run: %v, want file not found", err)
				}
			}},
		{name: "an unsolicited CANCELED ends the transfer", file: "37", args: []string{"hello.txt", "u1.txt"}, setup: sendHello,
			check: wantErr(client.ErrCanceledByTerminal)},
		{name: "an unknown key in a reply is fatal", file: "39", args: []string{"hello.txt", "k.txt"}, setup: sendHello,
			prefix: true, check: wantErr(client.ErrInvalidReply)},
		{name: "BEL-terminated replies to a send", file: "40", args: []string{"hello.txt", "bel.txt"}, setup: sendHello, check: ok},
		{name: "BEL-terminated replies to a receive", file: "41", recv: true, args: []string{"t.txt", "bel-got.txt"},
			check: wantFile("bel-got.txt", "data living on the terminal side\n", 0o644, 0)},
		{name: "send an empty file", file: "42", args: []string{"empty.txt", "empty-got.txt"},
			setup: func(t *testing.T, dir string) { writeFile(t, dir, "empty.txt", "", 0o644) }, check: ok},
		{name: "one of two files is rejected", file: "44", args: []string{"hello.txt", "empty.txt", "two/"},
			setup: func(t *testing.T, dir string) { sendHello(t, dir); writeFile(t, dir, "empty.txt", "", 0o644) },
			check: func(t *testing.T, _ string, err error) {
				var fe *client.FailedError
				if !errors.As(err, &fe) || fe.Failed != 1 || fe.Total != 2 {
					t.Fatalf("Run: %v, want 1 of 2 files failed", err)
				}
				if !strings.Contains(err.Error(), "rejected by --reject-pattern") {
					t.Errorf("error %q does not give the terminal's reason", err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := loadRecording(t, tt.file)
			dir := t.TempDir()
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			opts := client.Options{Args: tt.args, Cwd: dir, Home: dir, CancelWait: 100 * time.Millisecond}
			if tt.recv {
				opts.Direction = transfer.Receive
			}
			if tt.file == "29" {
				opts.Mode = client.Mirror
			}
			tm, err := replay(t, rec, opts, tt.inject)
			tt.check(t, dir, err)
			want, got := shapes(t, rec.kitten), shapes(t, withoutAnnouncedSize(t, tm.Payloads()))
			if tt.prefix && len(got) > len(want) {
				got = got[:len(want)]
			}
			if !slices.Equal(got, want) {
				t.Errorf("payload shapes differ from the real client's\n got %q\nwant %q", got, want)
			}
		})
	}
}

// makeTree builds the tree of transcript 28 under dir/tree.
func makeTree(t *testing.T, dir string) {
	t.Helper()
	a := writeFile(t, dir, "tree/a.txt", "a\n", 0o644)
	writeFile(t, dir, "tree/sub/b.txt", "b\n", 0o644)
	if err := os.Symlink("/etc/hostname", filepath.Join(dir, "tree/abs-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(a, filepath.Join(dir, "tree/hard-a")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.txt", filepath.Join(dir, "tree/link-to-a")); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"tree", "tree/sub"} {
		if err := os.Chmod(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// The real client sends the bypass as kitty-1; so do we, encrypted for
// KITTY_PUBLIC_KEY (transcript 24's key).
func TestReplayBypassReceive(t *testing.T) {
	rec := loadRecording(t, "24")
	dir := t.TempDir()
	key, err := bypass.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	opts := client.Options{Direction: transfer.Receive, Args: []string{"t.txt", "b4.txt"}, Cwd: dir, Home: dir,
		Password: "secret", PublicKey: key.PublicKeyEnv(), EncodeBypass: bypass.EncodeKitty1}
	tm, err := replay(t, rec, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := tm.Payloads()
	if want := shapes(t, rec.kitten); !slices.Equal(shapes(t, got), want) {
		t.Errorf("shapes %q, want %q", shapes(t, got), want)
	}
	c, err := scanner.Parse([]byte(got[0]))
	if err != nil || !strings.HasPrefix(c.Bypass, "kitty-1:{") {
		t.Fatalf("pw = %q, %v; want a kitty-1 value", c.Bypass, err)
	}
	v := bypass.NewVerifier(key, bypass.NewSecret("secret"), time.Now)
	if _, err := v.Verify(rec.id, c.Bypass); err != nil {
		t.Errorf("the terminal side refuses our bypass: %v", err)
	}
}
