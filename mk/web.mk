# The operations console (web/): a React + TypeScript + Vite app whose built
# bundle, web/dist, is committed and embedded in the binary, so `go build` and
# `make run` need no Node. These targets need Node 20+ and npm.
#
#   make web          rebuild web/dist (and the typed documents in web/src/gql) from the lockfile
#   make web-test     the console's unit tests (Vitest)
#   make web-check    rebuild and fail when the committed bundle differs (CI)
#   make test-console the browser test alone, verbose (alert latency, case workflow, customer view)
#   make screenshots  the browser test, writing docs/console/*.png (commit them)
#   make chromium     install Debian's Chromium for the browser test (root; `make test` does it when missing)

WEB_DEPS := web/node_modules/.package-lock.json

.PHONY: web web-test web-check test-console screenshots chromium

# npm ci only when the lockfile changed since the last install.
$(WEB_DEPS): web/package-lock.json web/package.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node 20+ to build or test the console" >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund

web: $(WEB_DEPS) ## rebuild the console bundle web/dist from the lockfile
	cd web && npm run build

web-test: $(WEB_DEPS) ## the console's unit tests (Vitest)
	cd web && npm test

web-check: web ## fail when the committed console bundle is stale
	@if ! git --no-pager diff --stat --exit-code HEAD -- web/dist web/src/gql; then \
		echo "the committed console bundle differs from a build of web/src (above): run make web and commit web/dist" >&2; \
		exit 1; \
	fi; \
	extra="$$(git ls-files --others --exclude-standard -- web/dist web/src/gql)"; \
	if [ -n "$$extra" ]; then \
		echo "$$extra" >&2; \
		echo "untracked files in the console bundle (above): run make web and commit web/dist" >&2; \
		exit 1; \
	fi

# The browser test runs Debian's Chromium (Playwright's browser download is not
# available here). Installing needs root; elsewhere it says what to run.
chromium: ## install Debian's Chromium for the browser test when missing
	@if command -v chromium >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "chromium is missing: run 'sudo apt-get update && sudo apt-get install -y chromium' (make test drives it)" >&2; \
		exit 1; \
	fi; \
	echo "installing chromium (apt-get) for the browser test"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

# `make test` runs the console's unit tests and the browser test too.
test: chromium web-test

test-console: chromium ## the browser test alone, verbose
	@admin="$${TEST_DATABASE_URL:-}"; \
	if [ -z "$$admin" ]; then admin="$$(scripts/pg.sh)"; fi; \
	TEST_DATABASE_URL="$$admin" exec $(GO) test -count=1 -run '^TestConsole' -v .

screenshots: ## the browser test, writing the README's screenshots to docs/console/
	@CONSOLE_SCREENSHOTS="$(CURDIR)/docs/console" $(MAKE) test-console
