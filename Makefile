# Helios in Go. `make help` lists the targets.
GO        ?= go
BIN       ?= $(CURDIR)/bin
SOLO_ARGS ?=
PKGS      ?= ./...
TEST_TIMEOUT ?= 20m
IMAGE     ?= helios:dev
# urfave/cli's man-page and markdown generators (and the markdown parser they bring, whose
# init costs every CLI command 2-3 ms) are left out: no helios binary uses them.
GOTAGS    ?= urfave_cli_no_docs

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build helios, helios-master, helios-agent and helios-solo into ./bin
	$(GO) build -tags '$(GOTAGS)' -o $(BIN)/ ./cmd/...

.PHONY: run
run: build ## build and run helios-solo (embedded etcd + master + agent on the local Docker)
	$(BIN)/helios-solo --log-console $(SOLO_ARGS)

.PHONY: busybox-image
busybox-image: ## import a local busybox:latest from Debian's busybox-static (nothing is pulled; FORCE=1 replaces one Helios did not build)
	$(GO) run ./test/testimage/cmd/build-busybox $(if $(FORCE),--force)

.PHONY: image
image: ## build the container image $(IMAGE): static binaries FROM scratch, classic builder, nothing pulled
	rm -rf $(BIN)/image && mkdir -p $(BIN)/image/rootfs/etc $(BIN)/image/rootfs/tmp $(BIN)/image/rootfs/var/lib/helios
	chmod 1777 $(BIN)/image/rootfs/tmp
	printf 'root:x:0:0:root:/root:/nonexistent\nhelios:x:10001:10001:helios:/var/lib/helios:/nonexistent\n' > $(BIN)/image/rootfs/etc/passwd
	printf 'root:x:0:\nhelios:x:10001:\n' > $(BIN)/image/rootfs/etc/group
	CGO_ENABLED=0 $(GO) build -tags '$(GOTAGS)' -trimpath -ldflags '-s -w' -o $(BIN)/image/ ./cmd/...
	cp deploy/image/Dockerfile $(BIN)/image/
	DOCKER_BUILDKIT=0 docker build --quiet -t $(IMAGE) $(BIN)/image

CLUSTER       ?= helios-cluster
CLUSTER_IMAGE ?= helios-cluster:dev
# The secured layout's CA, certificates, etcd passwords and tokens (0700; cluster-down removes it).
CLUSTER_DIR   ?= $(BIN)/$(CLUSTER)
# INSECURE=1 (or CLUSTER_INSECURE=1): the plain layout, etcd in clear text and masters with --insecure.
CLUSTER_INSECURE ?= $(INSECURE)
.PHONY: cluster
cluster: image ## bring up a demo cluster on the local Docker: 3 etcd members, 3 masters, 3 agents in containers, TLS and authentication (INSECURE=1: none; deploy/cluster; docs/operations.md)
	CGO_ENABLED=0 $(GO) build -tags '$(GOTAGS)' -trimpath -ldflags '-s -w' -o $(BIN)/image/helios-etcd ./deploy/cluster/etcd
	$(GO) build -o $(BIN)/helios-cluster-certs ./deploy/cluster/certs
	DOCKER_BUILDKIT=0 docker build --quiet --build-arg BASE=$(IMAGE) -t $(CLUSTER_IMAGE) -f deploy/cluster/Dockerfile $(BIN)/image
	CLUSTER=$(CLUSTER) CLUSTER_IMAGE=$(CLUSTER_IMAGE) CLUSTER_DIR=$(CLUSTER_DIR) CLUSTER_CERTS=$(BIN)/helios-cluster-certs \
	  CLUSTER_INSECURE=$(CLUSTER_INSECURE) deploy/cluster/cluster.sh up

.PHONY: cluster-down
cluster-down: ## remove the demo cluster of `make cluster`: the containers and network labelled helios.cluster=$(CLUSTER), and $(CLUSTER_DIR)
	CLUSTER=$(CLUSTER) CLUSTER_DIR=$(CLUSTER_DIR) deploy/cluster/cluster.sh down

.PHONY: test-cluster
test-cluster: ## end-to-end test of `make cluster`'s secured layout (test/cluster): deploy through 3 masters, kill a master and an etcd member
	$(GO) test -count=1 -timeout 10m -v ./test/cluster/

.PHONY: test-rules
test-rules: ## check and unit-test the Prometheus rules of deploy/prometheus with promtool
	cd deploy/prometheus && promtool check rules helios-rules.yml && promtool test rules helios-rules.test.yml && promtool check config prometheus.yml

.PHONY: test
test: build vet ## run every test: unit, store/API on embedded etcd, end-to-end on Docker (HELIOS_REQUIRE_DOCKER=1: no Docker skips)
	HELIOS_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)

.PHONY: test-faults
test-faults: build ## run the fault suite (test/faults): etcd cut off, stalled, compacted; see docs/reliability.md
	HELIOS_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout 15m -v -run '^Test(Fault|Proxy)' ./test/faults/

.PHONY: test-robustness
test-robustness: ## run the long robustness test (test/robustness): 8 clients through two masters, etcd/master/agent restarts, porcupine check; see docs/reliability.md
	HELIOS_ROBUSTNESS_LONG=1 $(GO) test -count=1 -timeout 20m -v -run '^TestRobustnessLong$$' ./test/robustness/

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
BENCH_OUT ?= $(CURDIR)/bench-results.json
BENCH_DIR ?= $(CURDIR)/.bench
bench: build ## run every benchmark (store, hollow agents at scale and idle, rollout, master reads, memory, deploy latency on Docker): one table, JSON in BENCH_OUT
	@rm -rf $(BENCH_DIR) && mkdir -p $(BENCH_DIR)
	@start=$$(date +%s); uptime; \
	{ $(GO) test -run '^$$' -bench . -benchtime 1s ./store/ 2>&1 || touch $(BENCH_DIR)/failed; } | tee $(BENCH_DIR)/store.txt; \
	{ BENCH_ROWS=$(BENCH_DIR)/rows.jsonl HELIOS_BIN_DIR=$(BIN) $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./test/bench/ 2>&1 || touch $(BENCH_DIR)/failed; } | tee $(BENCH_DIR)/bench.txt; \
	uptime; \
	$(GO) run ./test/bench/cmd/benchtable -gobench $(BENCH_DIR)/store.txt -rows $(BENCH_DIR)/rows.jsonl -out $(BENCH_OUT) || exit 1; \
	echo "make bench: $$(( $$(date +%s) - start )) s; logs in $(BENCH_DIR)"; \
	if [ -e $(BENCH_DIR)/failed ]; then echo "make bench: a benchmark failed (see the logs above)"; exit 1; fi

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
