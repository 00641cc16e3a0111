package fs_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/rsync"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
	"github.com/xferterm/xferterm/transfer"
)

// dlLoad returns the OSC 5113 commands of a transcript, each direction in order.
func dlLoad(t *testing.T, name string) (k2t, t2k []scanner.Command) {
	t.Helper()
	chunks, err := testdata.LoadTranscript(filepath.Join(testdata.TranscriptsDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	extract := func(b []byte) []scanner.Command {
		var out []scanner.Command
		for _, p := range oscPayloads(b) {
			c, err := scanner.Parse(p)
			if err != nil {
				t.Fatalf("%s: %q: %v", name, p, err)
			}
			c.Data = bytes.Clone(c.Data)
			out = append(out, c)
		}
		return out
	}
	return extract(testdata.Stream(chunks, testdata.KittenToTerminal)),
		extract(testdata.Stream(chunks, testdata.TerminalToKitten))
}

// recordedFiles recreates, under home, the files a transcript's listing shows, with the
// recorded contents (taken from the recorded data packets, inflated when the request
// asked for zlib), permissions and mtimes.
func recordedFiles(t *testing.T, home string, k2t, t2k []scanner.Command) {
	t.Helper()
	local := func(p string) string { return strings.Replace(p, recordedHome, home, 1) }
	requests := map[string]scanner.Command{} // fid -> request
	listed := false
	for _, c := range k2t {
		if c.Action == scanner.ActionFile && listed {
			requests[c.FileID] = c
		}
		if c.Action == scanner.ActionFile && c.FileID == "0" {
			listed = true // later file commands are requests (spec fids are 0…N-1; here N=1)
		}
	}
	contents := map[string][]byte{} // recorded path -> content
	raw := map[string][]byte{}
	for _, c := range t2k {
		if c.Action == scanner.ActionData || c.Action == scanner.ActionEndData {
			raw[c.FileID] = append(raw[c.FileID], c.Data...)
		}
	}
	for fid, b := range raw {
		r := requests[fid]
		if r.Compression == scanner.CompressionZlib {
			b = inflate(t, b)
		}
		contents[r.Name] = b
	}
	var entries []scanner.Command
	for _, c := range t2k {
		if c.Action == scanner.ActionFile {
			entries = append(entries, c)
		}
	}
	// Parents first (the listing is pre-order), metadata deepest first.
	for _, c := range entries {
		p := local(c.Name)
		switch c.FileType {
		case scanner.FileDirectory:
			must(t, os.Mkdir(p, 0o755))
		case scanner.FileSymlink:
			must(t, os.Symlink(string(contents[c.Name]), p))
		default:
			must(t, os.WriteFile(p, contents[c.Name], 0o644))
		}
	}
	for _, c := range slices.Backward(entries) {
		p := local(c.Name)
		if c.FileType != scanner.FileSymlink {
			must(t, os.Chmod(p, os.FileMode(c.Permissions.Value)))
		}
		ts := []unix.Timespec{unix.NsecToTimespec(c.Mtime.Value), unix.NsecToTimespec(c.Mtime.Value)}
		must(t, unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW))
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestDownloadTranscripts replays the client side of real `kitten transfer
// --direction=receive` sessions against files recreated from the recording, and checks
// every reply against what the recorded terminal answered: same messages in the same
// order with the same ids, statuses, paths and metadata; file data compared by content
// (our zlib bytes differ from kitty's). Recorded differences that are ours on purpose:
// a symlink whose target is listed carries d (§7.2 step 4; the recording's scripted
// terminal left it out), and transcript 34 gets an rsync delta instead of plain data.
func TestDownloadTranscripts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		allow bool
		rsync bool
	}{
		{"02-receive-small-file.raw", true, false},
		{"06-receive-permission-denied.raw", false, false},
		{"31-receive-compressed-large-file.raw", true, false},
		{"32-receive-directory.raw", true, false},
		{"33-receive-missing-file-on-terminal-side.raw", true, false},
		{"34-receive-transmit-deltas-terminal-cannot-rsync.raw", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newDLHarness(t, dlApprover(tc.allow), fs.Limits{})
			k2t, rec := dlLoad(t, tc.name)
			recordedFiles(t, h.home, k2t, rec)
			var got []scanner.Command
			for _, c := range k2t {
				c.Name = strings.Replace(c.Name, recordedHome, h.home, 1)
				got = append(got, h.do(c)...)
			}
			compareDownload(t, h, got, rec, tc.rsync)
		})
	}
}

