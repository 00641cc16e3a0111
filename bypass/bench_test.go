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
	key, err := bypass.GenerateKeyPair()
	if err != nil {
		b.Fatal(err)
	}
	other, err := bypass.GenerateKeyPair()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	kitty1 := func(pubEnv, password string) string {
		pw, err := bypass.EncodeKitty1(pubEnv, "s", password, now)
		if err != nil {
			b.Fatal(err)
		}
		return pw
	}
	for _, bc := range []struct {
		name string
		pw   string
	}{
		{"sha256-wrong", bypass.EncodeSHA256("s", "guess")},
		{"kitty1-malformed", "kitty-1:{\"iv\":\"0\"}"},
		{"kitty1-other-key", kitty1(other.PublicKeyEnv(), "right")},
		{"kitty1-wrong", kitty1(key.PublicKeyEnv(), "guess")},
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
		pws := make([]string, 0, 1024)
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			if len(pws) == 0 {
				for range cap(pws) {
					id := strconv.Itoa(i)
					i++
					pw, err := bypass.EncodeKitty1(key.PublicKeyEnv(), id, "right", now)
					if err != nil {
						b.Fatal(err)
					}
					pws = append(pws, id+" "+pw)
				}
			}
			idpw := pws[len(pws)-1]
			pws = pws[:len(pws)-1]
			sp := 0
			for idpw[sp] != ' ' {
				sp++
			}
			b.StartTimer()
			if _, err := v.Verify(idpw[:sp], idpw[sp+1:]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
