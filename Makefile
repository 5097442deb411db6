# schemagate — developer commands. `make test` prepares the machine (PostgreSQL binaries, Docker engine,
# locally built images) and runs the whole test suite; it is what CI runs.
GO ?= go
export TESTCONTAINERS_HOST_OVERRIDE ?= 127.0.0.1
export TESTCONTAINERS_RYUK_DISABLED ?= true

.PHONY: test setup unit build vet bench fuzz

build:
	$(GO) build -o bin/schemagate ./cmd/schemagate

setup:
	bash scripts/setup-machine.sh

vet:
	$(GO) vet ./...

# The full suite against real PostgreSQL servers and real Docker containers.
test: setup vet
	$(GO) test -count=1 -timeout 45m ./...

# Tests only, on an already prepared machine.
unit:
	$(GO) test ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 5x ./internal/sandbox/ ./internal/rehearse/
	$(GO) test -run '^$$' -bench CatalogRead -benchtime 100x ./internal/pg/

fuzz:
	for t in $$($(GO) test -list 'Fuzz.*' ./internal/... | grep ^Fuzz); do echo $$t; done
