package fs

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/xferterm/xferterm/scanner"
)

// Work done by one lister.step call, so that a huge tree never holds e.mu for long:
// the pty writer calls again as soon as it has written what came before.
const (
	listWalkBudget = 256 // lstat calls (and directory reads) per step
	listEmitBudget = 64  // listing messages per step
)

// maxListEntries caps the entries of one listing. The entries are kept in memory until
// the walk ends (hard links and symlink targets need the whole tree), so a spec that
// would exceed it fails with StatusTooManyEntries instead.
const maxListEntries = 1 << 20

// listPhase is where a lister is.
type listPhase uint8

const (
	listWalking  listPhase = iota + 1 // lstat the specs and walk the directories
	listTargets                       // resolve the symlinks' targets
	listEmitting                      // queue the spec errors, then the entries
	listDone
)

// fileKey identifies a file on this machine.
type fileKey struct{ dev, ino uint64 }

// keyOf returns the key of the file st describes.
func keyOf(st *unix.Stat_t) fileKey { return fileKey{uint64(st.Dev), st.Ino} }

// modeOf returns st's st_mode (type and permission bits), 16 bits wide on macOS and
// FreeBSD, 32 on Linux.
func modeOf(st *unix.Stat_t) uint32 { return uint32(st.Mode) }

// listEntry is one file found by the walk. Its index in lister.entries is its `st` id.
type listEntry struct {
	path   string
	spec   int32 // index of the spec it came from
	parent int32 // index of its directory, -1 for a spec root
	ft     scanner.FileType
	first  bool  // the first entry of its (dev, inode) group: emitted as itself
	next   int32 // the next regular entry of the same group (emitted as ft=link), or -1
	target int32 // ft=link: its group's first entry; symlink: the entry it resolves to; or -1
	size   int64
	mtime  int64 // ns
	perm   uint32
	key    fileKey
}

// listGroup is the first and last entry of a (dev, inode) group.
type listGroup struct{ first, last int32 }

// listFrame is a directory being walked. It holds the directory open, and its children
// are looked at through that descriptor (fstatat, openat with O_NOFOLLOW), so that a
// directory of the tree replaced by a symlink meanwhile cannot lead the walk elsewhere.
type listFrame struct {
	entry int32    // index of the directory's entry
	dir   *os.File // the directory; nil when it could not be opened (no children)
	names []string
	cost  int64 // what names holds of the budget
	next  int
	read  bool
}

// specError is a spec that could not be listed.
type specError struct{ fid, status string }

// lister produces the listing of an approved receive session (terminal-side.md §7.2),
// a slice of work per step: first the walk (lstat the specs in arrival order, walk
// directories depth-first in name order, never following a symlink), then the symlink
// targets, then the messages: every spec error, then the entries group by group (the
// first entry of each (dev, inode) group, followed by the other regular entries of the
// group as ft=link with d = the first's id; other duplicates are not emitted).
//
// Differences from kitty: directories are read in name order (kitty: readdir order), and
// a directory reached a second time (overlapping specs) is not walked again, so a tree
// is never listed twice and a bind-mount loop ends.
type lister struct {
	home  string
	specs []spec
	phase listPhase
	limit int // maxListEntries; lowered by tests

	// What it holds of the session's budget: the walk's entries and the names of the
	// directories being read (walkCost, and each frame's cost: given back when the walk
	// ends or pops them), and what the requests are checked against (kept until the
	// session ends).
	acct     *account
	walkCost int64

	// Walking.
	nextSpec int
	stack    []listFrame
	entries  []listEntry
	groups   map[fileKey]listGroup
	errs     []specError

	// Targets and emitting.
	ti      int   // next entry whose symlink target to resolve
	ei      int   // next spec error to emit
	ni      int   // next entry to consider
	follow  int32 // next hard link of the group being emitted, or -1
	emitted int   // entries emitted
	failed  int   // spec errors found

	// readDir, when set (tests), is called after a directory's names are read.
	readDir func(path string)

	// listed maps each emitted path to what was listed there: the paths a data request
	// may name, and the file (dev, inode) a request must find there.
	listed map[string]listed
}

// listed is what the listing said about a path.
type listed struct {
	ft  scanner.FileType
	key fileKey
}

func newLister(home string, specs []spec, acct *account) *lister {
	return &lister{
		home:   home,
		specs:  specs,
		acct:   acct,
		phase:  listWalking,
		limit:  maxListEntries,
		groups: make(map[fileKey]listGroup),
		follow: -1,
		listed: make(map[string]listed),
	}
}

// empty reports whether the listing produced nothing at all: no entry and no error.
func (l *lister) empty() bool { return l.emitted == 0 && l.failed == 0 }

// lookup returns what was listed at path.
func (l *lister) lookup(path string) (listed, bool) {
	e, ok := l.listed[path]
	return e, ok
}

