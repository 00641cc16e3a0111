package approval_test

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/xferterm/xferterm/approval"
	"github.com/xferterm/xferterm/bypass"
	"github.com/xferterm/xferterm/fs"
	"github.com/xferterm/xferterm/scanner"
)

// BenchmarkRefusedBypass measures what a send request with a wrong password costs,
// through the real engine and Approver, without the pacing (which the output pump
// applies): how many passwords a remote could test a second if nothing slowed it down
// (the figure in package bypass's doc).
func BenchmarkRefusedBypass(b *testing.B) {
	for _, scheme := range []bypass.Scheme{bypass.SchemeSHA256, bypass.SchemeKitty1} {
		b.Run(string(scheme), func(b *testing.B) {
			home := b.TempDir()
			guard := newGuard(b, home, b.TempDir())
			key, err := bypass.GenerateKeyPair()
			if err != nil {
				b.Fatal(err)
			}
			var audit bytes.Buffer
			a, err := approval.New(approval.Options{Home: home, Guard: guard, Audit: approval.NewAuditLog(&audit, time.Now),
				Verifier: bypass.NewVerifier(key, bypass.NewSecret("right"), time.Now)})
			if err != nil {
				b.Fatal(err)
			}
			e, err := fs.NewEngine(fs.Config{Home: home, Approver: a, Events: a.Record})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = e.Close() }()
			const distinct = 1024 // values made up front; ids repeat, which a refused one may
			payloads := make([][]byte, distinct)
			for i := range payloads {
				id := "g" + strconv.Itoa(i)
				pw := bypass.EncodeSHA256(id, "guess")
				if scheme == bypass.SchemeKitty1 {
					if pw, err = bypass.EncodeKitty1(key.PublicKeyEnv(), id, "guess", time.Now()); err != nil {
						b.Fatal(err)
					}
				}
				c := scanner.Command{Action: scanner.ActionSend, ID: id, Bypass: pw}
				payloads[i] = bytes.TrimPrefix(c.AppendTo(nil), []byte("5113;"))
			}
			var replies []byte
			i := 0
			for b.Loop() {
				if err := e.HandlePayload(payloads[i%distinct]); err != nil {
					b.Fatal(err)
				}
				if i++; i%distinct == 0 {
					replies = e.Pull(replies[:0], 1<<20)
				}
			}
			if len(replies) > 0 && !bytes.Contains(replies, []byte("st=RVBFUk")) { // base64 of "EPER"
				b.Fatalf("replies without a refusal: %.200q", replies)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "attempts/s")
		})
	}
}
