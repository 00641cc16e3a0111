# xferterm — build, test and benchmark entry points. `make help` lists them.

GO              ?= go
GOBIN           := $(shell $(GO) env GOPATH)/bin
STATICCHECK     := $(GOBIN)/staticcheck
# staticcheck 2026.2.2 (module v0.8.2) supports go1.26 (checked with `go version -m`).
STATICCHECK_VER := v0.8.2
ARGS            ?=
# Fuzzing per target: short in `make test` (seed corpus plus a little), longer in `make fuzz`.
# Counted in executions, not seconds: with a duration, go1.26's fuzz coordinator can fail a
# target with a bare "context deadline exceeded" when the machine is busy (go.dev/issue/75804,
# fixed in go1.27). A count has no deadline. The slowest target, FuzzUploadSession, runs about
# 1 000 executions a second on 2 cores; most run 10–60 times faster.
FUZZTIME_TEST   ?= 20000x
FUZZTIME        ?= 1000000x
# Benchmark knobs (README, "Speed"). The pty and ssh benchmarks move XFERTERM_BENCH_BYTES
# (environment; 256 MiB by default) per run and time xferterm and its baseline back to back
# in alternating order: PTY_BENCHTIME pairs on one pty, E2E_BENCHTIME pairs through sshd
# (a pair through ssh moves by 10-30 % from one to the next on a shared 2-core machine, a
# pty pair by ±5 %: the median of 9 and of 5 pairs hold still, that of 2 or 3 does not).
# BenchmarkMultiplexer takes turns within one run, MUX_BENCHTIME.
# The package micro-benchmarks run for PKG_BENCHTIME each.
PTY_BENCHTIME   ?= 5x
E2E_BENCHTIME   ?= 9x
MUX_BENCHTIME   ?= 1x
PKG_BENCHTIME   ?= 1s
# The pty benchmarks, and where they are: run apart from the micro-benchmarks, with PTY_BENCHTIME.
PTY_BENCH       := PTY|PassthroughBinary|SendFileRealEngine
PTY_BENCH_DIRS  := ./proxy/ ./cmd/xferterm/
TEST_TIMEOUT    ?= 20m
# ./... skips directories named testdata, but ours holds a Go package (the transcript loader).
PKGS            := ./... ./testdata/
# Builds are static and path-free, and carry the commit when built from a clone
# (-buildvcs=auto: some machines set GOFLAGS=-buildvcs=false).
BUILD_FLAGS     := -buildvcs=auto -trimpath
# The release targets: every one is cross-compiled and vetted by `make cross`.
PLATFORMS       := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 freebsd/amd64 freebsd/arm64
# The tools the tests run, and the Debian package that has each (`make deps` installs them).
TEST_TOOLS      := sshd:openssh-server ssh:openssh-client scp:openssh-client ssh-keygen:openssh-client \
                   tmux:tmux screen:screen kitty:kitty rdiff:rdiff script:bsdutils git:git
# Release archives: name, reproducible timestamp.
VERSION         ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
DIST            ?= dist

# The build tag that makes Linux build the portable twin of each Linux-only file: the code
# macOS and FreeBSD run, so that its tests run here (`make unit-portable`).
PORTABLE_TAG    := xferterm_portable

# Packages that declare fuzz targets or benchmarks, found from the sources so new ones are picked up.
FUZZ_DIRS  = $(sort $(dir $(shell grep -rl --include='*_test.go' '^func Fuzz' . 2>/dev/null)))
BENCH_DIRS = $(filter-out ./e2e/,$(sort $(dir $(shell grep -rl --include='*_test.go' '^func Benchmark' . 2>/dev/null))))

.PHONY: all help build run test deps fmt-check vet staticcheck unit unit-portable fuzz-short bench bench-all bench-pkg bench-pty bench-e2e fuzz tools cross dist dist-check clean

all: build

