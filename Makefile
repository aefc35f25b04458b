# Helios in Go. `make help` lists the targets.
GO        ?= go
BIN       ?= $(CURDIR)/bin
SOLO_ARGS ?=
PKGS      ?= ./...
TEST_TIMEOUT ?= 20m

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build helios, helios-master, helios-agent and helios-solo into ./bin
	$(GO) build -o $(BIN)/ ./cmd/...

.PHONY: run
run: build ## build and run helios-solo (embedded etcd + master + agent on the local Docker)
	$(BIN)/helios-solo --log-console $(SOLO_ARGS)

.PHONY: busybox-image
busybox-image: ## import a local busybox:latest from Debian's busybox-static (nothing is pulled; FORCE=1 replaces one Helios did not build)
	$(GO) run ./test/testimage/cmd/build-busybox $(if $(FORCE),--force)

.PHONY: test
test: build vet ## run every test: unit, store/API on embedded etcd, end-to-end on Docker (HELIOS_REQUIRE_DOCKER=1: no Docker skips)
	HELIOS_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)

.PHONY: test-faults
test-faults: build ## run the fault suite (test/faults): etcd cut off, stalled, compacted; see docs/reliability.md
	HELIOS_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout 15m -v -run '^Test(Fault|Proxy)' ./test/faults/

.PHONY: test-dns
test-dns: build ## run the service-discovery tests (test/dns) against a real CoreDNS built from test/coredns (cached); see docs/discovery.md
	HELIOS_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout 15m -v ./test/dns/

.PHONY: test-unit
test-unit: ## run only the fast tests (no Docker, no processes)
	$(GO) test -count=1 -short -timeout 10m $(PKGS)

.PHONY: test-e2e
test-e2e: build ## run the end-to-end suites in ./test against real processes and Docker
	HELIOS_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./test/...

.PHONY: bench
bench: build ## run the benchmarks (store micro-benchmarks, hollow agents, 1,000-host rollout, master reads, deploy latency on Docker)
	$(GO) test -run '^$$' -bench . -benchtime 2s ./store/
	HELIOS_BIN_DIR=$(BIN) $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./test/bench/

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (default 10s)
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-10s} $$pkg || exit 1; \
	  done; \
	done

.PHONY: vet
vet: ## go vet
	$(GO) vet ./...

.PHONY: lint
lint: vet ## gofmt check and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

.PHONY: fmt
fmt: ## gofmt every Go file
	gofmt -w $$(git ls-files '*.go')

.PHONY: clean
clean: ## remove ./bin
	rm -rf $(BIN)
