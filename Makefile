# ferry — see README.md.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build test test-short demo fuzz bench bench-agent vet clean crashtest

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ferry ./cmd/ferry

# make test: installs vsftpd, pure-ftpd and proftpd, and a headless
# Chromium for the status page's browser test, when missing (needs root and
# Debian's apt), then runs every test with the race detector; tests that
# need a real server or the browser fail instead of skipping.
test:
	./scripts/install-ftp-servers.sh
	./scripts/install-chromium.sh
	FERRY_REQUIRE_FTP_SERVERS=1 $(GO) test -race -timeout 45m ./...

# Fast tests only: no real servers (they skip), no race detector.
test-short:
	$(GO) test -short ./...

# make demo: needs only Go. Starts ferry's own test FTP server on loopback
# over a temporary folder, pushes a sample folder to it and lists it back.
demo:
	./scripts/demo.sh

# Run each fuzz target for FUZZTIME (seeds alone run in make test).
FUZZTIME ?= 30s
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

# The agent's figures on a watched tree of 50,000 files in 5,000 folders:
# watch set-up time, write-to-arrival delay, FTP commands per change, idle
# CPU and memory. SERVER=vsftpd (pure-ftpd, proftpd) for a real server.
SERVER ?= ftptest
bench-agent: build
	FERRY_AGENT_BENCH=1 FERRY_AGENT_BENCH_SERVER=$(SERVER) FERRY_BIN=$(CURDIR)/bin/ferry \
		$(GO) test -count=1 -run TestAgentWatchBenchmark -v -timeout 60m ./cmd/ferry

# make crashtest: the long crash-and-fault campaign of issue 10
# (internal/crashtest): ROUNDS seeded rounds per mode and server, ferry
# killed, servers killed and restarted, connections dropped, every file
# checked while ferry runs. Failing rounds print a one-line replay and
# keep their folders under CRASHWORK. DURATION caps each server's share
# (e.g. 10m); SEED=0 picks a random first seed. make test runs a short,
# fixed-seed version of the same test.
ROUNDS    ?= 500
MODES     ?= push,pull,sync
SERVERS   ?= ftptest,vsftpd,pure-ftpd,proftpd
FAULTS    ?= kill,restart,drop
SEED      ?= 0
DURATION  ?= 0
CRASHWORK ?= $(CURDIR)/crashtest-work
CRASHARGS ?=
crashtest:
	./scripts/install-ftp-servers.sh
	FERRY_REQUIRE_FTP_SERVERS=1 $(GO) test ./internal/crashtest -run 'TestCampaign$$' -count=1 -timeout 0 -v -args \
		-long -rounds=$(ROUNDS) -modes=$(MODES) -servers=$(SERVERS) -faults=$(FAULTS) -seed=$(SEED) \
		-duration=$(DURATION) -keep -work=$(CRASHWORK) -report=$(CRASHWORK)/summary.txt $(CRASHARGS)

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

clean:
	rm -rf bin