help:
	@echo 'make build      build bin/xferterm'
	@echo 'make run ARGS=… build and run bin/xferterm $$ARGS'
	@echo 'make test       gofmt check, go vet, staticcheck, go test -race ./... (with e2e), the same'
	@echo '                for the portable code (-tags $(PORTABLE_TAG)), short fuzz, make cross'
	@echo 'make deps       install the tools the tests run (as root with apt-get), or name the command'
	@echo 'make cross      build, vet and staticcheck for $(PLATFORMS)'
	@echo 'make dist       release archives for $(PLATFORMS) and SHA256SUMS in $(DIST)/'
	@echo 'make bench      every benchmark (~15 min), then bench/RESULTS.md: ratios to baselines of the same run'
	@echo 'make fuzz       every fuzz target for FUZZTIME ($(FUZZTIME) executions) each'
	@echo 'make tools      install staticcheck $(STATICCHECK_VER) into $(GOBIN) if missing'

build:
	CGO_ENABLED=0 $(GO) build $(BUILD_FLAGS) -o bin/xferterm ./cmd/xferterm

run: build
	./bin/xferterm $(ARGS)

test: deps fmt-check vet staticcheck unit unit-portable fuzz-short cross

# deps checks that every tool of TEST_TOOLS is there. What is missing is installed with
# apt-get when we are root and have it; otherwise it stops and names the command to run.
deps:
	@missing=; for pair in $(TEST_TOOLS); do \
	  tool=$${pair%%:*}; pkg=$${pair#*:}; \
	  PATH="$$PATH:/usr/sbin:/sbin" command -v $$tool >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	missing=$$(printf '%s\n' $$missing | sort -u | tr '\n' ' '); missing=$${missing% }; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "==> apt-get install -y $$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q && apt-get install -y -q --no-install-recommends $$missing; \
	else \
	  echo "make test needs these packages: $$missing"; \
	  echo "install them with: sudo apt-get install -y $$missing"; \
	  exit 1; \
	fi

fmt-check:
	@echo '==> gofmt -l'
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change these files (run gofmt -w):"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck: tools
	$(STATICCHECK) $(PKGS)

# -count=1: no cached results. The e2e tests build and run bin/xferterm, sshd and tmux, which
# go test's cache cannot see, so a cached pass could hide a change to cmd/xferterm.
unit:
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)

# unit-portable runs the tests again with the build tag PORTABLE_TAG, which replaces each
# Linux-only file by its portable twin (the code macOS and FreeBSD run): the tests of the
# packages that have such a twin, and of every package whose tests are linked with one
# (found by go list, so a new twin or a new user of one is picked up). The e2e tests run
# bin/xferterm as it is built for Linux, so they are not among them.
unit-portable:
	@set -e; \
	twins=$$($(GO) list $$(grep -rl --include='*.go' '^//go:build.*$(PORTABLE_TAG)' . | xargs -n1 dirname | sort -u)); \
	pkgs=$$($(GO) list -test -tags $(PORTABLE_TAG) -f '{{if eq .Name "main"}}{{.ImportPath}} {{join .Deps " "}}{{end}}' $(PKGS) | \
	  awk -v twins="$$twins" 'BEGIN { n = split(twins, t); for (i = 1; i <= n; i++) twin[t[i]] = 1 } \
	    $$1 ~ /\.test$$/ { for (i = 2; i <= NF; i++) if ($$i in twin) { sub(/\.test$$/, "", $$1); print $$1; break } }'); \
	echo "==> go test -race -tags $(PORTABLE_TAG)" $$pkgs; \
	$(GO) test -race -count=1 -tags $(PORTABLE_TAG) -timeout $(TEST_TIMEOUT) $$pkgs

# Each fuzz target runs on its own (go test -fuzz takes one target in one package).
fuzz-short:
	@$(MAKE) --no-print-directory fuzz-run FUZZ_FOR=$(FUZZTIME_TEST)

fuzz:
	@$(MAKE) --no-print-directory fuzz-run FUZZ_FOR=$(FUZZTIME)

.PHONY: fuzz-run
fuzz-run:
	@set -e; n=0; \
	for dir in $(FUZZ_DIRS); do \
	  for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$dir*_test.go | sort -u); do \
	    echo "==> go test -run='^\$$' -fuzz='^$$name\$$' -fuzztime=$(FUZZ_FOR) $$dir"; \
	    $(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZ_FOR) $$dir; \
	    n=$$((n+1)); \
	  done; \
	done; \
	echo "==> $$n fuzz targets ran for $(FUZZ_FOR) each"

