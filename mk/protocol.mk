# The protocol tests (protocol_test.go) run reference clients nobody here
# wrote against the real handler: graphql-http's GraphQL-over-HTTP server
# audit and the graphql-ws subscription client. `make test` installs them
# from testdata/protocol/package-lock.json (npm ci, again whenever the lock
# file changes) and first runs those two tests verbosely, so their result
# lines (`graphql-http audit: N ok, …`, `graphql-ws alert: …`) show in its
# output; the whole suite runs them again.

PROTOCOL_CLIENTS := testdata/protocol
PROTOCOL_TESTS   := ^(TestGraphQLOverHTTPAudit|TestGraphQLWSReferenceClient)$$

.PHONY: protocol-clients protocol-report
test: protocol-report

protocol-clients: $(PROTOCOL_CLIENTS)/node_modules/.package-lock.json

# npm ci writes node_modules/.package-lock.json, newer than the lock file it installed.
$(PROTOCOL_CLIENTS)/node_modules/.package-lock.json: $(PROTOCOL_CLIENTS)/package-lock.json
	@if ! command -v npm >/dev/null; then \
		echo "npm not found: installing Node.js with apt-get" >&2; \
		apt-get update -qq && apt-get install -y -qq nodejs >/dev/null; \
		command -v npm >/dev/null || apt-get install -y -qq npm >/dev/null; \
	fi
	cd $(PROTOCOL_CLIENTS) && npm ci --no-audit --no-fund

protocol-report: protocol-clients
	@admin="$${TEST_DATABASE_URL:-}"; \
	if [ -z "$$admin" ]; then admin="$$(scripts/pg.sh)"; fi; \
	out="$$(TEST_DATABASE_URL="$$admin" $(GO) test -count=1 -v -run '$(PROTOCOL_TESTS)' . 2>&1)" || { echo "$$out"; exit 1; }; \
	grep -E 'graphql-http audit:|graphql-ws alert:|^(--- |ok )' <<<"$$out"
