package client

import (
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/klauspost/compress/flate"
	"github.com/xferterm/xferterm/scanner"
)

// localFile is one entry of a send session: something on this host to create on the
// terminal's machine.
type localFile struct {
	local    string // absolute path on this host
	remote   string // the n sent to the terminal
	ft       scanner.FileType
	size     int64
	mtime    int64  // ns since the epoch, 0 = unknown
	perm     int64  // rwx bits
	linkData string // ft symlink/link: the data of the single end_data
}

// scanSources walks the sources of a send session and returns its entries in the order
// the real client sends them: each source, then (for a directory) its contents in
// lexical order, depth first. Directories are walked without following symlinks.
func scanSources(sources []string, remoteOf func(i int, local string) string) ([]*localFile, error) {
	var files []*localFile
	seen := make(map[string]bool)     // absolute local paths already listed
	inodes := make(map[[2]uint64]int) // (dev, ino) of regular files with nlink > 1 → index
	for i, src := range sources {
		base := remoteOf(i, src)
		err := filepath.WalkDir(src, func(p string, de iofs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if seen[p] {
				if de.IsDir() && p != src {
					return filepath.SkipDir
				}
				return nil
			}
			seen[p] = true
			fi, err := os.Lstat(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, p) // p is below src: cannot fail
			f := &localFile{local: p, remote: base, perm: int64(fi.Mode().Perm())}
			if rel != "." {
				f.remote = path.Join(base, filepath.ToSlash(rel))
			}
			if t := fi.ModTime(); !t.IsZero() {
				f.mtime = t.UnixNano()
			}
			switch m := fi.Mode(); {
			case m.IsDir():
				f.ft = scanner.FileDirectory
			case m&iofs.ModeSymlink != 0:
				f.ft = scanner.FileSymlink
				t, err := os.Readlink(p)
				if err != nil {
					return err
				}
				f.linkData = t // resolved to fid: below, once every entry is known
			case m.IsRegular():
				f.size = fi.Size()
				if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
					key := [2]uint64{uint64(st.Dev), st.Ino}
					if j, ok := inodes[key]; ok {
						f.ft = scanner.FileLink
						f.linkData = "fid:" + uploadFileID(j)
						f.size = 0
					} else {
						inodes[key] = len(files)
					}
				}
			default:
				return fmt.Errorf("client: %s: not a regular file, directory or symlink", p)
			}
			files = append(files, f)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	// Symlinks to entries of this session become fid:/fid_abs: (reference-client.md §4.1),
	// so the terminal points them at the copy; others keep their text as path:.
	index := make(map[string]int, len(files))
	for i, f := range files {
		index[f.local] = i
	}
	for _, f := range files {
		if f.ft != scanner.FileSymlink {
			continue
		}
		t := f.linkData
		abs := t
		if !filepath.IsAbs(t) {
			abs = filepath.Join(filepath.Dir(f.local), t)
		}
		j, ok := index[filepath.Clean(abs)]
		switch {
		case ok && filepath.IsAbs(t):
			f.linkData = "fid_abs:" + uploadFileID(j)
		case ok:
			f.linkData = "fid:" + uploadFileID(j)
		default:
			f.linkData = "path:" + t
		}
	}
	return files, nil
}

// absLocal makes p absolute against cwd and expands a leading ~/ against home.
func absLocal(p, cwd, home string) string {
	if p == "~" {
		p = home
	} else if strings.HasPrefix(p, "~/") {
		p = filepath.Join(home, p[2:])
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(cwd, p)
	}
	return filepath.Clean(p)
}

// mirrorName is the name a local absolute path has on the other side in Mirror mode:
// "~/rel" under home, the absolute path otherwise (reference-client.md §1).
func mirrorName(local, home string) string {
	if home != "" && home != "/" {
		if rel, err := filepath.Rel(home, local); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			if rel == "." {
				return "~"
			}
			return "~/" + filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(local)
}

// remoteIsDir reports whether a send destination names a directory: it ends with '/',
// or it is one of ".", "..", "~" (which the terminal would not treat as directories
// otherwise: a bare "~" is not expanded, terminal-side.md §8).
func remoteIsDir(dest string) bool {
	return strings.HasSuffix(dest, "/") || dest == "." || dest == ".." || dest == "~"
}

// joinRemote joins a remote directory and a name with '/', keeping a leading "~/".
func joinRemote(dir, name string) string {
	if dir == "~" || dir == "~/" {
		return "~/" + name
	}
	if strings.HasPrefix(dir, "~/") {
		return "~/" + path.Join(dir[2:], name)
	}
	return path.Join(dir, name)
}

// compressedExts are extensions of formats that are already compressed; auto
// compression skips them (reference-client.md §1).
var compressedExts = map[string]bool{
	".zip": true, ".gz": true, ".tgz": true, ".bz2": true, ".tbz2": true, ".xz": true, ".txz": true,
	".zst": true, ".lz4": true, ".lzma": true, ".lz": true, ".7z": true, ".rar": true, ".br": true,
	".jar": true, ".apk": true, ".deb": true, ".rpm": true, ".whl": true, ".epub": true, ".docx": true,
	".xlsx": true, ".pptx": true, ".odt": true, ".jpg": true, ".jpeg": true, ".png": true, ".gif": true,
	".webp": true, ".heic": true, ".avif": true, ".jxl": true, ".mp3": true, ".mp4": true, ".m4a": true,
	".m4v": true, ".mkv": true, ".webm": true, ".avi": true, ".mov": true, ".ogg": true, ".opus": true,
	".flac": true, ".aac": true, ".pdf": true, ".woff": true, ".woff2": true,
}

// compressThreshold: only regular files larger than this are compressed.
const compressThreshold = 4096

// shouldCompress applies the compression policy to a regular file of size bytes.
func shouldCompress(c Compress, name string, size int64) bool {
	if c == CompressNever || size <= compressThreshold {
		return false
	}
	if c == CompressAlways {
		return true
	}
	return !compressedExts[strings.ToLower(path.Ext(name))]
}

// compressSend applies the compression policy to a regular file this host sends: auto
// compresses only what zlib would make smaller (compressible), whatever its name says.
func compressSend(c Compress, name string, size int64) bool {
	return shouldCompress(c, name, size) && (c != CompressAuto || compressible(name, size))
}

// compressible reports whether zlib would make the file at name noticeably smaller, from
// what the fastest deflate level does to samples of it: the start, the middle and the end,
// sampleSize bytes each (all of a smaller file). Data that is already compressed or
// encrypted, whatever its name, costs both sides CPU for nothing when compressed: on a
// small machine that CPU is taken from ssh. A file that cannot be read here is taken as
// compressible; sending it reports the error.
func compressible(name string, size int64) bool {
	const sampleSize = 16 << 10
	// Never blocking: a FIFO put in the file's place since the scan must not hang us.
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return true
	}
	defer f.Close()
	var out int64 // compressed bytes
	zw, err := flate.NewWriter(&countingWriter{w: io.Discard, n: &out}, flate.BestSpeed)
	if err != nil {
		return true
	}
	buf := make([]byte, sampleSize)
	var in, end int64 // bytes sampled; where the last sample ended
	for _, off := range [...]int64{0, size/2 - sampleSize/2, size - sampleSize} {
		off = max(off, end) // Samples of a small file would overlap: each byte once.
		n, _ := f.ReadAt(buf, off)
		if n == 0 {
			continue
		}
		in, end = in+int64(n), off+int64(n)
		_, _ = zw.Write(buf[:n]) // Cannot fail: io.Discard does not.
	}
	_ = zw.Close() // Cannot fail: io.Discard does not.
	if in == 0 {
		return true
	}
	return out < in-in/20 // Saves at least 5 %.
}

// rsyncThreshold: deltas are used only for regular files larger than this.
const rsyncThreshold = 4096
