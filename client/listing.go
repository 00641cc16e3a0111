package client

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/xferterm/xferterm/internal/termtext"
	"github.com/xferterm/xferterm/rsync"
	"github.com/xferterm/xferterm/scanner"
)

// listing reads one message of the listing (terminal-side.md §7.2).
func (r *receiver) listing(cmd *scanner.Command) error {
	switch {
	case cmd.Action == scanner.ActionFile:
		k, err := r.specIndex(cmd.FileID)
		if err != nil {
			return err
		}
		if cmd.Status == "" || r.byST[cmd.Status] != nil {
			return protocolError("listing entry with a missing or duplicate id %q", termtext.Sanitize(cmd.Status))
		}
		if cmd.Name == "" {
			return protocolError("listing entry without a name")
		}
		if len(r.entries) >= maxEntries {
			return protocolError("listing has more than %d entries", maxEntries)
		}
		e := &recvEntry{spec: k, st: cmd.Status, pr: cmd.Parent, d: string(cmd.Data), remote: cmd.Name,
			ft: cmd.FileType, size: max(cmd.Size.Value, 0), mtime: cmd.Mtime, perm: cmd.Permissions}
		r.entries = append(r.entries, e)
		r.byST[e.st] = e
		return nil
	case cmd.Action == scanner.ActionStatus && cmd.FileID != "":
		k, err := r.specIndex(cmd.FileID)
		if err != nil {
			return err
		}
		r.specErrs[k] = cmd.Status
		return nil
	case cmd.Action == scanner.ActionStatus:
		if cmd.Status != scanner.StatusOK {
			return fmt.Errorf("client: the terminal reports an error: %s", termtext.Sanitize(cmd.Status))
		}
		r.home = cmd.Name
		return r.endListing()
	}
	return protocolError("unexpected %s in the listing", cmd.Action)
}

// endListing checks the listing, maps it onto local paths, creates the directories and
// plans the requests.
func (r *receiver) endListing() error {
	if len(r.specErrs) > 0 {
		ks := make([]int, 0, len(r.specErrs))
		for k := range r.specErrs {
			ks = append(ks, k)
		}
		sort.Ints(ks)
		var msgs []string
		for _, k := range ks {
			st := r.specErrs[k]
			if strings.HasPrefix(st, "ENOENT:") {
				msgs = append(msgs, fmt.Sprintf("file not found: %s", termtext.Sanitize(r.specs[k])))
			} else {
				msgs = append(msgs, fmt.Sprintf("%s: %s", termtext.Sanitize(r.specs[k]), termtext.Sanitize(st)))
			}
		}
		return fmt.Errorf("client: %s", strings.Join(msgs, "; "))
	}
	tops := make([][]*recvEntry, len(r.specs))
	for _, e := range r.entries {
		if e.pr == "" {
			tops[e.spec] = append(tops[e.spec], e)
			continue
		}
		p := r.byST[e.pr]
		if p == nil || p.ft != scanner.FileDirectory {
			return protocolError("listing entry %q has an unknown parent", termtext.Sanitize(e.remote))
		}
		e.parent = p
	}
	for k, t := range tops {
		if len(t) == 0 {
			return fmt.Errorf("client: no matches found for %s", termtext.Sanitize(r.specs[k]))
		}
	}
	if err := r.mapLocal(tops); err != nil {
		return err
	}
	o := r.s.opts
	var total int64
	for _, e := range r.entries {
		switch e.ft {
		case scanner.FileDirectory:
			if err := os.MkdirAll(e.local, 0o700); err != nil {
				return fmt.Errorf("client: %w", err)
			}
			continue
		case scanner.FileLink:
			if t := r.byST[e.d]; e.d != "" && t != nil && t.ft == scanner.FileRegular {
				e.linkTo = t
				r.links = append(r.links, e)
				continue
			}
		}
		if err := os.MkdirAll(filepath.Dir(e.local), 0o755); err != nil {
			return fmt.Errorf("client: %w", err)
		}
		e.fid = strconv.Itoa(len(r.reqs) + 1)
		if e.ft != scanner.FileSymlink {
			e.zip = shouldCompress(o.Compress, e.remote, e.size)
			if o.TransmitDeltas {
				if fi, err := os.Lstat(e.local); err == nil && fi.Mode().IsRegular() && fi.Size() > rsyncThreshold {
					e.useRsync = true
				}
			}
			total += e.size
		}
		e.state = entryRequested
		r.reqs = append(r.reqs, e)
		r.byFID[e.fid] = e
	}
	r.pending = len(r.reqs)
	r.s.disp.begin(len(r.reqs)+len(r.links), total)
	r.phase = recvTransfer
	return nil
}

