# make chaos: fault injection on loopback (cmd/chaos). PostgreSQL restarted,
# a server SIGKILLed and SIGTERMed under load, an instance lost under a live
# subscription; each scenario prints PASS/FAIL with its figures, and the
# target fails when any scenario does. It runs its own PostgreSQL cluster in
# .data/chaos (never the shared server, which it must not restart) and removes
# it afterwards. Not part of `make test`; bounded to under 5 minutes.

# Port of the private cluster; another free one is used when it is taken.
CHAOS_PG_PORT ?= 54339
# Extra flags, e.g. CHAOSFLAGS='-run pg-restart,sigterm' (bin/chaos -h lists them).
CHAOSFLAGS ?=

.PHONY: chaos
chaos: ## fault-injection scenarios on a private PostgreSQL (not part of test)
	@$(GO) build -o bin/chaos ./cmd/chaos
	@exec bin/chaos -go "$(GO)" -pg-port "$(CHAOS_PG_PORT)" $(CHAOSFLAGS)
