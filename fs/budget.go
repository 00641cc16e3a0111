package fs

import "unsafe"

// The engine's memory for the remote. Everything whose size the remote decides (the
// names it sends, the entries it announces, the signatures it queues, the listings it
// asks for, the buffers of the files it has open at once) is charged to one budget,
// Limits.MaxHeld, shared by every session, so that no number of sessions adds up past
// it. A charge the budget cannot take is refused the way the protocol refuses too much
// of that thing: a spec or an upload entry fails with "too many", a listing stops with
// StatusTooManyEntries, a signature is dropped and its file sent whole as a delta of
// literal data (which the client cannot tell from a delta that found nothing to reuse).
// Each session gives back all it holds when it ends.
//
// What the engine keeps besides, is bounded by constants and by the session counts:
// the replies waiting for the child (Limits.MaxOutbox), and per session a few fixed
// scratch buffers.

// Costs of what the engine holds, in bytes: the Go structures besides the remote's
// strings. Over-estimates, so that the budget is a true bound.
const (
	// costSpec is a spec besides its name and fid. Its name is charged three times: as
	// received, in the description of the question (Item.Name and Item.Path) and in the
	// copy the approval side shows.
	costSpec = int64(unsafe.Sizeof(spec{})) + 2*int64(unsafe.Sizeof(struct{ a, b, c string }{})) + 64
	// costEntry is an upload entry besides its fid and path: the entry, its place in the
	// session's map, and the slices and maps that may name it.
	costEntry = int64(unsafe.Sizeof(upFile{})) + 96
	// costDone is a completed upload file besides its fid and path: its fid and path
	// are kept, for links and duplicates (upload.retire).
	costDone = 112
	// costFailed is a failed upload entry besides its fid: only the fid is kept, so
	// that later packets for it are dropped silently (§6.3) and it is not reused.
	costFailed = 64
	// costRequest is a data request besides its fid and path.
	costRequest = int64(unsafe.Sizeof(request{})) + 64
	// sigFactor is what a byte of signature costs: the decoder's growing tables, then
	// the lookup tables of the decoded signature (about four times the wire size).
	sigFactor = 5
	// costListEntry is a listing entry besides its path: the entry, its (dev, inode)
	// group, and its place among the paths a request may name.
	costListEntry = int64(unsafe.Sizeof(listEntry{})) + 48 + 64
	// costListed is what stays of an entry once the listing is sent: its place among the
	// paths a request may name (its path is charged with it).
	costListed = 64
	// costName is a name read from a directory besides its bytes.
	costName = int64(unsafe.Sizeof("")) + 8
	// costOpen is an upload entry being written: its temporary file and writers;
	// costInflate and costPatch its decompressor and rsync patcher when it has them.
	costOpen    = 16 << 10
	costInflate = 128 << 10
	costPatch   = 96 << 10
	// costDeflate is a receive session's compressor (klauspost's zlib at the default
	// level, about 850 KiB once it has compressed something).
	costDeflate = 1 << 20
)

// budget is the engine's memory for the remote (Limits.MaxHeld). Guarded by e.mu.
type budget struct {
	limit, used int64
}

// account is what one session holds of the budget. Guarded by e.mu.
type account struct {
	b      *budget
	held   int64
	closed bool // the session has ended: nothing more is charged
}

// take charges n bytes, or reports false, charging nothing, when the budget cannot
// hold them or the session has ended.
func (a *account) take(n int64) bool {
	if a.closed || a.b.used+n > a.b.limit {
		return false
	}
	a.b.used += n
	a.held += n
	return true
}

// give returns n bytes taken before (never more than the session holds: what a
// session gives after it has closed its account is already back).
func (a *account) give(n int64) {
	n = min(n, a.held)
	a.b.used -= n
	a.held -= n
}

// close returns everything the session holds, for good. It may be called more than
// once.
func (a *account) close() {
	a.give(a.held)
	a.closed = true
}
