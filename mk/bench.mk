# Benchmarks (cmd/bench): the submit hot path against the database's own
# floor and seed 004's in-database scorer, on the PostgreSQL `make test` finds
# or starts (TEST_DATABASE_URL, else scripts/pg.sh). The bench creates and
# drops its own databases, runs a release build of the server as its own
# process, and writes bench/results/latest.md.
#
#   make bench                    full run, about 15 minutes on 2 cores
#   make bench-quick              short run for development (not comparable)
#   make bench BENCH_FLAGS='-pprof 127.0.0.1:6060 -profile-dir bench/profiles'
#                                 also save the server's CPU profile of each load run
#   make bench BENCH_FLAGS='-seed004 DIR'
#                                 seed 004's scorer from DIR (default ../shared/bench/seed004)

BENCH_FLAGS ?=

# $(1): extra flags for cmd/bench.
define BENCH_RUN
	@admin="$${TEST_DATABASE_URL:-}"; \
	if [ -z "$$admin" ]; then admin="$$(scripts/pg.sh)"; fi; \
	$(GO) build -o bin/bench ./cmd/bench; \
	GO="$(GO)" bin/bench -admin-url "$$admin" -server $(BIN) $(1) $(BENCH_FLAGS)
endef

.PHONY: bench bench-quick

bench: build ## benchmark: floor, seed 004, end to end, moderate load, bulk, outbox, 2M history, engine, fan-out, RSS (bench/results/latest.md)
	$(call BENCH_RUN,)

bench-quick: build ## short benchmark for development
	$(call BENCH_RUN,-quick -out bench/results/quick.md)
