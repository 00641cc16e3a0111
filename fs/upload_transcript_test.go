package fs_test

import (
	"bytes"
	"compress/zlib"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/testdata"
	"github.com/xferterm/xferterm/transfer"
)

// recordedHome is the terminal side's HOME when the transcripts were recorded.
const recordedHome = "/home/demo/termhome"

// oscPayloads extracts the OSC 5113 payloads of a byte stream (ST or BEL terminated).
func oscPayloads(b []byte) [][]byte {
	var out [][]byte
	const intro = "\x1b]5113;"
	for {
		i := bytes.Index(b, []byte(intro))
		if i < 0 {
			return out
		}
		b = b[i+len(intro):]
		end := bytes.IndexAny(b, "\x1b\x07")
		if end < 0 {
			return out
		}
		out = append(out, b[:end])
		b = b[end:]
	}
}

// loadPayloads returns the client's payloads (raw and decoded) and the recorded
// terminal's replies (decoded) of a transcript.
func loadPayloads(t *testing.T, name string) (raw [][]byte, k2t, t2k []scanner.Command) {
	t.Helper()
	chunks, err := testdata.LoadTranscript(filepath.Join(testdata.TranscriptsDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{testdata.KittenToTerminal, testdata.TerminalToKitten} {
		for _, p := range oscPayloads(testdata.Stream(chunks, dir)) {
			c, err := scanner.Parse(p)
			if err != nil {
				t.Fatalf("%s: %q: %v", name, p, err)
			}
			if dir == testdata.KittenToTerminal {
				raw = append(raw, p)
				k2t = append(k2t, c)
			} else {
				t2k = append(t2k, c)
			}
		}
	}
	return raw, k2t, t2k
}

// expectedEntry is what a transcript's client commands say should land on disk.
type expectedEntry struct {
	cmd  scanner.Command
	data []byte
}

// TestUploadTranscripts replays the client side of real kitten sessions and checks
// every reply against what the recorded terminal answered, and the files on disk
// against what the client sent, byte for byte, with modes and mtimes.
func TestUploadTranscripts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		refuse bool   // the recorded terminal refused the session
		reject string // name of a file the recorded terminal refused
	}{
		{name: "01-send-small-file.raw"},
		{name: "03-send-large-compressible-and-binary.raw"},
		{name: "04-send-no-progress-acks.raw"},
		{name: "05-send-permission-denied.raw", refuse: true},
		{name: "28-send-directory-tree-with-links.raw"},
		{name: "29-send-mirror-mode.raw"},
		{name: "42-send-empty-file.raw"},
		{name: "44-send-one-of-two-files-rejected.raw", reject: "two/empty.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := tc.name
			if m, _ := filepath.Glob(filepath.Join(testdata.TranscriptsDir(), name[:3]+"*.raw")); len(m) == 1 {
				name = filepath.Base(m[0])
			}
			raw, k2t, t2k := loadPayloads(t, name)
			var h *upHarness
			h = newUpHarness(t, withApprover(approveFunc(func(r transfer.Request) transfer.Decision {
				if r.File == nil {
					return transfer.Decision{Allow: !tc.refuse, How: "test"}
				}
				return transfer.Decision{Allow: tc.reject == "" || r.File.Path != filepath.Join(h.home, tc.reject)}
			})))
			var got []scanner.Command
			entries := map[string]*expectedEntry{}
			var order []string
			for i, c := range k2t {
				// The real path: the payload bytes as the scanner hands them over.
				if err := h.e.HandlePayload(raw[i]); err != nil {
					t.Fatalf("HandlePayload(%.60q): %v", raw[i], err)
				}
				got = append(got, h.pull()...)
				switch c.Action {
				case scanner.ActionFile:
					entries[c.FileID] = &expectedEntry{cmd: c}
					order = append(order, c.FileID)
				case scanner.ActionData, scanner.ActionEndData:
					entries[c.FileID].data = append(entries[c.FileID].data, c.Data...)
				}
			}
			linkFids := map[string]bool{}
			for fid, en := range entries {
				if en.cmd.FileType == scanner.FileSymlink || en.cmd.FileType == scanner.FileLink {
					linkFids[fid] = true
				}
			}
			compareReplies(t, h, got, t2k, linkFids, tc.reject != "")
			if tc.refuse {
				if e := tree(t, h.home); len(e) != 0 {
					t.Errorf("refused session wrote %v", e)
				}
				return
			}
			for _, fid := range order {
				en := entries[fid]
				if tc.reject != "" && strings.HasSuffix(en.cmd.Name, tc.reject) {
					if _, err := os.Lstat(filepath.Join(h.home, tc.reject)); !os.IsNotExist(err) {
						t.Errorf("rejected file exists: %v", err)
					}
					continue
				}
				checkEntry(t, h, entries, en)
			}
			noDebris(t, h.root)
			if h.e.Active() {
				t.Error("session still active after finish")
			}
		})
	}
}

