// Command benchtable turns the output of `go test -bench` into bench/RESULTS.md: one
// markdown table of every benchmark, its ratios to the baselines it measured in the same
// run, the goal where the project has one, and its absolute figures; then the machine it
// ran on and how to run it again. `make bench` runs it; it is not part of the xferterm
// binary.
//
//	go run ./internal/benchtable [-load-before "0.12 0.30 0.41"] [-o bench/RESULTS.md] OUTPUT...
//
// A figure is a ratio when its unit has a slash and is not a rate or a per-something
// (MB/s, ns/op, B/op, allocs/op, cpu-s/GiB, …): xferterm/ssh, wall-proxy/relay,
// cpu-xferterm/script. Benchmarks report those themselves, with b.ReportMetric, from a
// baseline they ran in the same run (alternating with the subject, medians of the
// per-iteration ratios where they say so); this program only collects them.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

func main() {
	out := flag.String("o", "", "write the markdown here, with the raw output; stdout gets it without")
	loadBefore := flag.String("load-before", "", "the load averages (/proc/loadavg) when the run began")
	flag.Parse()
	var raw strings.Builder
	for _, name := range flag.Args() {
		data, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
		raw.Write(data)
	}
	if flag.NArg() == 0 {
		if _, err := io.Copy(&raw, os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
	}
	results, err := parse(strings.NewReader(raw.String()))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	m := probeMachine()
	m.LoadBefore = strings.TrimSpace(*loadBefore)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(render(results, m, raw.String())), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
	}
	fmt.Print(render(results, m, "")) // The raw output was shown as it came.
}

// machine describes where the benchmarks ran.
type machine struct {
	Date, Commit, Cores, CPU, Kernel, Go, OpenSSH, LoadBefore, LoadAfter string
}

// probeMachine reads the machine's description from /proc and the tools.
func probeMachine() machine {
	m := machine{
		Date:      time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Cores:     fmt.Sprint(runtime.NumCPU()),
		CPU:       "unknown",
		Kernel:    runtime.GOOS,
		Go:        runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		OpenSSH:   "not found",
		LoadAfter: "unknown",
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(data))
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAfter = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	if out, err := exec.Command("ssh", "-V").CombinedOutput(); err == nil {
		m.OpenSSH = strings.TrimSpace(string(out))
	}
	m.Commit = "unknown"
	if out, err := exec.Command("git", "describe", "--always", "--dirty").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	return m
}

// result is one benchmark line of `go test -bench`.
type result struct {
	Pkg     string
	Name    string // without "Benchmark" and the -GOMAXPROCS suffix
	Figures []figure
}

// figure is one "value unit" pair of a benchmark line.
type figure struct {
	Value float64
	Unit  string
}

// isRatio reports whether unit names a ratio to a baseline (see the package comment).
func isRatio(unit string) bool {
	if !strings.Contains(unit, "/") {
		return false
	}
	for _, per := range []string{"/s", "/op", "/GiB"} {
		if strings.HasSuffix(unit, per) {
			return false
		}
	}
	return true
}

// parse reads `go test -bench` output: "pkg:" lines name the package of the benchmark
// lines after them. Other lines (PASS, ok, logs) are skipped.
func parse(r io.Reader) ([]result, error) {
	var results []result
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			continue // a benchmark's name printed before its log lines, or a failure
		}
		var n int
		if _, err := fmt.Sscan(f[1], &n); err != nil {
			continue
		}
		res := result{Pkg: pkg, Name: benchName(f[0])}
		for i := 2; i+1 < len(f); i += 2 {
			var v float64
			if _, err := fmt.Sscan(f[i], &v); err != nil {
				return nil, fmt.Errorf("%s: value %q: %w", f[0], f[i], err)
			}
			res.Figures = append(res.Figures, figure{Value: v, Unit: f[i+1]})
		}
		results = append(results, res)
	}
	return results, sc.Err()
}

