package client_test

import (
	"errors"
	"testing"

	"github.com/xferterm/xferterm/client"
	"github.com/xferterm/xferterm/scanner"
)

func TestParseStrict(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    scanner.Command // checked when wantErr is ""
		wantErr string          // the offending key, or "-" for an error without a key
	}{
		{name: "a permission OK as kitty sends it", payload: "ac=status;id=14968085;st=T0s",
			want: scanner.Command{Action: scanner.ActionStatus, ID: "14968085", Status: "OK"}},
		{name: "a STARTED with a name", payload: "ac=status;id=x1;fid=1;n=L2hvbWUvZGVtby90ZXJtaG9tZS9yZWNlaXZlZC50eHQ;st=U1RBUlRFRA",
			want: scanner.Command{Action: scanner.ActionStatus, ID: "x1", FileID: "1", Name: "/home/demo/termhome/received.txt", Status: "STARTED"}},
		{name: "a listing entry with every field", payload: "ac=file;ft=symlink;id=rv;fid=0;mod=17;prm=511;sz=4;n=YQ;st=Mw;pr=1;d=NA",
			want: scanner.Command{Action: scanner.ActionFile, FileType: scanner.FileSymlink, ID: "rv", FileID: "0",
				Mtime: scanner.Some(17), Permissions: scanner.Some(511), Size: scanner.Some(4), Name: "a", Status: "3", Parent: "1", Data: []byte("4")}},
		{name: "fields in any order", payload: "st=T0s;id=a;ac=status",
			want: scanner.Command{Action: scanner.ActionStatus, ID: "a", Status: "OK"}},
		{name: "sz=0 is kept", payload: "ac=status;id=a;fid=1;st=T0s;sz=0",
			want: scanner.Command{Action: scanner.ActionStatus, ID: "a", FileID: "1", Status: "OK", Size: scanner.Some(0)}},
		{name: "a BEL-terminated reply's payload is the same", payload: "ac=end_data;id=a;fid=1;d=eQo",
			want: scanner.Command{Action: scanner.ActionEndData, ID: "a", FileID: "1", Data: []byte("y\n")}},

		{name: "padded st is refused like transcript 08", payload: "ac=status;id=15e9994f;st=T0s=", wantErr: "st"},
		{name: "padded st is refused like transcript 09", payload: "ac=status;id=16198908;st=T0s=", wantErr: "st"},
		{name: "padded n is refused", payload: "ac=status;id=a;st=T0s;n=YQ==", wantErr: "n"},
		{name: "padded d is refused", payload: "ac=data;id=a;fid=1;d=YQ==", wantErr: "d"},
		{name: "padded pw is refused", payload: "ac=status;id=a;st=T0s;pw=YQ==", wantErr: "pw"},
		{name: "an unknown key is refused like transcript 39", payload: "ac=status;id=1bf47306;st=T0s;xx=1", wantErr: "xx"},
		{name: "an unknown enum value is refused", payload: "ac=status;id=a;st=T0s;ft=fifo", wantErr: "ft"},
		{name: "an unknown action is refused", payload: "ac=bogus;id=a", wantErr: "ac"},
		{name: "a capitalised action is refused", payload: "ac=Status;id=a", wantErr: "ac"},
		{name: "a non-numeric size is refused", payload: "ac=status;id=a;st=T0s;sz=12k", wantErr: "sz"},
		{name: "bad base64 is refused", payload: "ac=status;id=a;st=T0s!", wantErr: "st"},
		{name: "a missing action is refused", payload: "id=a;st=T0s", wantErr: "ac"},
		{name: "a missing id is refused", payload: "ac=status;st=T0s", wantErr: "id"},
		{name: "a field without a value is refused", payload: "ac=status;id=a;junk", wantErr: "-"},
		{name: "invalid UTF-8 in a name is refused", payload: "ac=status;id=a;st=T0s;n=_w", wantErr: "n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := client.ParseStrict([]byte(tt.payload))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseStrict(%q) = %+v, want an error", tt.payload, got)
				}
				if !errors.Is(err, client.ErrInvalidReply) {
					t.Errorf("error %v does not wrap ErrInvalidReply", err)
				}
				var re *client.ReplyError
				if !errors.As(err, &re) {
					t.Fatalf("error %T is not a *ReplyError", err)
				}
				if want := tt.wantErr; want != "-" && re.Key != want {
					t.Errorf("error %q names key %q, want %q", err, re.Key, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseStrict(%q): %v", tt.payload, err)
			}
			if got.String() != tt.want.String() {
				t.Errorf("ParseStrict(%q)\n got %s\nwant %s", tt.payload, got.String(), tt.want.String())
			}
		})
	}
}

// The lenient scanner.Parse accepts what ParseStrict refuses: the strict pass matters.
func TestParseStrictIsStricterThanScannerParse(t *testing.T) {
	for _, p := range []string{"ac=status;id=a;st=T0s=", "ac=status;id=a;st=T0s;xx=1"} {
		if _, err := scanner.Parse([]byte(p)); err != nil {
			t.Errorf("scanner.Parse(%q): %v; want it lenient", p, err)
		}
		if _, err := client.ParseStrict([]byte(p)); err == nil {
			t.Errorf("ParseStrict(%q) succeeded, want an error", p)
		}
	}
}
