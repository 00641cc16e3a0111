package fs_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
)

func TestUploadCancelMidFile(t *testing.T) {
	for _, how := range []string{"cancel", "CancelAll", "Close"} {
		t.Run(how, func(t *testing.T) {
			h := newUpHarness(t)
			p := filepath.Join(h.home, "big")
			if err := os.WriteFile(p, []byte("previous"), 0o644); err != nil {
				t.Fatal(err)
			}
			h.start("s")
			h.do(fileCmd("s", "1", "big"))
			chunk := bytes.Repeat([]byte{0xa5}, 1<<20)
			for range 25 { // half of a 50 MiB file
				h.do(dataCmd("s", "1", chunk))
			}
			switch how {
			case "cancel":
				wantReplies(t, h, h.do(scanner.Command{Action: scanner.ActionCancel, ID: "s"}), "status st=CANCELED")
			case "CancelAll":
				if !h.e.CancelAll() {
					t.Error("CancelAll found no session")
				}
				wantReplies(t, h, h.pull(), "status st=CANCELED")
			case "Close":
				if err := h.e.Close(); err != nil {
					t.Fatal(err)
				}
				if err := h.e.Handle(&scanner.Command{Action: scanner.ActionData, ID: "s", FileID: "1"}); !errors.Is(err, fs.ErrClosed) {
					t.Errorf("Handle after Close: %v", err)
				}
			}
			if readFile(t, p) != "previous" || !slices.Equal(tree(t, h.home), []string{"big"}) {
				t.Errorf("home after %s: %v", how, tree(t, h.home))
			}
			evs := h.fileEvents()
			if len(evs) != 1 || evs[0].Bytes != 25<<20 || evs[0].Result == "OK" {
				t.Errorf("events: %+v", evs)
			}
		})
	}
}

func TestUploadCancelWithZlibInFlight(t *testing.T) {
	h := newUpHarness(t)
	h.start("s")
	f := fileCmd("s", "1", "z")
	f.Compression = scanner.CompressionZlib
	h.do(f)
	z := testdata.Zlib(t, bytes.Repeat([]byte("data "), 100000))
	h.do(dataCmd("s", "1", z[:len(z)/2]))
	wantReplies(t, h, h.do(scanner.Command{Action: scanner.ActionCancel, ID: "s"}), "status st=CANCELED")
	if len(tree(t, h.home)) != 0 {
		t.Errorf("debris: %v", tree(t, h.home))
	}
}

func TestUploadWriteFaults(t *testing.T) {
	eacces := func(path string, written int64) error {
		if written >= 4096 {
			return unix.EACCES
		}
		return nil
	}
	for _, c := range []struct {
		name   string
		opts   []harnessOption
		statfs func(int) (int64, error)
		write  func(string, int64) error
		status string
	}{
		{name: "EACCES while writing", write: eacces, status: "EACCES:Failed to write file"},
		{name: "reserve above free space", opts: []harnessOption{withLimits(fs.Limits{DiskReserve: 1 << 62})}, status: scanner.StatusDiskReserve},
		{name: "disk fills up", statfs: fillingDisk(fs.DefaultDiskReserve + 5000), status: scanner.StatusDiskReserve},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newUpHarness(t, c.opts...)
			fs.SetUploadFaults(h.e, c.statfs, c.write)
			p := filepath.Join(h.home, "f")
			if err := os.WriteFile(p, []byte("previous"), 0o644); err != nil {
				t.Fatal(err)
			}
			h.start("s")
			h.do(fileCmd("s", "1", "f"))
			var got []scanner.Command
			for range 3 {
				got = append(got, h.do(dataCmd("s", "1", make([]byte, 4096)))...)
			}
			got = append(got, h.do(endCmd("s", "1", []byte("x")))...)
			if n := len(got); n == 0 || got[n-1].Status != c.status {
				t.Errorf("replies:\n%s\nwant last %s", h.show(got), c.status)
			}
			if readFile(t, p) != "previous" || !slices.Equal(tree(t, h.home), []string{"f"}) {
				t.Errorf("home: %v", tree(t, h.home))
			}
		})
	}
}

// fillingDisk is a statfs whose free space is free at first and then shrinks as if
// someone else were filling the disk.
func fillingDisk(free int64) func(int) (int64, error) {
	return func(int) (int64, error) {
		f := free
		free -= 4096
		return f, nil
	}
}
