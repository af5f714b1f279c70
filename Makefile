# riskgraph -- build and run tooling (GNU make).
#
# Database: DATABASE_URL if set, else the PostgreSQL on 127.0.0.1:5432 (user
# postgres), else a project-private cluster under .data/ started with the
# installed PostgreSQL server (see scripts/pg.sh).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO      ?= go
BIN     ?= bin/riskgraph
DB_NAME ?= riskgraph
PKG     ?= ./...
# Extra `go test` flags, e.g. make test TESTFLAGS='-run TestRules -v'.
TESTFLAGS ?=
# RACE=1 runs the tests with the race detector.
RACE ?=
# `make run` seeds demo data unless DEMO is already set; APP_ENV defaults to
# development (demo data is refused in production).
DEMO    ?= 1
APP_ENV ?= development

# Sets $$url to the application database: DATABASE_URL as is when set,
# otherwise database $(DB_NAME), created if missing, on the server found or
# started by scripts/pg.sh.
RESOLVE_DB_URL = \
	url="$${DATABASE_URL:-}"; \
	if [ -z "$$url" ]; then \
		admin="$$(scripts/pg.sh)"; \
		url="$$(scripts/ensure-db.sh "$$admin" "$(DB_NAME)")"; \
	fi

.PHONY: help run test build generate lint migrate db-stop clean

help: ## list the targets
	@echo "usage: make <target>"
	@echo
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-10s %s\n", $$1, $$2}'
	@echo
	@echo "variables: DATABASE_URL, DEMO (default 1), DEMO_PASSWORD, APP_ENV (default development),"
	@echo "           RACE=1, TESTFLAGS, GOFLAGS, PG_PRIVATE_PORT (default 54329)"

run: ## run the server with demo data (DATABASE_URL, else local or private PostgreSQL)
	@echo "make run: finding the database (DATABASE_URL, else PostgreSQL on 127.0.0.1:5432, else a private cluster in .data/)"
	@$(RESOLVE_DB_URL); \
	echo "make run: building $(BIN) (a first build downloads and compiles the dependencies: a minute or two)"; \
	$(GO) build -o $(BIN) .; \
	echo "make run: starting the server: it migrates, loads the demo data, then logs the URL to open"; \
	export DATABASE_URL="$$url" DEMO="$(DEMO)" APP_ENV="$(APP_ENV)"; \
	exec $(BIN)

# -timeout: the root package's end-to-end tests (10,000 messages through JetStream,
# servers killed mid-delivery) outlast go test's default 10 minutes on 2 busy cores.
test: ## run all tests against a real PostgreSQL (RACE=1 for -race)
	@admin="$${TEST_DATABASE_URL:-}"; \
	if [ -z "$$admin" ]; then admin="$$(scripts/pg.sh)"; fi; \
	TEST_DATABASE_URL="$$admin" exec $(GO) test -count=1 -timeout 30m $(if $(filter 1,$(RACE)),-race) $(TESTFLAGS) $(PKG)

build: ## build bin/riskgraph
	$(GO) build -o $(BIN) .

generate: ## go generate ./... (gqlgen)
	$(GO) generate ./...

lint: ## gofmt -l (must be empty), go vet, staticcheck, go mod tidy -diff
	@files="$$(gofmt -l .)"; \
	if [ -n "$$files" ]; then \
		echo "gofmt: these files need formatting (run gofmt -w):" >&2; \
		echo "$$files" >&2; \
		exit 1; \
	fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) mod tidy -diff

migrate: ## apply database migrations (same database as run)
	@$(RESOLVE_DB_URL); \
	export DATABASE_URL="$$url" APP_ENV="$(APP_ENV)"; \
	exec $(GO) run . migrate

db-stop: ## stop the project-private PostgreSQL cluster (.data/pg) if running
	@scripts/pg.sh stop

clean: ## remove bin/ (keeps .data/)
	rm -rf bin

# Further targets (bench, chaos, simulate…) live in their own fragments.
include $(wildcard mk/*.mk)
