# xferterm — build, test and benchmark entry points. `make help` lists them.

GO              ?= go
GOBIN           := $(shell $(GO) env GOPATH)/bin
STATICCHECK     := $(GOBIN)/staticcheck
# staticcheck 2026.2.2 (module v0.8.2) supports go1.26 (checked with `go version -m`).
STATICCHECK_VER := v0.8.2
ARGS            ?=
# Fuzz time per target: short in `make test` (seed corpus plus a few seconds), longer in `make fuzz`.
FUZZTIME_TEST   ?= 4s
FUZZTIME        ?= 60s
# The end-to-end benchmarks move 256 MiB per iteration; a couple of iterations is plenty.
E2E_BENCHTIME   ?= 2x
TEST_TIMEOUT    ?= 20m
# ./... skips directories named testdata, but ours holds a Go package (the transcript loader).
PKGS            := ./... ./testdata/

# Packages that declare fuzz targets or benchmarks, found from the sources so new ones are picked up.
FUZZ_DIRS  = $(sort $(dir $(shell grep -rl --include='*_test.go' '^func Fuzz' . 2>/dev/null)))
BENCH_DIRS = $(filter-out ./e2e/,$(sort $(dir $(shell grep -rl --include='*_test.go' '^func Benchmark' . 2>/dev/null))))

.PHONY: all help build run test fmt-check vet staticcheck unit fuzz-short bench bench-pkg bench-e2e fuzz tools clean

all: build

help:
	@echo 'make build      build bin/xferterm'
	@echo 'make run ARGS=… build and run bin/xferterm $$ARGS'
	@echo 'make test       gofmt check, go vet, staticcheck, go test -race ./... (with e2e), short fuzz'
	@echo 'make bench      benchmarks of every package, then the end-to-end ones (256 MiB over sshd)'
	@echo 'make fuzz       every fuzz target for FUZZTIME ($(FUZZTIME)) each'
	@echo 'make tools      install staticcheck $(STATICCHECK_VER) into $(GOBIN) if missing'

build:
	$(GO) build -o bin/xferterm ./cmd/xferterm

run: build
	./bin/xferterm $(ARGS)

test: fmt-check vet staticcheck unit fuzz-short

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

bench: bench-pkg bench-e2e

bench-pkg:
	@echo '==> go test -bench=. -benchmem $(BENCH_DIRS)'
	$(if $(strip $(BENCH_DIRS)),$(GO) test -run='^$$' -bench=. -benchmem $(BENCH_DIRS),@echo 'no package benchmarks yet')

bench-e2e:
	@echo '==> go test -bench=. ./e2e (256 MiB files through sshd on loopback)'
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(E2E_BENCHTIME) -timeout 60m ./e2e

tools: $(STATICCHECK)

$(STATICCHECK):
	@echo '==> go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VER)'
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VER)

clean:
	rm -rf bin
