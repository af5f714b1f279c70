# make simulate: labelled traffic (cmd/simulate) replayed in event time
# through submitTransaction, with a table of what the rules caught per fraud
# typology and what they flagged per benign pattern. A release build of the
# server runs as its own process on a fresh database (dropped afterwards) on
# the PostgreSQL `make test` finds or starts (TEST_DATABASE_URL, else
# scripts/pg.sh). About two minutes on 2 cores at the default size.
#
#   make simulate                          seed 11, 600 customers, 21 days
#   make simulate SIM_SEED=12              another seed (evaluate on seeds you did not tune on)
#   make simulate SIMFLAGS='-out bench/results/simulate.md'
#   make simulate SIMFLAGS='-rule-packs seed'   the seed documents' rules only (before the typology pack)
#   make simulate SIM_SEED=12 SIM_TRAIN_SEED=11
#                                          first replay seed 11, label it, train and
#                                          activate a model; then evaluate on seed 12
#   make simulate SIM_SEED=12 SIM_TRAIN_SEED=11 SIM_CONFIGS=seed,pack,model,anomaly \
#                 SIM_HOLDOUT=bot-farm,slow-drain,stolen-phone
#                                          issue 17's table: four configurations, one replay
#                                          each, the held-out typologies left out of training
#
# Against a server that is already running (to compare rule packs), run the
# command itself: go run ./cmd/simulate -url http://127.0.0.1:8080/graphql
# -admin-user admin (password in SIM_ADMIN_PASSWORD) -seed 12.

SIM_SEED  ?= 11
SIM_USERS ?= 600
SIM_DAYS  ?= 21
# SIM_TRAIN_SEED, when set, trains the model the table runs with on that seed.
SIM_TRAIN_SEED ?=
# SIM_CONFIGS: seed, pack, model, anomaly (comma-separated); SIM_HOLDOUT: typology codes.
SIM_CONFIGS ?=
SIM_HOLDOUT ?=
SIMFLAGS  ?=

.PHONY: simulate
simulate: build ## replay labelled fraud and benign traffic, table per typology (SIM_SEED, SIM_USERS, SIM_DAYS, SIM_TRAIN_SEED, SIM_CONFIGS, SIM_HOLDOUT, SIMFLAGS)
	@admin="$${TEST_DATABASE_URL:-}"; \
	if [ -z "$$admin" ]; then admin="$$(scripts/pg.sh)"; fi; \
	$(GO) build -o bin/simulate ./cmd/simulate; \
	exec bin/simulate -admin-url "$$admin" -server $(BIN) -seed $(SIM_SEED) -users $(SIM_USERS) -days $(SIM_DAYS) $(if $(SIM_TRAIN_SEED),-train-seed $(SIM_TRAIN_SEED)) $(if $(SIM_CONFIGS),-configs $(SIM_CONFIGS)) $(if $(SIM_HOLDOUT),-holdout $(SIM_HOLDOUT)) $(SIMFLAGS)
