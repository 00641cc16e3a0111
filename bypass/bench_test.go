package bypass_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/xferterm/xferterm/bypass"
)

// BenchmarkVerify measures what one attempt costs the terminal, by outcome: the
// figures behind the pacing constants (see the package doc).
func BenchmarkVerify(b *testing.B) {
	key := newKey(b)
	other := newKey(b)
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	for _, bc := range []struct {
		name string
		pw   string
	}{
		{"sha256-wrong", bypass.EncodeSHA256("s", "guess")},
		{"kitty1-malformed", "kitty-1:{\"iv\":\"0\"}"},
		{"kitty1-other-key", kitty1For(b, other, "s", "right", now)},
		{"kitty1-wrong", kitty1For(b, key, "s", "guess", now)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			v := bypass.NewVerifier(key, bypass.NewSecret("right"), func() time.Time { return now })
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify("s", bc.pw); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
	b.Run("kitty1-right-file", func(b *testing.B) {
		used, err := bypass.NewFileIDs(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		v := bypass.New(bypass.Options{Key: key, Password: bypass.NewSecret("right"), Used: used,
			Now: func() time.Time { return now }})
		// Each value is accepted once, so they are made as the loop needs them, with
		// the timer stopped.
		type value struct{ id, pw string }
		var values []value
		n := 0
		b.ReportAllocs()
		for b.Loop() {
			if len(values) == 0 {
				b.StopTimer()
				for range 1024 {
					id := strconv.Itoa(n)
					n++
					values = append(values, value{id, kitty1For(b, key, id, "right", now)})
				}
				b.StartTimer()
			}
			v0 := values[len(values)-1]
			values = values[:len(values)-1]
			if _, err := v.Verify(v0.id, v0.pw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
