# The two commands: `make run` and `make test`. See README.md.
GO ?= go
BIN := bin/registry
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: run build test deps fmt-check vet staticcheck unit bench bench-go clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/registry

## run: build, then serve with demo data on http://127.0.0.1:8080 (private PostgreSQL in ./data)
run: build
	./$(BIN) serve --demo

## test: formatting, vet, staticcheck and every test against a real PostgreSQL, with -race
test: fmt-check vet staticcheck unit

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) tool staticcheck ./...

unit: deps
	$(GO) test -race -count=1 -timeout 20m ./...

## deps: the npm package the accessibility test runs in the browser (axe-core, pinned in
## tools/a11y/package-lock.json); installed again only when the lock file changes
deps: tools/a11y/node_modules/.package-lock.json

tools/a11y/node_modules/.package-lock.json: tools/a11y/package-lock.json
	cd tools/a11y && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

## bench: requests per second and latency of a cached fact sheet and of searches on 10,000
## entries, beside nginx serving the same page (bench/run.sh; installs wrk and nginx as root)
bench:
	GO="$(GO)" bash bench/run.sh

## bench-go: the in-process benchmarks (go test -bench), the cost of one request
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