// step does a bounded slice of work, queueing any messages on d. It reports true once
// every entry has been queued; the caller then adds the final status.
func (l *lister) step(d *download) bool {
	switch l.phase {
	case listWalking:
		l.walk()
	case listTargets:
		l.resolveTargets()
	case listEmitting:
		l.emit(d)
	}
	if l.phase == listDone {
		// Keep only what data requests are checked against.
		l.failed = len(l.errs)
		l.close()
		l.entries, l.groups, l.errs = nil, nil, nil
		l.acct.give(l.walkCost)
		l.walkCost = 0
		return true
	}
	return false
}

// walk lstats up to listWalkBudget paths.
func (l *lister) walk() {
	for budget := listWalkBudget; budget > 0; budget-- {
		if len(l.stack) == 0 {
			if l.nextSpec == len(l.specs) {
				l.phase = listTargets
				return
			}
			l.walkSpec(int32(l.nextSpec))
			l.nextSpec++
			continue
		}
		top := &l.stack[len(l.stack)-1]
		dir := &l.entries[top.entry]
		if !top.read {
			top.read = true
			l.openFrame(len(l.stack) - 1)
			if l.readDir != nil {
				l.readDir(dir.path)
			}
			continue
		}
		if top.next == len(top.names) {
			l.pop()
			continue
		}
		name := top.names[top.next]
		top.names[top.next] = ""
		top.next++
		path := joinPath(dir.path, name)
		var st unix.Stat_t
		if unix.Fstatat(int(top.dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || !listable(modeOf(&st)) {
			continue // §7.2: children that cannot be lstat'ed or are of other types are skipped
		}
		if !l.add(path, dir.spec, top.entry, &st) {
			l.full(dir.spec)
		}
	}
}

// full ends the walk when the listing can take no more (its cap, or the budget): the
// spec being walked fails with StatusTooManyEntries; what was found before stays listed.
func (l *lister) full(spec int32) {
	l.errs = append(l.errs, specError{l.specs[spec].fid, scanner.StatusTooManyEntries})
	l.close()
}

// openFrame opens the directory of frame i and reads its names, sorted: a spec root by
// its path (only its last component must not be a link), a child through its parent's
// descriptor. The directory must be the one the walk found (same dev and inode);
// otherwise, or when it cannot be read, it has no children (§7.2: an unreadable
// directory simply has no children listed).
func (l *lister) openFrame(i int) {
	f := &l.stack[i]
	e := &l.entries[f.entry]
	const flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NONBLOCK
	var fd int
	var err error
	if e.parent < 0 {
		fd, err = unix.Open(e.path, flags, 0)
	} else {
		if i == 0 {
			return // cannot happen: a child's frame is pushed while its parent's is on top
		}
		parent := &l.stack[i-1]
		if parent.dir == nil || parent.entry != e.parent {
			return
		}
		fd, err = unix.Openat(int(parent.dir.Fd()), e.path[strings.LastIndexByte(e.path, '/')+1:], flags, 0)
	}
	if err != nil {
		return
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || keyOf(&st) != e.key {
		_ = unix.Close(fd) // Read-only.
		return
	}
	f.dir = os.NewFile(uintptr(fd), e.path)
	f.names, _ = f.dir.Readdirnames(-1) // Best effort: what was read is listed.
	for _, n := range f.names {
		f.cost += costName + int64(len(n))
	}
	if !l.acct.take(f.cost) {
		// More names than the budget holds: the listing stops there, as at its cap.
		f.names, f.cost = nil, 0
		l.full(e.spec)
		return
	}
	slices.Sort(f.names)
}

// pop ends the walk of the top frame.
func (l *lister) pop() {
	top := &l.stack[len(l.stack)-1]
	if top.dir != nil {
		_ = top.dir.Close() // Read-only: nothing to lose.
	}
	l.acct.give(top.cost)
	l.stack[len(l.stack)-1] = listFrame{}
	l.stack = l.stack[:len(l.stack)-1]
}

// close ends the walk, releasing the directories it holds open. It may be called more
// than once; the session calls it when it dies mid-listing.
func (l *lister) close() {
	for len(l.stack) > 0 {
		l.pop()
	}
	l.stack = nil
}

// walkSpec lstats a spec root (§7.2 step 1). What the listing reads is what the
// question described and the user (or the policy) judged: a spec described as an error
// fails with that error whatever is there now, and one that is no longer the file the
// description found (another device or inode: a link planted or swapped since) fails
// with StatusSpecChanged. The walk below a root never follows a link (walk, openFrame),
// so every entry lies in the tree that was judged.
func (l *lister) walkSpec(i int32) {
	s := l.specs[i]
	if s.err != "" {
		l.errs = append(l.errs, specError{s.fid, s.err})
		return
	}
	path := resolvePath(l.home, s.name)
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		l.errs = append(l.errs, specError{s.fid, scanner.StatusErrno(errnoName(err), scanner.TextReadSpec)})
		return
	}
	if keyOf(&st) != s.key {
		l.errs = append(l.errs, specError{s.fid, scanner.StatusSpecChanged})
		return
	}
	if !readable(path, modeOf(&st)) {
		l.errs = append(l.errs, specError{s.fid, scanner.StatusNoReadPermission})
		return
	}
	if !listable(modeOf(&st)) {
		l.errs = append(l.errs, specError{s.fid, scanner.StatusBadFileType})
		return
	}
	if !l.add(path, i, -1, &st) {
		l.full(i)
	}
}

// add records an entry and, for a directory seen for the first time, schedules its
// walk. It reports false when the listing is full: at its cap, or at the budget.
func (l *lister) add(path string, spec, parent int32, st *unix.Stat_t) bool {
	walk, keep := costListEntry-costListed, costListed+int64(len(path))
	if len(l.entries) >= l.limit || !l.acct.take(walk+keep) {
		return false
	}
	l.walkCost += walk
	idx := int32(len(l.entries))
	e := listEntry{
		path:   path,
		spec:   spec,
		parent: parent,
		ft:     fileTypeOf(modeOf(st)),
		next:   -1,
		target: -1,
		size:   st.Size,
		mtime:  st.Mtim.Nano(),
		perm:   modeOf(st) & 0o7777,
		key:    keyOf(st),
	}
	g, seen := l.groups[e.key]
	switch {
	case !seen:
		e.first = true
		l.groups[e.key] = listGroup{idx, idx}
	case e.ft == scanner.FileRegular && l.entries[g.first].ft == scanner.FileRegular:
		// A hard link (or the same file reached twice): emitted after the group's first.
		e.target = g.first
		l.entries[g.last].next = idx
		l.groups[e.key] = listGroup{g.first, idx}
	default:
		// The same directory or symlink again: not emitted, not walked, not held.
		l.acct.give(walk + keep)
		l.walkCost -= walk
		return true
	}
	l.entries = append(l.entries, e)
	if e.first && e.ft == scanner.FileDirectory {
		l.stack = append(l.stack, listFrame{entry: idx})
	}
	return true
}

// resolveTargets finds, for up to listWalkBudget symlinks, the listed entry their
// final target is (§7.2 step 4): a dangling link or one leading outside gets none.
func (l *lister) resolveTargets() {
	for budget := listWalkBudget; budget > 0 && l.ti < len(l.entries); l.ti++ {
		e := &l.entries[l.ti]
		if e.ft != scanner.FileSymlink || !e.first {
			continue
		}
		budget--
		var st unix.Stat_t
		if unix.Stat(e.path, &st) != nil {
			continue
		}
		if g, ok := l.groups[keyOf(&st)]; ok {
			e.target = g.first
		}
	}
	if l.ti == len(l.entries) {
		l.phase = listEmitting
	}
}

// emit queues up to listEmitBudget messages: the spec errors, then the entries.
func (l *lister) emit(d *download) {
	for budget := listEmitBudget; budget > 0; budget-- {
		switch {
		case l.ei < len(l.errs):
			e := l.errs[l.ei]
			l.ei++
			if c := d.errorReply(e.status, e.fid); c != nil {
				d.queue(c)
			}
		case l.follow >= 0:
			i := l.follow
			l.follow = l.entries[i].next
			l.queueEntry(d, i, scanner.FileLink)
		case l.ni < len(l.entries):
			i := int32(l.ni)
			l.ni++
			e := &l.entries[i]
			if !e.first {
				continue
			}
			l.queueEntry(d, i, e.ft)
			if e.ft == scanner.FileRegular {
				l.follow = e.next
			}
		default:
			l.phase = listDone
			return
		}
	}
}

// queueEntry queues the `ac=file` message of entry i (§7.2 step 2).
func (l *lister) queueEntry(d *download, i int32, ft scanner.FileType) {
	e := &l.entries[i]
	c := scanner.Command{
		Action:      scanner.ActionFile,
		FileType:    ft,
		ID:          d.id,
		FileID:      l.specs[e.spec].fid,
		Mtime:       scanner.Some(e.mtime),
		Permissions: scanner.Some(int64(e.perm)),
		Size:        scanner.Some(e.size),
		Name:        e.path,
		Status:      strconv.Itoa(int(i)),
	}
	if e.parent >= 0 {
		c.Parent = strconv.Itoa(int(e.parent))
	}
	if e.target >= 0 {
		c.Data = strconv.AppendInt(nil, int64(e.target), 10)
	}
	d.queue(&c)
	l.listed[e.path] = listed{ft: ft, key: e.key}
	l.emitted++
}

// readNames returns the names in directory path, sorted; none if it cannot be read. It
// serves the question's description (describeSpecs), not the listing.
func readNames(path string) []string {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil
	}
	names, _ := f.Readdirnames(-1) // Best effort: what was read is listed.
	_ = f.Close()                  // Read-only: nothing to lose.
	slices.Sort(names)
	return names
}

// joinPath appends name to the directory path dir, which is not normalised (§8).
func joinPath(dir, name string) string {
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

// listable reports whether a file of this mode can be listed: regular, directory or
// symlink.
func listable(mode uint32) bool {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR, unix.S_IFLNK:
		return true
	}
	return false
}

func fileTypeOf(mode uint32) scanner.FileType {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return scanner.FileDirectory
	case unix.S_IFLNK:
		return scanner.FileSymlink
	}
	return scanner.FileRegular
}
