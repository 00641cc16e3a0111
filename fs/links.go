package fs

import (
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/internal/atomicfile"
	"github.com/xferterm/xferterm/scanner"
	"github.com/xferterm/xferterm/transfer"
)

// linkBuffer collects the data of a link entry (a prefixed target, §6.5), at most
// maxLinkData bytes.
type linkBuffer struct{ b []byte }

func (l *linkBuffer) Write(p []byte) (int, error) {
	if len(l.b)+len(p) > maxLinkData {
		return 0, errLinkTooLong
	}
	l.b = append(l.b, p...)
	return len(p), nil
}

// Prefixes of link data (§6.5). The current client uses fid: for hard links too; the
// 0.26 one sends a bare file id for them (see linkTarget).
const (
	linkFID    = "fid:"
	linkFIDAbs = "fid_abs:"
	linkPath   = "path:"
)

// linkTarget turns the link data of f into what to create: for a symbolic link the text
// to store, for a hard link the absolute path of the existing file.
//
// A hard link shares its target's inode, and the link's metadata is applied to it
// (§6.5), so its target must be a file this session wrote: an entry that completed,
// named by fid: or fid_abs:, or by path: (kitty links any file; the client only ever
// names a file of the transfer). Otherwise a remote allowed to write one place could
// link, and chmod, any file of the user's there: one it was refused, or one it never
// asked about.
func (u *upload) linkTarget(f *upFile, data string) (string, error) {
	var fid string
	switch {
	case strings.HasPrefix(data, linkFIDAbs):
		fid = data[len(linkFIDAbs):]
	case strings.HasPrefix(data, linkFID):
		fid = data[len(linkFID):]
	case strings.HasPrefix(data, linkPath):
		p := data[len(linkPath):]
		if p == "" {
			return "", errUnknownLinkType
		}
		if f.ft == scanner.FileLink {
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(f.path), p)
			}
			p = filepath.Clean(p)
			if !u.written[p] {
				return "", errLinkTargetNotWritten
			}
		}
		return p, nil
	case f.ft == scanner.FileLink && u.dialect == scanner.Dialect026:
		// kitty's 0.26 client sends a hard link's target as a bare file id (kitty's own
		// terminal side of that time refused it as an unknown link type).
		fid = data
	default:
		return "", errUnknownLinkType
	}
	path, done := u.done[fid]
	if t := u.files[fid]; t != nil {
		path = t.path
	}
	switch {
	case path == "" && (f.ft != scanner.FileLink || !u.fails.failed(fid)):
		return "", &linkFileIDError{fid: fid}
	case f.ft == scanner.FileLink && !done:
		return "", errLinkTargetNotWritten
	case f.ft == scanner.FileSymlink && strings.HasPrefix(data, linkFID):
		// A relative link to another file of the session: "../dir/a.txt".
		return filepath.Rel(filepath.Dir(f.path), path)
	}
	return path, nil
}

// linkArrived takes the whole data of the symbolic link f: where it will point is known
// now, and is decided in its turn (upload.next: a link to a sensitive place, or outside
// the write roots, is a sensitive write, asked about even after a bypass) before the
// link is made (admitLink). Its data is held meanwhile.
func (u *upload) linkArrived(f *upFile) {
	text, err := u.linkTarget(f, string(f.link.b))
	if err != nil {
		u.fail(f, err)
		return
	}
	f.linkText = text
	f.state = fileLinking
	u.queue = append(u.queue, f)
	u.next()
}

// linkRequest is the question about the symbolic link f once its data has arrived: its
// place, and the real path its text leads to from there (resolved as far as it exists,
// in the configured home's terms).
func (u *upload) linkRequest(f *upFile) *transfer.Item {
	it := &transfer.Item{Path: f.path, Type: scanner.FileSymlink, Size: -1, Files: -1, Exists: f.exist.exists}
	from := "/"
	if !strings.HasPrefix(f.linkText, "/") {
		from, _, _ = realPath(filepath.Dir(f.path)) // Cannot fail: it follows no link of its own.
	}
	target, dir, err := realPath(from + "/" + f.linkText)
	if err != nil {
		target, dir = filepath.Join(from, f.linkText), false // a loop: judged as written
	}
	it.Target, it.TargetDir = u.walk.homeView(target), dir
	return it
}

// admitLink acts on the decision about the symbolic link f: it is made, or it fails.
func (u *upload) admitLink(f *upFile, d transfer.Decision) {
	if !d.Allow {
		u.failStatus(f, scanner.StatusDestinationRefused)
		return
	}
	if d.Grant != nil {
		u.grants = append(u.grants, *d.Grant)
	}
	u.complete(f)
}

// makeLink creates the link f at a temporary name beside its destination, gives it its
// metadata without following it, and renames it over the destination.
func (u *upload) makeLink(f *upFile) error {
	text := f.linkText
	if f.ft == scanner.FileLink {
		var err error
		if text, err = u.linkTarget(f, string(f.link.b)); err != nil {
			return err
		}
	}
	dir, base, err := u.walk.openParent(f.path, true)
	if err != nil {
		return err
	}
	defer closeFD(dir)
	var create func(name string) error
	if f.ft == scanner.FileSymlink {
		create = func(name string) error { return unix.Symlinkat(text, dir, name) }
	} else {
		// The target is reached the same safe way; linkat does not follow a final link.
		tdir, tbase, err := u.walk.openParent(text, false)
		if err != nil {
			return err
		}
		defer closeFD(tdir)
		create = func(name string) error { return unix.Linkat(tdir, tbase, dir, name, 0) }
	}
	err = atomicfile.Replace(dir, base, create, func(name string) error {
		if f.ft == scanner.FileLink && f.prm.Set {
			if err := chmodNoFollow(dir, name, permOf(f.prm, defaultFileMode, u.e.umask), nil); err != nil { // the shared inode, as kitty
				return err
			}
		}
		if f.mtime.Set {
			return atomicfile.SetMtime(dir, name, f.mtime.Value)
		}
		return nil
	})
	if err != nil {
		return &opError{Op: opLink, Path: f.path, Err: err}
	}
	return nil
}
