package bypass

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// UsedIDs remembers the session ids of bypass values that carried the right password,
// until those values have expired, so that each is accepted once: a value seen in the
// terminal's stream cannot be presented again. Only values with the right password are
// recorded, so a remote that does not know the password cannot fill the record, and
// its failed attempts cannot lock anyone out.
//
// MemoryIDs remembers for one process; FileIDs for every process that shares the key
// pair, in a file beside it.
type UsedIDs interface {
	// Use records id as used until the time until. It fails with ErrReplay when id is
	// recorded already and has not expired, with ErrBusy when MaxUsedIDs ids that have
	// not expired are recorded, and with an error wrapping ErrStore when the record
	// cannot be read or written. It must be safe for concurrent use.
	Use(id string, until, now time.Time) error
}

// Limits of the record of used ids.
const (
	// MaxUsedIDs is how many unexpired ids a record holds. Only values with the right
	// password are recorded, and each for 10 minutes (UsedFor), so it takes more than
	// 27 accepted bypasses a second, for 10 minutes, to fill it.
	MaxUsedIDs = 16384

	// UsedFor is how long an id is remembered after its value expired (kitty-1) or was
	// accepted (sha256): a kitty-1 value is valid up to Window after its timestamp, and
	// this much more covers a clock that is set back by up to Window.
	UsedFor = 2 * Window

	// maxAhead is how far in the future a kitty-1 value may be dated to be recorded
	// although it is refused (its client's clock runs fast): it would be accepted once
	// this computer's clock catches up, so it must not be replayable then. A record
	// that expires later than UsedFor beyond this is not one we wrote.
	maxAhead = 24 * time.Hour
)

// usedID is one recorded id: a hash of the session id, and when it may be forgotten.
type usedID struct {
	hash  [16]byte
	until int64 // Unix nanoseconds
}

// hashID returns the fixed-size key under which a session id is recorded.
func hashID(id string) [16]byte {
	sum := taggedSum("xferterm bypass session id\x00", []byte(id))
	return [16]byte(sum[:16])
}

// taggedSum returns the SHA-256 of tag followed by data.
func taggedSum(tag string, data []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(tag))
	h.Write(data)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// useID adds h to ids, which holds no expired entry, or fails as UsedIDs.Use does
// when ids holds h already or limit entries.
func useID(ids []usedID, h [16]byte, until time.Time, limit int) ([]usedID, error) {
	for _, u := range ids {
		if u.hash == h {
			return ids, ErrReplay
		}
	}
	if len(ids) >= limit {
		return ids, ErrBusy
	}
	return append(ids, usedID{hash: h, until: until.UnixNano()}), nil
}

// live returns ids without those that expired by now or could not have been written
// by Use (expiring implausibly late), in place.
func live(ids []usedID, now time.Time) []usedID {
	lo, hi := now.UnixNano(), now.Add(maxAhead+2*UsedFor).UnixNano()
	out := ids[:0]
	for _, u := range ids {
		if u.until > lo && u.until <= hi {
			out = append(out, u)
		}
	}
	return out
}

// MemoryIDs is a UsedIDs for one process. The zero value is ready to use.
type MemoryIDs struct {
	limit int // read-only; 0 means MaxUsedIDs (tests set less)

	mu  sync.Mutex // guards ids
	ids []usedID   // no two with one hash; at most the limit
}

// Use implements UsedIDs.
func (m *MemoryIDs) Use(id string, until, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var err error
	m.ids, err = useID(live(m.ids, now), hashID(id), until, cmp.Or(m.limit, MaxUsedIDs))
	return err
}

// The file format of FileIDs: a header line, then records of recordSize bytes: the id's
// hash (16 bytes), the expiry in Unix nanoseconds (8 bytes, big-endian), and the first
// 8 bytes of SHA-256 over recordTag and those 24 bytes, so that a record cut short by a
// crash, or anything that was not written by Use, is told apart and dropped.
const (
	usedIDsHeader = "xferterm bypass used session ids v1\n"
	recordTag     = "xferterm used id\x00"
	recordSize    = 32

	// maxUsedIDsFile is the most of the file that is read: a full record and some slack
	// for records of expired ids, which are dropped as the file is written again.
	maxUsedIDsFile = len(usedIDsHeader) + 2*MaxUsedIDs*recordSize
)

// errNotUsedIDs is why a file that does not start with usedIDsHeader is not used.
var errNotUsedIDs = errors.New("not a record of used session ids")

// recordCheck returns the check bytes of a record's first 24 bytes.
func recordCheck(rec []byte) [8]byte {
	sum := taggedSum(recordTag, rec[:24])
	return [8]byte(sum[:8])
}

// parseUsedIDs reads the content of a FileIDs file: the records whose check holds and
// that have not expired by now, at most one per hash (the latest expiry) and at most
// MaxUsedIDs (those that expire last). A file that is empty, or holds a prefix of the
// header (a crash while it was created), holds no records. A file with another header
// is an error: it is not ours to overwrite.
func parseUsedIDs(data []byte, now time.Time) ([]usedID, error) {
	if len(data) < len(usedIDsHeader) {
		if !bytes.HasPrefix([]byte(usedIDsHeader), data) {
			return nil, errNotUsedIDs
		}
		return nil, nil
	}
	if string(data[:len(usedIDsHeader)]) != usedIDsHeader {
		return nil, errNotUsedIDs
	}
	data = data[len(usedIDsHeader):]
	index := make(map[[16]byte]int)
	var ids []usedID
	for ; len(data) >= recordSize; data = data[recordSize:] {
		rec := data[:recordSize]
		if check := recordCheck(rec); !bytes.Equal(check[:], rec[24:]) {
			continue
		}
		u := usedID{until: int64(binary.BigEndian.Uint64(rec[16:24]))}
		copy(u.hash[:], rec[:16])
		if i, ok := index[u.hash]; ok {
			ids[i].until = max(ids[i].until, u.until)
			continue
		}
		index[u.hash] = len(ids)
		ids = append(ids, u)
	}
	ids = live(ids, now)
	if len(ids) > MaxUsedIDs {
		// Keep those that expire last: they are the ones a replay could still use.
		slices.SortFunc(ids, func(a, b usedID) int { return cmp.Compare(a.until, b.until) })
		ids = ids[len(ids)-MaxUsedIDs:]
	}
	return ids, nil
}

// appendUsedIDs appends the file content that holds ids to dst.
func appendUsedIDs(dst []byte, ids []usedID) []byte {
	dst = append(dst, usedIDsHeader...)
	for _, u := range ids {
		start := len(dst)
		dst = append(dst, u.hash[:]...)
		dst = binary.BigEndian.AppendUint64(dst, uint64(u.until))
		check := recordCheck(dst[start:])
		dst = append(dst, check[:]...)
	}
	return dst
}

// storeError wraps err as the reason a FileIDs cannot be used.
func storeError(path string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrStore, path, err)
}
