# shipshape's two entry points for a fresh machine with only Go: `make demo` and `make test`.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
STATICCHECK_VERSION := v0.8.2
# The first run compiles the sandbox inside the tests (5-9 minutes cold on 2 cores).
TEST_TIMEOUT ?= 30m

.PHONY: all build sandbox demo test test-tools test-short lint bench clean

all: build

build: ## Build bin/shipshape.
	$(GO) build -o $(BIN)/shipshape ./cmd/shipshape

sandbox: ## Build bin/shipshape-sandbox (a real kube-apiserver, etcd and controller-manager).
	$(MAKE) -C sandbox build BIN=$(BIN)/shipshape-sandbox

demo: build sandbox ## Start a sandbox with the demo estate and print shipshape's scan of it.
	./hack/demo.sh $(BIN)

test: test-tools ## Run every test: unit, file-input, renderer goldens and integration tests against the sandbox.
	$(GO) test -timeout $(TEST_TIMEOUT) ./...
	cd sandbox && $(GO) test -timeout $(TEST_TIMEOUT) ./...

test-tools: ## Install the CLI tools tests check output with (the Debian age package).
	./hack/test-tools.sh

test-short: ## Unit tests only (no sandbox).
	$(GO) test -short ./...

lint: ## go vet and staticcheck on both modules.
	$(GO) vet ./...
	cd sandbox && $(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	cd sandbox && $(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

bench: ## Benchmarks, medians over 5 runs; see the README.
	./hack/bench.sh

clean:
	rm -rf $(BIN)
