VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed
PG_URL    ?= postgres://postgres@127.0.0.1:5432/test
REDIS_URL_TEST ?= redis://127.0.0.1:6379/15
# Test processes for the SQLite pass: its tests mostly wait (processes starting, polling rounds, the
# browser), so three share two cores well. The PostgreSQL/Redis pass runs alone: it shares one database.
TEST_WORKERS ?= 3

.PHONY: install run test lint typecheck unit services-tests locales locales-update simulator clean chromium

install: $(STAMP)

$(STAMP): pyproject.toml
	@set -e; if [ ! -x $(PY) ]; then py=$$(.ci/find-python); echo "creating $(VENV) with $$py"; "$$py" -m venv $(VENV); fi
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# Catalogs: `make locales` compiles them (run, tests); `make locales-update` extracts every marked
# string into locales/messages.pot and merges it into the es and en catalogs, whose new entries you
# then translate (tests/locales/test_catalogs.py fails on any entry left untranslated).
BABEL_KEYWORDS := -k __ -k N_ -k text
locales: install
	@if ls locales/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(VENV)/bin/pybabel compile -d locales -D messages >/dev/null; fi

locales-update: install
	$(VENV)/bin/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --no-location --no-wrap -o locales/messages.pot .
	$(VENV)/bin/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --ignore-obsolete --no-wrap
	$(VENV)/bin/pybabel compile -d locales -D messages

run: install locales
	$(PY) -m bot run

simulator: install
	$(PY) -m bot simulator

lint: install
	$(VENV)/bin/ruff check bot webapp tests bench
	$(VENV)/bin/lint-imports --no-cache

typecheck: install
	$(VENV)/bin/mypy

# Debian's Chromium for the Mini App's browser tests (Playwright drives it; it never downloads a browser).
# CI runs as root; elsewhere without root the browser tests skip with the reason.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else echo "chromium missing and not root: the browser tests will be skipped"; fi; fi

unit: install locales chromium
	$(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS)

# The storage, lock and sync tests again on the real PostgreSQL and Redis, when they answer.
# With REQUIRE_SERVICES=1 (CI) a missing service is a failure, not a skip.
services-tests: install locales
	@if $(PY) -m bot.devtools.services_up "$(PG_URL)" "$(REDIS_URL_TEST)"; then \
		TEST_DATABASE_URL="$(PG_URL)" TEST_REDIS_URL="$(REDIS_URL_TEST)" \
		$(PY) -m pytest -q -p no:cacheprovider -m "storage or lock or sync"; \
	elif [ -n "$$REQUIRE_SERVICES" ]; then echo "PostgreSQL/Redis required but not answering"; exit 1; \
	else echo "PostgreSQL/Redis not answering: second run skipped"; fi

test: lint typecheck unit services-tests

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
