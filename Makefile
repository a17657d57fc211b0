# shipshape's two entry points for a fresh machine with only Go: `make demo` and `make test`.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
STATICCHECK_VERSION := v0.8.2
K8S_VERSION := v1.37.2
# The sandbox reports a realistic Kubernetes version, like a released kube-apiserver.
SANDBOX_LDFLAGS := -X k8s.io/component-base/version.gitVersion=$(K8S_VERSION) \
	-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37 \
	-X k8s.io/component-base/version.gitTreeState=clean \
	-X k8s.io/component-base/version.buildDate=2026-01-01T00:00:00Z

.PHONY: all build sandbox demo test test-short lint bench clean

all: build

build: ## Build bin/shipshape.
	$(GO) build -o $(BIN)/shipshape ./cmd/shipshape

sandbox: ## Build bin/shipshape-sandbox (a real kube-apiserver, etcd and controller-manager).
	cd sandbox && $(GO) build -ldflags '$(SANDBOX_LDFLAGS)' -o $(BIN)/shipshape-sandbox ./cmd/shipshape-sandbox

demo: build sandbox ## Start a sandbox with the demo estate and print shipshape's scan of it.
	./hack/demo.sh $(BIN)

test: ## Run every test: unit, file-input, renderer goldens and integration tests against the sandbox.
	$(GO) test ./...
	cd sandbox && $(GO) test ./...

test-short: ## Unit tests only (no sandbox).
	$(GO) test -short ./...

lint: ## go vet and staticcheck on both modules.
	$(GO) vet ./...
	cd sandbox && $(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

bench: ## Benchmarks, medians over 5 runs; see the README.
	./hack/bench.sh

clean:
	rm -rf $(BIN)
