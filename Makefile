# The two commands: `make run` and `make test`. See README.md.
GO ?= go
BIN := bin/registry
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: run build test fmt-check vet staticcheck unit bench clean

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

unit:
	$(GO) test -race -count=1 -timeout 20m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
