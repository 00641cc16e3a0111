package scanner_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
)

// sendCmd is the smallest valid command, the base most parse cases add to.
var sendCmd = scanner.Command{Action: scanner.ActionSend, ID: "x"}

func with(f func(*scanner.Command)) scanner.Command {
	c := sendCmd
	f(&c)
	return c
}

// TestParse covers terminal-side.md §1.2 and §1.3. kitty's own examples use keys "a", "c",
// "e" and "1"; here the same shapes use real keys, since unknown keys are ignored.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload string
		want    scanner.Command
	}{
		// §1.3: kitty's test_parse_ftc shapes.
		{"a pair is read", "ac=send;id=x", sendCmd},
		{"a trailing semicolon is fine", "ac=send;id=x;", sendCmd},
		{"a double semicolon between pairs is skipped", "ac=send;;id=x;;", sendCmd},
		{"a trailing key without = is ignored", "ac=send;id=x;;e", sendCmd},
		{"three semicolons before a pair are skipped", "ac=send;id=y;;;id=x", sendCmd},
		{"leading semicolons are stripped", ";;;ac=send;id=x", sendCmd},
		{"a value may contain = (padding)", "ac=send;id=x;n=T0s=", with(func(c *scanner.Command) { c.Name, c.Padded = "OK", true })},
		{"a value may contain = (double padding)", "ac=send;id=x;st=YQ==", with(func(c *scanner.Command) { c.Status, c.Padded = "a", true })},
		{"= in a safe string is filtered out, not split on", "ac=send;id=x=y", with(func(c *scanner.Command) { c.ID = "xy" })},
		{"the last duplicate wins", "id=a;ac=receive;id=x;ac=send", sendCmd},
		{"a duplicate data key replaces the data", "ac=data;id=x;d=YWFh;d=Yg", scanner.Command{Action: scanner.ActionData, ID: "x", Data: []byte("b")}},
		{"unknown keys are ignored", "xx=1;ac=send;zz=;id=x;yy=a=b", sendCmd},
		{"an empty base64 value is empty", "ac=send;id=x;n=;st=;pw=;d=", sendCmd},
		{"an empty safe value is empty", "ac=send;id=x;fid=;pr=", sendCmd},

		// §1.2: value encodings.
		{"unpadded base64 is accepted", "ac=send;id=x;n=aGVsbG8", with(func(c *scanner.Command) { c.Name = "hello" })},
		{"padded base64 is accepted and noted", "ac=send;id=x;n=aGVsbG8=", with(func(c *scanner.Command) { c.Name, c.Padded = "hello", true })},
		{"padding of any base64 key is noted", "ac=data;id=x;fid=1;d=YQ==", scanner.Command{Action: scanner.ActionData, ID: "x", FileID: "1", Data: []byte("a"), Padded: true}},
		{"padding of pw is noted", "ac=send;id=x;pw=cA==", with(func(c *scanner.Command) { c.Bypass, c.Padded = "p", true })},
		{"an '=' in a safe string is not padding", "ac=send;id=x=", sendCmd},
		{"pw is base64 of UTF-8", "ac=send;id=x;pw=c2VjcsOqdA", with(func(c *scanner.Command) { c.Bypass = "secrêt" })},
		{"data is base64 bytes", "ac=data;id=x;fid=1;d=AP+A", scanner.Command{Action: scanner.ActionData, ID: "x", FileID: "1", Data: []byte{0, 0xff, 0x80}}},
		{"safe strings lose unsafe characters", "ac=send;id=a b!c;fid=1/2:3@4.5-6_7;pr=p$q%r",
			with(func(c *scanner.Command) { c.ID, c.FileID, c.Parent = "abc", "1/2:3@4.5-6_7", "pqr" })},
		{"integers are decimal", "ac=send;id=x;sz=39;prm=420;mod=1795239705236206226;q=2",
			with(func(c *scanner.Command) {
				c.Size, c.Permissions, c.Mtime, c.Quiet = scanner.Some(39), scanner.Some(420), scanner.Some(1795239705236206226), 2
			})},
		{"integers may have a sign", "ac=send;id=x;sz=+5;mod=-7", with(func(c *scanner.Command) { c.Size, c.Mtime = scanner.Some(5), scanner.Some(-7) })},
		{"sz=0 is present", "ac=send;id=x;sz=0", with(func(c *scanner.Command) { c.Size = scanner.Some(0) })},
		{"-1 is kitty's absent", "ac=send;id=x;sz=-1;prm=-1;mod=-1", sendCmd},
		{"every action parses", "ac=end_data;id=x", scanner.Command{Action: scanner.ActionEndData, ID: "x"}},
		{"every enum key parses", "ac=file;id=x;zip=zlib;ft=symlink;tt=rsync",
			scanner.Command{Action: scanner.ActionFile, ID: "x", Compression: scanner.CompressionZlib, FileType: scanner.FileSymlink, Transmit: scanner.TransmitRsync}},
		{"enum defaults may be spelled out", "ac=file;id=x;zip=none;ft=regular;tt=simple", scanner.Command{Action: scanner.ActionFile, ID: "x"}},
		{"ft=link is a hard link", "ac=file;id=x;ft=link", scanner.Command{Action: scanner.ActionFile, ID: "x", FileType: scanner.FileLink}},
		{"ft=directory", "ac=file;id=x;ft=directory", scanner.Command{Action: scanner.ActionFile, ID: "x", FileType: scanner.FileDirectory}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := scanner.Parse([]byte(tc.payload))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.payload, err)
			}
			if !equalCommand(got, tc.want) {
				t.Errorf("Parse(%q) =\n  %+v\nwant\n  %+v", tc.payload, got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload string
		want    error  // matched with errors.Is
		says    string // a piece of the message
	}{
		{"no action", "id=x", scanner.ErrNoAction, "action"},
		{"an empty payload", "", scanner.ErrNoAction, "action"},
		{"a segment without = swallows the action key", "x;ac=send;id=x", scanner.ErrNoAction, "action"},
		{"whitespace is not trimmed from keys", "ac=send; id=x", scanner.ErrNoID, "id"},
		{"no id", "ac=send", scanner.ErrNoID, "id"},
		{"an id of unsafe characters only", "ac=send;id=!!", scanner.ErrNoID, "id"},
		{"an empty action", "ac=;id=x", scanner.ErrBadValue, `"ac"`},
		{"an empty enum", "ac=file;id=x;zip=", scanner.ErrBadValue, `"zip"`},
		{"an empty file type", "ac=file;id=x;ft=", scanner.ErrBadValue, `"ft"`},
		{"an empty transmission type", "ac=file;id=x;tt=", scanner.ErrBadValue, `"tt"`},
		{"an action in the wrong case", "ac=Send;id=x", scanner.ErrBadValue, `"ac"`},
		{"the action invalid", "ac=invalid;id=x", scanner.ErrBadValue, `"ac"`},
		{"an enum with a space", "ac=send ;id=x", scanner.ErrBadValue, `"ac"`},
		{"an unknown compression", "ac=file;id=x;zip=ZLIB", scanner.ErrBadValue, `"zip"`},
		{"an unknown file type", "ac=file;id=x;ft=dir", scanner.ErrBadValue, `"ft"`},
		{"an empty integer", "ac=send;id=x;sz=", scanner.ErrBadValue, `"sz"`},
		{"an empty quiet", "ac=send;id=x;q=", scanner.ErrBadValue, `"q"`},
		{"an empty mtime", "ac=send;id=x;mod=", scanner.ErrBadValue, `"mod"`},
		{"an empty permission", "ac=send;id=x;prm=", scanner.ErrBadValue, `"prm"`},
		{"a fraction", "ac=send;id=x;sz=1.5", scanner.ErrBadValue, `"sz"`},
		{"hexadecimal", "ac=send;id=x;sz=0x10", scanner.ErrBadValue, `"sz"`},
		{"a word", "ac=send;id=x;prm=rw", scanner.ErrBadValue, `"prm"`},
		{"invalid UTF-8 in n", "ac=send;id=x;n=/w", scanner.ErrBadValue, "UTF-8"},
		{"invalid UTF-8 in st", "ac=send;id=x;st=gA", scanner.ErrBadValue, "UTF-8"},
		{"invalid UTF-8 in pw", "ac=send;id=x;pw=wA", scanner.ErrBadValue, "UTF-8"},
		{"invalid base64 in d", "ac=data;id=x;d=a$b", scanner.ErrBadValue, "base64"},
		{"invalid base64 in n", "ac=send;id=x;n=!!!!", scanner.ErrBadValue, "base64"},
		{"a bad value after a good id", "id=x;ac=send;sz=z", scanner.ErrBadValue, `"sz"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scanner.Parse([]byte(tc.payload))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse(%q) error = %v, want %v", tc.payload, err, tc.want)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "scanner: ") || !strings.Contains(msg, tc.says) {
				t.Errorf("error %q should start with \"scanner: \" and say %q", msg, tc.says)
			}
		})
	}
}

func TestAppendTo(t *testing.T) {
	for _, tc := range []struct {
		name string
		cmd  scanner.Command
		want string
	}{
		{"§1.4: permission granted", scanner.Command{Action: scanner.ActionStatus, ID: "s1", Status: scanner.StatusOK}, "5113;ac=status;id=s1;st=T0s"},
		{"defaults are left out", scanner.Command{Action: scanner.ActionStatus, ID: "s1", Mtime: scanner.Some(-1)}, "5113;ac=status;id=s1"},
		{"sz=0 is emitted", scanner.Command{Action: scanner.ActionStatus, ID: "s1", FileID: "1", Status: "OK", Size: scanner.Some(0)},
			"5113;ac=status;id=s1;fid=1;sz=0;st=T0s"},
		{"base64 is unpadded", scanner.Command{Action: scanner.ActionStatus, ID: "s", Name: "/home/demo/termhome/received.txt", Status: "STARTED"},
			"5113;ac=status;id=s;n=L2hvbWUvZGVtby90ZXJtaG9tZS9yZWNlaXZlZC50eHQ;st=U1RBUlRFRA"},
		{"every key in the fixed order", scanner.Command{
			Action: scanner.ActionFile, Compression: scanner.CompressionZlib, FileType: scanner.FileSymlink,
			Transmit: scanner.TransmitRsync, ID: "i", FileID: "f", Bypass: "p", Quiet: 1, Mtime: scanner.Some(-5),
			Permissions: scanner.Some(420), Size: scanner.Some(7), Name: "n", Status: "s", Parent: "r", Data: []byte("d"),
		}, "5113;ac=file;zip=zlib;ft=symlink;tt=rsync;id=i;fid=f;pw=cA;q=1;mod=-5;prm=420;sz=7;n=bg;st=cw;pr=r;d=ZA"},
		{"unsafe characters never reach a safe string", scanner.Command{Action: scanner.ActionStatus, ID: "a;b=c\x1bd", FileID: "e f"},
			"5113;ac=status;id=abcd;fid=ef"},
		{"the zero command is just the prefix", scanner.Command{}, "5113;"},
		{"Padded pads every base64 value, for the 0.26 client", scanner.Command{
			Action: scanner.ActionStatus, ID: "s", FileID: "1", Bypass: "p", Name: "ab", Status: "OK", Data: []byte("abc"), Padded: true,
		}, "5113;ac=status;id=s;fid=1;pw=cA==;n=YWI=;st=T0s=;d=YWJj"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(tc.cmd.AppendTo(nil)); got != tc.want {
				t.Errorf("AppendTo =\n  %s\nwant\n  %s", got, tc.want)
			}
			if got := tc.cmd.String(); got != tc.want {
				t.Errorf("String = %s", got)
			}
			prefix := []byte("keep")
			if got := string(tc.cmd.AppendTo(prefix)); got != "keep"+tc.want {
				t.Errorf("AppendTo does not append: %q", got)
			}
		})
	}
}

func TestAppendOSC(t *testing.T) {
	c := scanner.Command{Action: scanner.ActionStatus, ID: "s1", Status: scanner.StatusOK}
	if got, want := string(c.AppendOSC(nil)), "\x1b]5113;ac=status;id=s1;st=T0s\x1b\\"; got != want {
		t.Errorf("AppendOSC = %q, want %q", got, want)
	}
	// The scanner frames the codec's output back into the same command.
	var got []scanner.Command
	s := scanner.New(&bytes.Buffer{}, func(p []byte, err error) {
		if err != nil {
			t.Fatal(err)
		}
		c, err := scanner.Parse(p)
		if err != nil {
			t.Fatalf("Parse(%q): %v", p, err)
		}
		got = append(got, c)
	}, 0)
	osc := c.AppendOSC(nil)
	if _, err := s.Write(osc[:3]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(osc[3:]); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !equalCommand(got[0], c) {
		t.Errorf("framed and parsed back: %+v", got)
	}
}

// protocolKeys is the table of terminal-side.md §1.2: the only keys a reply may carry.
var protocolKeys = map[string]bool{"ac": true, "zip": true, "ft": true, "tt": true, "id": true, "fid": true,
	"pw": true, "q": true, "mod": true, "prm": true, "sz": true, "n": true, "st": true, "pr": true, "d": true}

// TestRoundTrip is the codec's property: whatever AppendTo writes, Parse reads back as the
// same command; the output carries only protocol keys, in the fixed order, and never a byte
// that could end the escape sequence.
func TestRoundTrip(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	order := []string{"ac", "zip", "ft", "tt", "id", "fid", "pw", "q", "mod", "prm", "sz", "n", "st", "pr", "d"}
	for range 1000 {
		c := randomCommand(rng)
		payload := c.AppendTo(nil)
		body, ok := bytes.CutPrefix(payload, []byte(scanner.Prefix))
		if !ok {
			t.Fatalf("%q does not start with %q", payload, scanner.Prefix)
		}
		if bytes.ContainsAny(payload, "\x1b\x07\x9c") {
			t.Fatalf("%q holds a byte that could end the sequence", payload)
		}
		last := -1
		for _, kv := range strings.Split(string(body), ";") {
			k, _, _ := strings.Cut(kv, "=")
			if !protocolKeys[k] {
				t.Fatalf("%q has key %q outside the protocol table", payload, k)
			}
			i := indexOf(order, k)
			if i <= last {
				t.Fatalf("%q: key %q out of order", payload, k)
			}
			last = i
		}
		got, err := scanner.Parse(body)
		if err != nil {
			t.Fatalf("Parse(AppendTo(%+v)) = %v", c, err)
		}
		if !equalCommand(got, c) {
			t.Fatalf("round trip of %s became %s", abbrev(string(payload)), abbrev(got.String()))
		}
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// randomCommand returns a valid command in normal form (what Parse would return).
func randomCommand(rng *rand.Rand) scanner.Command {
	safe := func() string {
		const a = "0123456789abcdefABCDEF_:./@-"
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteByte(a[rng.IntN(len(a))])
		}
		return b.String()
	}
	text := func() string {
		return []string{"", "OK", "STARTED", "~/a b/ç.txt", "EPERM:User refused the transfer", "a;b=c", "\x1b]\x07", "日本語"}[rng.IntN(8)]
	}
	opt := func() scanner.OptInt {
		switch rng.IntN(4) {
		case 0:
			return scanner.OptInt{}
		case 1:
			return scanner.Some(0)
		default:
			v := rng.Int64() >> rng.IntN(64)
			if rng.IntN(2) == 0 {
				v = -v
			}
			if v == -1 {
				v = -2 // -1 is kitty's "absent", which Parse normalizes
			}
			return scanner.Some(v)
		}
	}
	c := scanner.Command{
		Action:      scanner.Action(1 + rng.IntN(8)),
		Compression: scanner.Compression(rng.IntN(2)),
		FileType:    scanner.FileType(rng.IntN(4)),
		Transmit:    scanner.TransmissionType(rng.IntN(2)),
		ID:          "i" + safe(),
		FileID:      safe(),
		Bypass:      text(),
		Quiet:       rng.IntN(3),
		Mtime:       opt(),
		Permissions: opt(),
		Size:        opt(),
		Name:        text(),
		Status:      text(),
		Parent:      safe(),
	}
	if n := rng.IntN(3) * rng.IntN(4000); n > 0 {
		c.Data = make([]byte, n)
		for i := 0; i < n; i += 8 {
			v := rng.Uint64()
			for j := i; j < min(n, i+8); j++ {
				c.Data[j], v = byte(v), v>>8
			}
		}
	}
	return c
}

// equalCommand compares commands, treating nil and empty Data alike.
func equalCommand(a, b scanner.Command) bool {
	if !bytes.Equal(a.Data, b.Data) {
		return false
	}
	a.Data, b.Data = nil, nil
	return reflect.DeepEqual(a, b)
}

// TestTranscriptPayloadsParse parses every payload of the real client and of the recorded
// terminal side, including padded base64 and an unknown key in replies.
func TestTranscriptPayloadsParse(t *testing.T) {
	for _, dir := range []string{testdata.KittenToTerminal, testdata.TerminalToKitten} {
		payloads := transcriptPayloads(t, dir)
		if len(payloads) == 0 {
			t.Fatalf("no %s payloads", dir)
		}
		for _, p := range payloads {
			c, err := scanner.Parse(p)
			if err != nil {
				t.Errorf("%s: Parse(%q): %v", dir, abbrev(string(p)), err)
				continue
			}
			again, err := scanner.Parse(bytes.TrimPrefix(c.AppendTo(nil), []byte(scanner.Prefix)))
			if err != nil || !equalCommand(again, c) {
				t.Errorf("%s: %q does not survive AppendTo and Parse: %v", dir, abbrev(string(p)), err)
			}
		}
	}
}

func TestParseIntoReusesData(t *testing.T) {
	var c scanner.Command
	packet := []byte("id=x;ac=data;fid=1;d=" + strings.Repeat("QUFB", 1365))
	if err := scanner.ParseInto(&c, packet); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(50, func() {
		if err := scanner.ParseInto(&c, packet); err != nil {
			t.Fatal(err)
		}
	})
	// The id and fid strings may allocate; the 4 KiB of data must not.
	if allocs > 2 {
		t.Errorf("ParseInto of a data packet: %v allocations", allocs)
	}
	if len(c.Data) != 4095 || c.Data[0] != 'A' {
		t.Errorf("data = %d bytes", len(c.Data))
	}
	if err := scanner.ParseInto(&c, []byte("id=x;ac=finish")); err != nil || len(c.Data) != 0 {
		t.Errorf("ParseInto without d: err %v, data %d bytes, want none", err, len(c.Data))
	}
}
