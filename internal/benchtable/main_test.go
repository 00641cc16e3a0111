package main

import (
	"strings"
	"testing"
)

// sample is `go test -bench` output of two packages, with a log line, a name printed on
// its own before a benchmark's logs, and a failure.
const sample = `goos: linux
goarch: amd64
pkg: github.com/xferterm/xferterm/cmd/xferterm
cpu: AMD EPYC
BenchmarkPassthroughBinary-2   	       3	8123456789 ns/op	        65.6 script-MB/s	        1.024 cpu-xferterm/script	         0.9990 wall-xferterm/script
PASS
ok  	github.com/xferterm/xferterm/cmd/xferterm	40.1s
pkg: github.com/xferterm/xferterm/e2e
BenchmarkTransfer/receive/random-nozlib
    bench_test.go:99: some log line
BenchmarkTransfer/receive/random-nozlib-2         	       2	2582299370 ns/op	  12.86 MB/s	        14.82 client-cpu-s/GiB	         0.8986 xferterm/ssh
--- FAIL: BenchmarkBroken-2
`

func TestParse(t *testing.T) {
	got, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := []result{
		{Pkg: "github.com/xferterm/xferterm/cmd/xferterm", Name: "PassthroughBinary", Figures: []figure{
			{8123456789, "ns/op"}, {65.6, "script-MB/s"}, {1.024, "cpu-xferterm/script"}, {0.999, "wall-xferterm/script"}}},
		{Pkg: "github.com/xferterm/xferterm/e2e", Name: "Transfer/receive/random-nozlib", Figures: []figure{
			{2582299370, "ns/op"}, {12.86, "MB/s"}, {14.82, "client-cpu-s/GiB"}, {0.8986, "xferterm/ssh"}}},
	}
	if len(got) != len(want) {
		t.Fatalf("parsed %d results, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Pkg != w.Pkg || g.Name != w.Name || len(g.Figures) != len(w.Figures) {
			t.Fatalf("result %d = %+v, want %+v", i, g, w)
		}
		for j := range w.Figures {
			if g.Figures[j] != w.Figures[j] {
				t.Errorf("result %d figure %d = %+v, want %+v", i, j, g.Figures[j], w.Figures[j])
			}
		}
	}
}

func TestIsRatio(t *testing.T) {
	for unit, want := range map[string]bool{
		"xferterm/ssh": true, "cpu-xferterm/script": true, "tmux/plain-send": true,
		"MB/s": false, "ssh-MB/s": false, "ns/op": false, "allocs/op": false, "term-cpu-s/GiB": false,
		"proxy-cpu%": false, "delta-bytes": false,
	} {
		if got := isRatio(unit); got != want {
			t.Errorf("isRatio(%q) = %v, want %v", unit, got, want)
		}
	}
}

func TestRender(t *testing.T) {
	res, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	doc := render(res, machine{Cores: "2", CPU: "AMD EPYC", Kernel: "Linux 6.1", Go: "go1.26", OpenSSH: "OpenSSH_9.2p1",
		LoadBefore: "0.10 0.20 0.30", LoadAfter: "1.00 0.50 0.40"}, sample)
	for _, want := range []string{
		"| cmd/xferterm | PassthroughBinary | cpu-xferterm/script **1.02**, wall-xferterm/script **0.999** | " +
			"cpu-xferterm/script ≤ 1.03, wall-xferterm/script ≤ 1.03 | 8123456789 ns/op, 65.6 script-MB/s |",
		"| e2e | Transfer/receive/random-nozlib | xferterm/ssh **0.899** | xferterm/ssh ≥ 0.9 | " +
			"2582299370 ns/op, 12.9 MB/s, 14.8 client-cpu-s/GiB |",
		"| cores | 2 |", "| OpenSSH | OpenSSH_9.2p1 |", "| load average (1, 5, 15 min) before | 0.10 0.20 0.30 |",
		"make bench", "BenchmarkBroken", // the raw output is kept
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the document lacks %q:\n%s", want, doc)
		}
	}
}
