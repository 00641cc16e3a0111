package client_test

import (
	"errors"
	"flag"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/xferterm/xferterm/client"
)

func TestParseCommandLine(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    client.CommandLine
		wantErr error
	}{
		{name: "defaults send one file", args: []string{"a", "b"},
			want: client.CommandLine{Options: client.Options{Args: []string{"a", "b"}, Timeout: 2 * time.Minute}}},
		{name: "every long flag", args: []string{"--direction", "receive", "--compress", "never", "--transmit-deltas",
			"--mode", "normal", "--password-file", "/p", "--timeout", "5s", "x", "y", "z"},
			want: client.CommandLine{PasswordFile: "/p", Options: client.Options{Direction: client.Receive,
				Compress: client.CompressNever, TransmitDeltas: true, Args: []string{"x", "y", "z"}, Timeout: 5 * time.Second}}},
		{name: "flags with = and the real client's aliases", args: []string{"--direction=upload", "--compress=always", "-x", "a", "b"},
			want: client.CommandLine{Options: client.Options{Direction: client.Receive, Compress: client.CompressAlways,
				TransmitDeltas: true, Args: []string{"a", "b"}, Timeout: 2 * time.Minute}}},
		{name: "download means send", args: []string{"-d", "download", "a", "b"},
			want: client.CommandLine{Options: client.Options{Direction: client.Send, Args: []string{"a", "b"}, Timeout: 2 * time.Minute}}},
		{name: "mirror mode takes a single path", args: []string{"--mode", "mirror", "a"},
			want: client.CommandLine{Options: client.Options{Mode: client.Mirror, Args: []string{"a"}, Timeout: 2 * time.Minute}}},
		{name: "paths after -- may start with a dash", args: []string{"--", "-a", "b"},
			want: client.CommandLine{Options: client.Options{Args: []string{"-a", "b"}, Timeout: 2 * time.Minute}}},

		{name: "a destination is required", args: []string{"a"}, wantErr: client.ErrUsage},
		{name: "mirror mode needs a path", args: []string{"--mode=mirror"}, wantErr: client.ErrUsage},
		{name: "an unknown direction", args: []string{"--direction", "sideways", "a", "b"}, wantErr: client.ErrUsage},
		{name: "an unknown compression", args: []string{"--compress", "max", "a", "b"}, wantErr: client.ErrUsage},
		{name: "an unknown mode", args: []string{"--mode", "copy", "a", "b"}, wantErr: client.ErrUsage},
		{name: "an unknown flag", args: []string{"--permissions-bypass", "pw", "a", "b"}, wantErr: client.ErrUsage},
		{name: "a zero timeout", args: []string{"--timeout", "0s", "a", "b"}, wantErr: client.ErrUsage},
		{name: "an empty path", args: []string{"a", ""}, wantErr: client.ErrUsage},
		{name: "help", args: []string{"--help"}, wantErr: flag.ErrHelp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := client.ParseCommandLine(tt.args, io.Discard)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Args, tt.want.Args) {
				t.Errorf("Args = %q, want %q", got.Args, tt.want.Args)
			}
			got.Args, tt.want.Args = nil, nil
			if got.PasswordFile != tt.want.PasswordFile || got.Direction != tt.want.Direction || got.Compress != tt.want.Compress ||
				got.Mode != tt.want.Mode || got.TransmitDeltas != tt.want.TransmitDeltas || got.Timeout != tt.want.Timeout {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
