package client_test

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xferterm/xferterm/client"
	"github.com/xferterm/xferterm/transfer"
)

func TestParseCommandLine(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    client.CommandLine
		wantErr error
	}{
		{name: "defaults send one file", args: []string{"a", "b"},
			want: client.CommandLine{Options: client.Options{Direction: transfer.Send, Args: []string{"a", "b"}, Timeout: 2 * time.Minute}}},
		{name: "every long flag", args: []string{"--direction", "receive", "--compress", "never", "--transmit-deltas",
			"--mode", "normal", "--password-file", "/p", "--timeout", "5s", "x", "y", "z"},
			want: client.CommandLine{PasswordFile: "/p", Options: client.Options{Direction: transfer.Receive,
				Compress: client.CompressNever, TransmitDeltas: true, Args: []string{"x", "y", "z"}, Timeout: 5 * time.Second}}},
		{name: "flags with = and the real client's aliases", args: []string{"--direction=upload", "--compress=always", "-x", "a", "b"},
			want: client.CommandLine{Options: client.Options{Direction: transfer.Receive, Compress: client.CompressAlways,
				TransmitDeltas: true, Args: []string{"a", "b"}, Timeout: 2 * time.Minute}}},
		{name: "download means send", args: []string{"-d", "download", "a", "b"},
			want: client.CommandLine{Options: client.Options{Direction: transfer.Send, Args: []string{"a", "b"}, Timeout: 2 * time.Minute}}},
		{name: "mirror mode takes a single path", args: []string{"--mode", "mirror", "a"},
			want: client.CommandLine{Options: client.Options{Direction: transfer.Send, Mode: client.Mirror, Args: []string{"a"}, Timeout: 2 * time.Minute}}},
		{name: "-p and -c", args: []string{"-p", "s3cret", "-c", "a", "b"},
			want: client.CommandLine{Bypass: client.BypassSource{Kind: client.BypassLiteral, Literal: "s3cret"},
				Options: client.Options{Direction: transfer.Send, ConfirmPaths: true, Args: []string{"a", "b"}, Timeout: 2 * time.Minute}}},
		{name: "--permissions-bypass and --confirm-paths", args: []string{"--permissions-bypass=~/pw", "--confirm-paths", "a", "b"},
			want: client.CommandLine{Bypass: client.BypassSource{Kind: client.BypassFile, Path: "/home/u/pw"},
				Options: client.Options{Direction: transfer.Send, ConfirmPaths: true, Args: []string{"a", "b"}, Timeout: 2 * time.Minute}}},
		{name: "paths after -- may start with a dash", args: []string{"--", "-a", "b"},
			want: client.CommandLine{Options: client.Options{Direction: transfer.Send, Args: []string{"-a", "b"}, Timeout: 2 * time.Minute}}},

		{name: "a destination is required", args: []string{"a"}, wantErr: client.ErrUsage},
		{name: "mirror mode needs a path", args: []string{"--mode=mirror"}, wantErr: client.ErrUsage},
		{name: "an unknown direction", args: []string{"--direction", "sideways", "a", "b"}, wantErr: client.ErrUsage},
		{name: "an unknown compression", args: []string{"--compress", "max", "a", "b"}, wantErr: client.ErrUsage},
		{name: "an unknown mode", args: []string{"--mode", "copy", "a", "b"}, wantErr: client.ErrUsage},
		{name: "an unknown flag", args: []string{"--permissions-bypas", "pw", "a", "b"}, wantErr: client.ErrUsage},
		{name: "-p and --password-file together", args: []string{"-p", "pw", "--password-file", "/p", "a", "b"}, wantErr: client.ErrUsage},
		{name: "an empty -p", args: []string{"-p", " ", "a", "b"}, wantErr: client.ErrUsage},
		{name: "a zero timeout", args: []string{"--timeout", "0s", "a", "b"}, wantErr: client.ErrUsage},
		{name: "an empty path", args: []string{"a", ""}, wantErr: client.ErrUsage},
		{name: "help", args: []string{"--help"}, wantErr: flag.ErrHelp},
	}
	t.Setenv("HOME", "/home/u")
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
				got.Mode != tt.want.Mode || got.TransmitDeltas != tt.want.TransmitDeltas || got.Timeout != tt.want.Timeout ||
				got.Bypass != tt.want.Bypass || got.ConfirmPaths != tt.want.ConfirmPaths {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseBypassSource(t *testing.T) {
	tests := []struct {
		value, home string
		want        client.BypassSource
		wantErr     bool
	}{
		{value: "s3cret", want: client.BypassSource{Kind: client.BypassLiteral, Literal: "s3cret"}},
		{value: "  spaced  ", want: client.BypassSource{Kind: client.BypassLiteral, Literal: "  spaced  "}},
		{value: "-", want: client.BypassSource{Kind: client.BypassStdin}},
		{value: "-x", want: client.BypassSource{Kind: client.BypassLiteral, Literal: "-x"}},
		{value: "./pw", want: client.BypassSource{Kind: client.BypassFile, Path: "./pw"}},
		{value: ".pw", want: client.BypassSource{Kind: client.BypassFile, Path: ".pw"}},
		{value: "/etc/pw", want: client.BypassSource{Kind: client.BypassFile, Path: "/etc/pw"}},
		{value: "~/pw", home: "/home/u", want: client.BypassSource{Kind: client.BypassFile, Path: "/home/u/pw"}},
		{value: "~", home: "/home/u", want: client.BypassSource{Kind: client.BypassFile, Path: "/home/u"}},
		{value: "~/pw", wantErr: true}, // no HOME
		{value: "~bob/pw", home: "/home/u", wantErr: true},
		{value: "0", want: client.BypassSource{Kind: client.BypassFD, FD: 0}},
		{value: "3", want: client.BypassSource{Kind: client.BypassFD, FD: 3}},
		{value: "255", want: client.BypassSource{Kind: client.BypassFD, FD: 255}},
		{value: "256", want: client.BypassSource{Kind: client.BypassLiteral, Literal: "256"}},
		{value: "+3", want: client.BypassSource{Kind: client.BypassLiteral, Literal: "+3"}},
		{value: "99999999999999999999999", want: client.BypassSource{Kind: client.BypassLiteral, Literal: "99999999999999999999999"}},
		{value: "", wantErr: true},
		{value: " \t", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := client.ParseBypassSource(tt.value, tt.home)
			if tt.wantErr {
				if !errors.Is(err, client.ErrUsage) {
					t.Fatalf("err = %v, want a usage error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v (literal %q), want %+v", got, got.Literal, tt.want)
			}
		})
	}
}

// A literal password never shows when the parsed command line is printed.
func TestBypassSourceRedacted(t *testing.T) {
	b := client.BypassSource{Kind: client.BypassLiteral, Literal: "hunter2"}
	cl := client.CommandLine{Bypass: b}
	for _, s := range []string{fmt.Sprint(b), fmt.Sprintf("%+v", b), fmt.Sprintf("%#v", b), fmt.Sprintf("%q", b), fmt.Sprintf("%+v", cl), fmt.Sprintf("%#v", cl)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("password printed: %s", s)
		}
	}
}