// mapLocal gives every entry its local path. Names come from the terminal, so each
// component is checked: nothing can land outside the destination (or, in Mirror mode,
// outside the mirrored path).
func (r *receiver) mapLocal(tops [][]*recvEntry) error {
	o := r.s.opts
	var dest string
	asDir := false
	if o.Mode == Normal {
		arg := o.Args[len(o.Args)-1]
		dest = absLocal(arg, o.Cwd, o.Home)
		fi, err := os.Stat(dest)
		asDir = len(r.specs) > 1 || strings.HasSuffix(arg, "/") || err == nil && fi.IsDir()
		for _, t := range tops {
			asDir = asDir || len(t) > 1
		}
		if asDir {
			if err := os.MkdirAll(dest, 0o755); err != nil {
				return fmt.Errorf("client: %w", err)
			}
		}
	}
	seen := make(map[string]bool, len(r.entries))
	var walk func(e *recvEntry, depth int) error
	walk = func(e *recvEntry, depth int) error {
		if e.local != "" {
			return nil
		}
		if depth > 4096 {
			return protocolError("listing has a parent cycle")
		}
		base := path.Base(e.remote)
		if base == "/" || base == "." || base == ".." || strings.ContainsRune(base, 0) {
			return protocolError("unsafe name %q in the listing", termtext.Sanitize(e.remote))
		}
		switch {
		case e.parent != nil:
			if err := walk(e.parent, depth+1); err != nil {
				return err
			}
			e.local = filepath.Join(e.parent.local, base)
		case o.Mode == Mirror:
			e.local = r.mirrorLocal(e.remote)
		case asDir:
			e.local = filepath.Join(dest, base)
		default:
			e.local = dest
		}
		if seen[e.local] {
			return protocolError("two listing entries map to %s", termtext.Sanitize(e.local))
		}
		seen[e.local] = true
		return nil
	}
	for _, e := range r.entries {
		if err := walk(e, 0); err != nil {
			return err
		}
	}
	return nil
}

// mirrorLocal maps a remote absolute path to this host: under the terminal's home it
// goes under ours, elsewhere to the same path.
func (r *receiver) mirrorLocal(remote string) string {
	home := strings.TrimSuffix(r.home, "/")
	if home != "" && strings.HasPrefix(remote, home+"/") {
		return filepath.Join(r.s.opts.Home, filepath.FromSlash(remote[len(home)+1:]))
	}
	return filepath.Clean(filepath.FromSlash(remote))
}

// sigStream writes the signature of our copy of a file after its request (rsync.md
// §8.2): data packets of at most 4096 bytes, then an end_data without payload.
type sigStream struct {
	e    *recvEntry
	file *os.File
	r    interface{ Read([]byte) (int, error) }
	buf  []byte
}

func newSigStream(e *recvEntry) (*sigStream, error) {
	f, err := os.Open(e.local)
	if err != nil {
		return nil, err
	}
	return &sigStream{e: e, file: f, r: rsync.NewSignatureReader(f, rsync.BlockSize(e.size)), buf: make([]byte, maxPacket)}, nil
}

// next appends signature packets to dst and reports whether the end_data went out.
func (g *sigStream) next(dst []byte, id string) ([]byte, bool) {
	for len(dst) < writeChunk {
		n, err := fullRead(g.r, g.buf)
		if n > 0 {
			dst = appendCommand(dst, id, scanner.Command{Action: scanner.ActionData, FileID: g.e.fid, Data: g.buf[:n]})
		}
		if err != nil {
			// At EOF, or on a read error: end the signature here. On an error the
			// terminal's delta will not verify and the file fails; the old file is kept.
			return appendCommand(dst, id, scanner.Command{Action: scanner.ActionEndData, FileID: g.e.fid}), true
		}
	}
	return dst, false
}

func (g *sigStream) close() {
	if g.file != nil {
		_ = g.file.Close() // Read-only.
		g.file = nil
	}
}

// fullRead reads until p is full or an error (io.EOF included).
func fullRead(r interface{ Read([]byte) (int, error) }, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