func dlApprover(allow bool) transfer.Fixed { return transfer.Fixed{Allow: allow, How: "test"} }

// compareDownload checks got against the recorded replies rec.
func compareDownload(t *testing.T, h *dlHarness, got, rec []scanner.Command, rsyncDelta bool) {
	t.Helper()
	isData := func(c scanner.Command) bool {
		return c.Action == scanner.ActionData || c.Action == scanner.ActionEndData
	}
	// The non-data messages, in order, interleaved with one marker per file's data.
	shape := func(cmds []scanner.Command, home string) []scanner.Command {
		var out []scanner.Command
		for i, c := range cmds {
			if isData(c) {
				if i == 0 || !isData(cmds[i-1]) || cmds[i-1].FileID != c.FileID ||
					cmds[i-1].Action == scanner.ActionEndData {
					out = append(out, scanner.Command{Action: scanner.ActionEndData, ID: c.ID, FileID: c.FileID})
				}
				continue
			}
			c.Name = strings.Replace(c.Name, home, "~", 1)
			out = append(out, c)
		}
		return out
	}
	g, r := shape(got, h.home), shape(rec, recordedHome)
	if len(g) != len(r) {
		t.Fatalf("got %d messages, recorded %d\ngot:\n%srecorded:\n%s", len(g), len(r), h.show(got), h.show(rec))
	}
	for i := range g {
		gc, rc := g[i], r[i]
		if gc.FileType == scanner.FileDirectory {
			gc.Size, rc.Size = scanner.OptInt{}, scanner.OptInt{} // depends on the file system
		}
		if gc.FileType == scanner.FileSymlink && len(rc.Data) == 0 {
			rc.Data = gc.Data
		}
		if gc.String() != rc.String() {
			t.Errorf("message %d:\n got %s\n rec %s", i, gc.String(), rc.String())
		}
	}
	// Data, by content: each file's packets against the file the request named.
	for _, fid := range dataFIDs(got) {
		req, sig := h.lastRequest(fid)
		zip := req.Compression == scanner.CompressionZlib
		data := fileData(t, got, fid, zip)
		want := localContent(t, req.Name)
		if req.Transmit == scanner.TransmitRsync {
			if !rsyncDelta {
				t.Fatalf("unexpected rsync request %s", req.String())
			}
			// The client's old file is the one transcript 31 received: the same content.
			data = patch(t, want, data, int(binary.LittleEndian.Uint32(sig[8:12])))
		}
		if !bytes.Equal(data, want) {
			t.Errorf("fid %s (%s): got %d bytes, want %d", fid, req.Name, len(data), len(want))
		}
	}
}

// dataFIDs returns the fids of the data packets in cmds, in order of first appearance.
func dataFIDs(cmds []scanner.Command) []string {
	var out []string
	for _, c := range cmds {
		if (c.Action == scanner.ActionData || c.Action == scanner.ActionEndData) && !slices.Contains(out, c.FileID) {
			out = append(out, c.FileID)
		}
	}
	return out
}

// localContent is the content of a listed path: a symlink's text or a file's bytes.
func localContent(t testing.TB, p string) []byte {
	t.Helper()
	if target, err := os.Readlink(p); err == nil {
		return []byte(target)
	}
	b, err := os.ReadFile(p)
	must(t, err)
	return b
}

// patch applies an rsync delta to old.
func patch(t testing.TB, old, delta []byte, blockSize int) []byte {
	t.Helper()
	var out bytes.Buffer
	p := rsync.NewPatcher(bytes.NewReader(old), int64(len(old)), blockSize, &out)
	if _, err := p.Write(delta); err != nil {
		t.Fatalf("patch: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("patch: %v", err)
	}
	return out.Bytes()
}
