# ferry — see README.md.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build test test-short demo fuzz bench bench-agent vet clean

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

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

clean:
	rm -rf bin