# bench runs every benchmark with its output in bench/out.txt, then internal/benchtable
# turns it into bench/RESULTS.md (the table, the machine, the load, the raw output) and
# prints the table. A failed benchmark fails the target after the output is shown.
bench:
	@mkdir -p bench
	@rm -f bench/out.txt bench/failed
	@cut -d' ' -f1-3 /proc/loadavg > bench/load-before 2>/dev/null || echo unknown > bench/load-before
	@{ $(MAKE) --no-print-directory bench-all || touch bench/failed; } 2>&1 | tee bench/out.txt
	@if [ -e bench/failed ]; then echo 'make bench: a benchmark failed; see bench/out.txt'; exit 1; fi
	@$(GO) run ./internal/benchtable -load-before "$$(cat bench/load-before)" -o bench/RESULTS.md bench/out.txt

bench-all: bench-pkg bench-pty bench-e2e

bench-pkg:
	@echo '==> package benchmarks ($(PKG_BENCHTIME) each)'
	$(GO) test -run='^$$' -bench=. -skip='$(PTY_BENCH)' -benchmem -benchtime=$(PKG_BENCHTIME) $(BENCH_DIRS)

bench-pty:
	@echo '==> pty benchmarks ($(PTY_BENCHTIME) pairs of runs against the baseline)'
	$(GO) test -run='^$$' -bench='$(PTY_BENCH)' -benchtime=$(PTY_BENCHTIME) -timeout 60m $(PTY_BENCH_DIRS)

bench-e2e:
	@echo '==> end-to-end benchmarks through sshd on loopback ($(E2E_BENCHTIME) pairs of runs; the multiplexers $(MUX_BENCHTIME))'
	$(GO) test -run='^$$' -bench=. -skip=Multiplexer -benchtime=$(E2E_BENCHTIME) -timeout 60m ./e2e
	$(GO) test -run='^$$' -bench=Multiplexer -benchtime=$(MUX_BENCHTIME) -timeout 60m ./e2e

tools: $(STATICCHECK)

$(STATICCHECK):
	@echo '==> go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VER)'
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VER)

# cross builds every package, vets and staticchecks it for each of PLATFORMS, so that a
# Linux-only call cannot land unnoticed.
cross: tools
	@set -e; for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; \
	  echo "==> $$os/$$arch: build, vet, staticcheck"; \
	  export GOOS=$$os GOARCH=$$arch CGO_ENABLED=0; \
	  $(GO) build ./...; \
	  $(GO) vet $(PKGS); \
	  $(STATICCHECK) $(PKGS); \
	done

# dist writes one archive per platform (the static binary and README.md) and SHA256SUMS.
# The archives are reproducible: the same commit gives the same bytes (-trimpath, no build
# id, file times from the commit, sorted entries without owners). Needs GNU tar.
dist:
	@set -e; rm -rf $(DIST); mkdir -p $(DIST); for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; name=xferterm-$(VERSION)-$$os-$$arch; \
	  echo "==> $(DIST)/$$name.tar.gz"; \
	  mkdir -p $(DIST)/$$name; \
	  GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 $(GO) build $(BUILD_FLAGS) -ldflags='-s -w -buildid=' \
	    -o $(DIST)/$$name/xferterm ./cmd/xferterm; \
	  cp README.md $(DIST)/$$name/; \
	  tar --sort=name --mtime=@$(SOURCE_DATE_EPOCH) --owner=0 --group=0 --numeric-owner --mode=go-w \
	    -C $(DIST) -cf - $$name | gzip -9n > $(DIST)/$$name.tar.gz; \
	  rm -r $(DIST)/$$name; \
	done; \
	cd $(DIST) && sha256sum *.tar.gz > SHA256SUMS && cat SHA256SUMS

# dist-check makes the archives twice, in two directories, and compares them: the second
# time with an empty build cache, so every package is compiled again, not reused.
dist-check:
	@$(MAKE) --no-print-directory dist DIST=$(DIST)/check-a >/dev/null
	@cache=$$(mktemp -d); trap 'rm -rf "$$cache"' EXIT; \
	  GOCACHE=$$cache $(MAKE) --no-print-directory dist DIST=$(DIST)/check-b >/dev/null
	@cmp $(DIST)/check-a/SHA256SUMS $(DIST)/check-b/SHA256SUMS && echo "==> dist is reproducible" && cat $(DIST)/check-a/SHA256SUMS
	@rm -rf $(DIST)/check-a $(DIST)/check-b

clean:
	rm -rf bin $(DIST)