// benchName strips "Benchmark" and the "-N" GOMAXPROCS suffix.
func benchName(s string) string {
	s = strings.TrimPrefix(s, "Benchmark")
	if i := strings.LastIndexByte(s, '-'); i > 0 && strings.Trim(s[i+1:], "0123456789") == "" {
		s = s[:i]
	}
	return s
}

// goals are the project's targets for ratios, by unit (issue text and README).
var goals = map[string]string{
	"xferterm/ssh":         "≥ 0.9",
	"cpu-xferterm/script":  "≤ 1.03",
	"wall-xferterm/script": "≤ 1.03",
	"wall-proxy/relay":     "≤ 1.03",
}

// render writes the markdown document, with raw (the output of go test) at its end unless
// it is empty.
func render(results []result, m machine, raw string) string {
	var b strings.Builder
	b.WriteString("# xferterm benchmark results\n\n")
	b.WriteString("Generated by `make bench` (internal/benchtable). Each ratio compares xferterm with a baseline ")
	b.WriteString("that the benchmark measured in the same run, on the same machine, alternating with it where ")
	b.WriteString("the benchmark's comment says so; the other figures are absolute and depend on the machine.\n\n")
	b.WriteString("| package | benchmark | ratio to the baseline (same run) | goal | figures |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	for _, r := range results {
		var ratios, goal, rest []string
		for _, f := range r.Figures {
			if isRatio(f.Unit) {
				ratios = append(ratios, fmt.Sprintf("%s **%s**", f.Unit, format(f.Value)))
				if g, ok := goals[f.Unit]; ok {
					goal = append(goal, f.Unit+" "+g)
				}
				continue
			}
			rest = append(rest, format(f.Value)+" "+f.Unit)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", strings.TrimPrefix(r.Pkg, "github.com/xferterm/xferterm/"),
			r.Name, orDash(ratios), orDash(goal), orDash(rest))
	}
	b.WriteString("\n## Machine\n\n")
	b.WriteString("| | |\n| --- | --- |\n")
	for _, kv := range [][2]string{
		{"date", m.Date}, {"commit", m.Commit}, {"cores", m.Cores}, {"CPU", m.CPU}, {"kernel", m.Kernel},
		{"Go", m.Go}, {"OpenSSH", m.OpenSSH},
		{"load average (1, 5, 15 min) before", orUnknown(m.LoadBefore)}, {"load average after", m.LoadAfter},
	} {
		fmt.Fprintf(&b, "| %s | %s |\n", kv[0], kv[1])
	}
	b.WriteString(reproduce)
	if raw == "" {
		return b.String()
	}
	b.WriteString("\n<details><summary>Raw output of go test</summary>\n\n```\n")
	b.WriteString(strings.TrimRight(raw, "\n"))
	b.WriteString("\n```\n\n</details>\n")
	return b.String()
}

const reproduce = `
## How to reproduce

    make deps     # sshd, ssh, tmux, screen, script(1), … (as root, with apt-get)
    make bench    # about 30 minutes on 2 cores; writes and prints bench/RESULTS.md

Knobs (make variables or the environment): ` + "`XFERTERM_BENCH_BYTES`" + ` (bytes each pty and ssh
benchmark moves per iteration, 268435456 by default), ` + "`PTY_BENCHTIME`" + ` (iterations of the
pty benchmarks, 5x: pairs of runs), ` + "`E2E_BENCHTIME`" + ` (iterations of the ssh benchmarks, 9x),
` + "`MUX_BENCHTIME`" + ` (of the tmux and screen one, 1x), ` + "`PKG_BENCHTIME`" + ` (the package
micro-benchmarks, 1s). A single pair through ssh can move by 10–30 % from the next on a
shared machine (each pair is logged in the raw output), a pty pair by about 5 %; the medians
hold better, and the load averages above say how quiet the machine was. Run one benchmark alone with, e.g.,
` + "`go test -run='^$' -bench=Transfer/receive -benchtime=2x ./e2e`" + `.
`

func format(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

func orDash(s []string) string {
	if len(s) == 0 {
		return "—"
	}
	return strings.Join(s, ", ")
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
