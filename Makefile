# oafetch — build, test and check targets. `make check` is what CI runs.
GO        ?= go
PKGS      ?= ./...
TOOLS_DIR := $(CURDIR)/.tools
LINT      := $(TOOLS_DIR)/golangci-lint

.PHONY: all build test check fmt-check vet lint tidy-check race torture bench bench-compare demo clean

all: build

build:
	$(GO) build -o bin/oafetch ./cmd/oafetch

## test: the whole suite with the race detector (what CI runs through `make check`).
## It includes the CI size of the torture harness (internal/torture, >= 30 kills).
test:
	$(GO) test -race -count=1 -shuffle=on -timeout 12m $(PKGS)

check: fmt-check vet lint tidy-check test

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

$(LINT): tools/go.mod tools/go.sum
	cd tools && $(GO) build -o $(LINT) github.com/golangci/golangci-lint/v2/cmd/golangci-lint

lint: $(LINT)
	$(LINT) run --allow-serial-runners $(PKGS)

tidy-check:
	@cp go.mod /tmp/oafetch-go.mod.bak; cp go.sum /tmp/oafetch-go.sum.bak 2>/dev/null || true
	@$(GO) mod tidy
	@if ! git diff --quiet -- go.mod go.sum; then echo "go mod tidy changed go.mod/go.sum:"; git diff -- go.mod go.sum; cp /tmp/oafetch-go.mod.bak go.mod; cp /tmp/oafetch-go.sum.bak go.sum; exit 1; fi

## torture: the full crash-torture harness (>= 200 kills over 2,000-work pulls,
## SIGSTOP, disk faults, 4 workers, 4 planners); prints a summary.
## OAFETCH_TORTURE_SEED=N replays a schedule.
torture:
	OAFETCH_TORTURE=full $(GO) test -count=1 -v -run '^TestTorture$$' -timeout 30m ./internal/torture/

## bench: every Go benchmark of the hot paths, a few iterations each, so
## that they keep compiling and running in CI (figures: BENCHMARKS.md).
BENCHTIME ?= 10x
bench:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) $(PKGS)
	$(GO) run ./bench/scenario -scenario p1 -n 50 -runs 1 -aria2=false
	$(GO) run ./bench/scenario -scenario p2 -n 200 -runs 1
	$(GO) run ./bench/scenario -scenario p3 -n 2000 -runs 1
	$(GO) run ./bench/scenario -scenario p4flat -n 2000 -active 200 -runs 1

## bench-compare: the scenario comparisons against aria2c (heavy; installs aria2).
bench-compare:
	bench/compare.sh

demo:
	$(GO) run ./cmd/oafetch demo

clean:
	rm -rf bin $(TOOLS_DIR)