// compareReplies checks our replies against the recorded ones in meaning: same
// sequence of (action, fid, status, n, sz, tt), PROGRESS aside (its sizes depend on the
// decompressor's buffering; ours must grow and stay below the final size). Link OK
// carry the link data's length (as kitty), where the recording terminal sent 0.
func compareReplies(t *testing.T, h *upHarness, got, rec []scanner.Command, linkFids map[string]bool, rejected bool) {
	t.Helper()
	var g, w []string
	last := map[string]int64{}
	for _, c := range got {
		if c.Status == scanner.StatusProgress {
			if c.Size.Value <= last[c.FileID] || c.Name != "" {
				t.Errorf("PROGRESS for %s does not grow: %s", c.FileID, showCmd(c, h.home))
			}
			last[c.FileID] = c.Size.Value
			continue
		}
		if c.Status == scanner.StatusOK && linkFids[c.FileID] {
			c.Size = scanner.OptInt{}
		}
		if c.Status == scanner.StatusOK && c.FileID != "" && c.Size.Value < last[c.FileID] {
			t.Errorf("final size below progress: %s", showCmd(c, h.home))
		}
		g = append(g, showCmd(c, h.home))
	}
	for _, c := range rec {
		if c.Status == scanner.StatusProgress {
			continue
		}
		if c.Status == scanner.StatusOK && linkFids[c.FileID] {
			c.Size = scanner.OptInt{}
		}
		if rejected && strings.HasPrefix(c.Status, "EPERM:rejected") {
			c.Status = scanner.StatusDestinationRefused
		}
		c.Name = strings.Replace(c.Name, recordedHome, h.home, 1)
		w = append(w, showCmd(c, h.home))
	}
	for _, c := range rec {
		if c.Status == scanner.StatusProgress && len(last) == 0 {
			t.Error("the recording has PROGRESS replies, the engine sent none")
			break
		}
	}
	if a, b := strings.Join(g, "\n"), strings.Join(w, "\n"); a != b {
		t.Errorf("replies differ from the recording:\n%s\nrecorded:\n%s", a, b)
	}
}

// checkEntry compares one transferred entry on disk with what the client sent.
func checkEntry(t *testing.T, h *upHarness, entries map[string]*expectedEntry, en *expectedEntry) {
	t.Helper()
	c := en.cmd
	p := h.abs(c.Name)
	st, err := os.Lstat(p)
	if err != nil {
		t.Errorf("%s: %v", c.Name, err)
		return
	}
	data := en.data
	if c.Compression == scanner.CompressionZlib {
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	switch c.FileType {
	case scanner.FileDirectory:
		if !st.IsDir() {
			t.Errorf("%s: not a directory", c.Name)
		}
	case scanner.FileSymlink:
		link, err := os.Readlink(p)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := strings.CutPrefix(string(data), "path:")
		if fid, ok := strings.CutPrefix(string(data), "fid:"); ok {
			want, _ = filepath.Rel(filepath.Dir(c.Name), entries[fid].cmd.Name)
		}
		if link != want {
			t.Errorf("%s: link to %q, want %q", c.Name, link, want)
		}
	case scanner.FileLink:
		fid, _ := strings.CutPrefix(string(data), "fid:")
		tst, err := os.Stat(h.abs(entries[fid].cmd.Name))
		if err != nil || !os.SameFile(st, tst) {
			t.Errorf("%s: not a hard link to %s (%v)", c.Name, entries[fid].cmd.Name, err)
		}
	default:
		if got := readFile(t, p); got != string(data) {
			t.Errorf("%s: content differs (%d bytes, want %d)", c.Name, len(got), len(data))
		}
	}
	if c.Permissions.Set && c.FileType != scanner.FileSymlink {
		if got := uint32(st.Mode().Perm()); got != uint32(c.Permissions.Value)&0o777 {
			t.Errorf("%s: mode %o, want %o", c.Name, got, c.Permissions.Value)
		}
	}
	if c.Mtime.Set {
		var ust unix.Stat_t
		if err := unix.Lstat(p, &ust); err != nil {
			t.Fatal(err)
		}
		if got := time.Unix(ust.Mtim.Unix()).UnixNano(); got != c.Mtime.Value {
			t.Errorf("%s: mtime %d, want %d", c.Name, got, c.Mtime.Value)
		}
	}
}

// abs resolves a client name as the engine does (terminal-side.md §8), for the tests'
// simple names.
func (h *upHarness) abs(name string) string {
	if rest, ok := strings.CutPrefix(name, "~/"); ok {
		name = rest
	}
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(h.home, name)
}
