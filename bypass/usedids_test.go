package bypass_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xferterm/xferterm/bypass"
	"github.com/xferterm/xferterm/internal/lockfile"
)

// sharedVerifier returns a Verifier for key, password "right" and the clock, that
// records used ids in dir, as every xferterm process using that key does.
func sharedVerifier(t *testing.T, key *bypass.KeyPair, dir string, now func() time.Time) *bypass.Verifier {
	t.Helper()
	used, err := bypass.NewFileIDs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return bypass.New(bypass.Options{Key: key, Password: bypass.NewSecret("right"), Now: now, Used: used})
}

// TestReplayAcrossVerifiersSharingTheKey is finding 6 of the adversarial review (issue
// 16): a kitty-1 value one xferterm accepted was accepted by a second one that uses the
// same key pair. Each Verifier here has its own FileIDs, as separate processes do.
func TestReplayAcrossVerifiersSharingTheKey(t *testing.T) {
	dir := t.TempDir()
	key, err := bypass.LoadOrCreateKeyPair(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	pw := kitty1For(t, key, "s1", "right", now)
	first := sharedVerifier(t, key, dir, fixedClock(now))
	second := sharedVerifier(t, key, dir, fixedClock(now.Add(time.Minute)))
	if _, err := first.Verify("s1", pw); err != nil {
		t.Fatalf("first process: %v", err)
	}
	if _, err := second.Verify("s1", pw); !errors.Is(err, bypass.ErrReplay) {
		t.Fatalf("second process: %v, want ErrReplay", err)
	}
	sha := bypass.EncodeSHA256("s2", "right")
	if _, err := second.Verify("s2", sha); err != nil {
		t.Fatalf("sha256 in the second process: %v", err)
	}
	if _, err := first.Verify("s2", sha); !errors.Is(err, bypass.ErrReplay) {
		t.Fatalf("sha256 replayed to the first process: %v, want ErrReplay", err)
	}
	// A third, started after the others, remembers too; the public key is unchanged.
	again, err := bypass.LoadOrCreateKeyPair(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.PublicKeyEnv() != key.PublicKeyEnv() {
		t.Fatal("the public key changed")
	}
	if _, err := sharedVerifier(t, again, dir, fixedClock(now)).Verify("s1", pw); !errors.Is(err, bypass.ErrReplay) {
		t.Fatalf("third process: %v, want ErrReplay", err)
	}
}

// TestConcurrentVerifiersAcceptOnce: verifiers racing on one value through their own
// opens of the file; the lock lets exactly one accept it.
func TestConcurrentVerifiersAcceptOnce(t *testing.T) {
	dir := t.TempDir()
	key := newKey(t)
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	const values = 5
	pws := make([]string, values)
	for i := range pws {
		pws[i] = kitty1For(t, key, "c"+strconv.Itoa(i), "right", now)
	}
	var mu sync.Mutex
	accepted := make([]int, values)
	var wg sync.WaitGroup
	for range 8 {
		v := sharedVerifier(t, key, dir, fixedClock(now))
		wg.Go(func() {
			for i, pw := range pws {
				_, err := v.Verify("c"+strconv.Itoa(i), pw)
				switch {
				case err == nil:
					mu.Lock()
					accepted[i]++
					mu.Unlock()
				case !errors.Is(err, bypass.ErrReplay):
					t.Errorf("value %d: %v", i, err)
				}
			}
		})
	}
	wg.Wait()
	for i, n := range accepted {
		if n != 1 {
			t.Errorf("value %d accepted %d times, want 1", i, n)
		}
	}
}

// TestUsedIDsFileHostile: the file of used ids as something else may have left it.
// Whatever is there, nothing outside the file is written, nothing blocks, and a value
// is never accepted twice: what cannot be used refuses the right password (ErrStore).
func TestUsedIDsFileHostile(t *testing.T) {
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	header := bypass.AppendUsedIDs(nil, nil)
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
		// usable: the right password is accepted once, and the file is ours after.
		usable bool
	}{
		{"missing", func(*testing.T, string) {}, true},
		{"empty", writeFile(nil), true},
		{"a header cut short at creation", writeFile(header[:9]), true},
		{"garbage after the header", writeFile(append(append([]byte(nil), header...), randomBytes(4096)...)), true},
		{"a record cut short", writeFile(append(bypass.AppendUsedIDs(nil, []bypass.UsedID{{Hash: bypass.HashID("old"), Until: now.Add(time.Minute).UnixNano()}}), 1, 2, 3)), true},
		{"huge (64 MiB of records and zeros)", func(t *testing.T, path string) {
			writeFile(header)(t, path)
			if err := os.Truncate(path, 64<<20); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"readable by others", func(t *testing.T, path string) {
			writeFile(header)(t, path)
			if err := os.Chmod(path, 0o666); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"another format", writeFile([]byte("xferterm bypass used session ids v2\n")), false},
		{"garbage", writeFile(randomBytes(300)), false},
		{"a symbolic link to a file", func(t *testing.T, path string) {
			victim := filepath.Join(filepath.Dir(path), "victim")
			writeFile([]byte("keep me"))(t, victim)
			if err := os.Symlink(victim, path); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a symbolic link to nowhere", func(t *testing.T, path string) {
			if err := os.Symlink(filepath.Join(filepath.Dir(path), "victim"), path); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a FIFO", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, bypass.UsedIDsFileName)
			tt.setup(t, path)
			key := newKey(t)
			pw := kitty1For(t, key, "s1", "right", now)
			used, err := bypass.NewFileIDs(dir)
			if err != nil {
				t.Fatal(err)
			}
			checkErr := used.Check(now)
			v := bypass.New(bypass.Options{Key: key, Password: bypass.NewSecret("right"), Now: fixedClock(now), Used: used})
			_, err1 := v.Verify("s1", pw)
			_, err2 := v.Verify("s1", pw)
			if !tt.usable {
				for i, err := range []error{checkErr, err1, err2} {
					if !errors.Is(err, bypass.ErrStore) {
						t.Errorf("result %d: %v, want ErrStore", i, err)
					}
				}
				if data, err := os.ReadFile(filepath.Join(dir, "victim")); err == nil && string(data) != "keep me" {
					t.Errorf("the link's target now holds %q", data)
				}
				if _, err := os.Stat(filepath.Join(dir, "victim")); tt.name == "a symbolic link to nowhere" && err == nil {
					t.Error("the link's target was created")
				}
				return
			}
			if checkErr != nil || err1 != nil || !errors.Is(err2, bypass.ErrReplay) {
				t.Fatalf("Check %v, first use %v, second use %v; want nil, nil, ErrReplay", checkErr, err1, err2)
			}
			st, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
				t.Errorf("file mode %v, want a regular file with 0600", st.Mode())
			}
			if st.Size() > 4096 {
				t.Errorf("file of %d bytes after the rewrite", st.Size())
			}
		})
	}
}

// TestUsedIDsFileLockedByAnother: a process that takes the lock on the record and
// keeps it stalls a bypass for a second at most, which is then refused (an id that
// cannot be recorded could be replayed); once the lock is free the value goes through.
func TestUsedIDsFileLockedByAnother(t *testing.T) {
	dir := t.TempDir()
	key := newKey(t)
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	v := sharedVerifier(t, key, dir, fixedClock(now))
	holder, err := lockfile.Open(filepath.Join(dir, bypass.UsedIDsFileName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Close() }()
	if err := lockfile.Lock(holder, 0); err != nil {
		t.Fatal(err)
	}
	pw := kitty1For(t, key, "s1", "right", now)
	if _, err := v.Verify("s1", pw); !errors.Is(err, bypass.ErrStore) || !errors.Is(err, bypass.ErrRefused) {
		t.Fatalf("while another holds the lock: %v, want ErrStore", err)
	}
	if err := lockfile.Unlock(holder); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify("s1", pw); err != nil {
		t.Fatalf("once the lock is free: %v", err)
	}
}

func writeFile(data []byte) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		t.Helper()
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 16))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestUsedIDsFileFormat: records survive a round trip, expired and implausible ones
// are dropped, duplicates merge, and a file with more records than MaxUsedIDs keeps
// those that expire last.
func TestUsedIDsFileFormat(t *testing.T) {
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	at := func(d time.Duration) int64 { return now.Add(d).UnixNano() }
	a, b, c, d := bypass.HashID("a"), bypass.HashID("b"), bypass.HashID("c"), bypass.HashID("d")
	in := []bypass.UsedID{
		{a, at(time.Minute)},
		{b, at(0)},               // expires now: dropped
		{c, at(-time.Minute)},    // expired
		{d, at(48 * time.Hour)},  // later than anything Use writes
		{a, at(3 * time.Minute)}, // the same id again: the later expiry counts
	}
	got, err := bypass.ParseUsedIDs(bypass.AppendUsedIDs(nil, in), now)
	if err != nil {
		t.Fatal(err)
	}
	if want := []bypass.UsedID{{a, at(3 * time.Minute)}}; len(got) != 1 || got[0] != want[0] {
		t.Fatalf("parsed %v, want %v", got, want)
	}

	many := make([]bypass.UsedID, bypass.MaxUsedIDs+10)
	for i := range many {
		many[i] = bypass.UsedID{Hash: bypass.HashID(strconv.Itoa(i)), Until: at(time.Duration(i+1) * time.Millisecond)}
	}
	got, err = bypass.ParseUsedIDs(bypass.AppendUsedIDs(nil, many), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != bypass.MaxUsedIDs || got[0] != many[10] {
		t.Fatalf("kept %d records starting with %v, want %d starting with %v", len(got), got[0], bypass.MaxUsedIDs, many[10])
	}
}

// TestUsedIDsSurviveTheClockSetBack: an id is remembered UsedFor past its value's
// timestamp, so a clock set back by up to Window does not let the value through again.
func TestUsedIDsSurviveTheClockSetBack(t *testing.T) {
	dir := t.TempDir()
	key := newKey(t)
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	clock := now
	v := sharedVerifier(t, key, dir, func() time.Time { return clock })
	pw := kitty1For(t, key, "s1", "right", now)
	if _, err := v.Verify("s1", pw); err != nil {
		t.Fatal(err)
	}
	// Much later, another value is accepted (the record drops what expired) …
	clock = now.Add(bypass.Window + 4*time.Minute)
	other := kitty1For(t, key, "s2", "right", clock)
	if _, err := v.Verify("s2", other); err != nil {
		t.Fatal(err)
	}
	// … then the clock is set back 5 minutes, into the first value's window.
	clock = clock.Add(-bypass.Window)
	if _, err := v.Verify("s1", pw); !errors.Is(err, bypass.ErrReplay) {
		t.Fatalf("after the clock was set back: %v, want ErrReplay", err)
	}
}

// FuzzUsedIDsFile parses arbitrary file content: it never panics, never keeps more
// than MaxUsedIDs records, keeps only live ones with distinct ids, and what it keeps
// is written back so that it parses the same.
func FuzzUsedIDsFile(f *testing.F) {
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	f.Add([]byte{})
	f.Add(bypass.AppendUsedIDs(nil, nil))
	f.Add(bypass.AppendUsedIDs(nil, []bypass.UsedID{
		{bypass.HashID("a"), now.Add(time.Minute).UnixNano()},
		{bypass.HashID("b"), now.Add(-time.Minute).UnixNano()},
	}))
	f.Add(append(bypass.AppendUsedIDs(nil, []bypass.UsedID{{bypass.HashID("c"), now.Add(time.Hour).UnixNano()}}), 7, 7, 7))
	f.Add([]byte("xferterm bypass used"))
	f.Add([]byte("xferterm bypass used session ids v2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ids, err := bypass.ParseUsedIDs(data, now)
		if err != nil {
			if len(ids) != 0 {
				t.Fatalf("%d records with error %v", len(ids), err)
			}
			return
		}
		if len(ids) > bypass.MaxUsedIDs {
			t.Fatalf("%d records", len(ids))
		}
		seen := map[[16]byte]bool{}
		for _, u := range ids {
			if seen[u.Hash] {
				t.Fatalf("id %x twice", u.Hash)
			}
			seen[u.Hash] = true
			if u.Until <= now.UnixNano() || u.Until > now.Add(48*time.Hour).UnixNano() {
				t.Fatalf("record expiring at %d kept", u.Until)
			}
		}
		out := bypass.AppendUsedIDs(nil, ids)
		again, err := bypass.ParseUsedIDs(out, now)
		if err != nil || len(again) != len(ids) {
			t.Fatalf("round trip: %d records, %v; want %d", len(again), err, len(ids))
		}
		for i := range ids {
			if again[i] != ids[i] {
				t.Fatalf("round trip changed record %d", i)
			}
		}
		if !bytes.Equal(bypass.AppendUsedIDs(nil, again), out) {
			t.Fatal("round trip is not byte-stable")
		}
	})
}
