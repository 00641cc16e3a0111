package client_test

import (
	"regexp"
	"testing"

	"github.com/xferterm/xferterm/client"
	"github.com/xferterm/xferterm/scanner"
)

func TestAppendCommandPutsIDFirst(t *testing.T) {
	tests := []struct {
		cmd  scanner.Command
		want string
	}{
		{scanner.Command{Action: scanner.ActionSend}, "\x1b]5113;id=ab12;ac=send\x1b\\"},
		{scanner.Command{Action: scanner.ActionFinish, ID: "ignored"}, "\x1b]5113;id=ab12;ac=finish\x1b\\"},
		{scanner.Command{Action: scanner.ActionFile, FileID: "a", Name: "x", FileType: scanner.FileDirectory, Mtime: scanner.Some(5), Permissions: scanner.Some(493)},
			"\x1b]5113;id=ab12;ac=file;ft=directory;fid=a;mod=5;prm=493;n=eA\x1b\\"},
		{scanner.Command{Action: scanner.ActionEndData, FileID: "1", Data: []byte("hi")}, "\x1b]5113;id=ab12;ac=end_data;fid=1;d=aGk\x1b\\"},
		{scanner.Command{Action: scanner.ActionReceive, Size: scanner.Some(2), Bypass: "kitty-1:{}"},
			"\x1b]5113;id=ab12;ac=receive;pw=a2l0dHktMTp7fQ;sz=2\x1b\\"},
	}
	for _, tt := range tests {
		got := string(client.AppendCommand([]byte("prefix"), "ab12", tt.cmd))
		if got != "prefix"+tt.want {
			t.Errorf("AppendCommand(%s)\n got %q\nwant %q", tt.cmd.String(), got, "prefix"+tt.want)
		}
	}
}

func TestNewSessionID(t *testing.T) {
	re := regexp.MustCompile(`^1e240[0-9a-f]{4}$`)
	for range 100 {
		if id := client.NewSessionID(123456); !re.MatchString(id) {
			t.Fatalf("NewSessionID(123456) = %q, want hex(pid) and 4 hex digits", id)
		}
	}
}
