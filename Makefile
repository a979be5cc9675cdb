# The README's two commands: `make run` and `make test`. Everything else is a helper.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST_WORKERS ?= auto

.PHONY: run test test-sqlite test-postgres install chromium lint format clean bench

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The browser tests drive Debian's Chromium (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

# Migrate the instance database, load the demo data on first start, serve on :8000 (PORT).
run: $(STAMP)
	$(VENV)/bin/exchange db upgrade
	$(VENV)/bin/exchange demo --first-start
	exec $(VENV)/bin/exchange serve

# The whole suite on SQLite, then on a throwaway PostgreSQL cluster.
test: test-sqlite test-postgres

test-sqlite: $(STAMP) chromium
	$(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

test-postgres: $(STAMP) chromium
	scripts/with-postgres $(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

# Benchmarks (issue 8; not part of `make test`): SQLite, then a throwaway PostgreSQL
# cluster; prints the table, writes bench/results/latest.json and docs/benchmarks.md.
# BENCH_ARGS="--quick" for a smoke check, "--db sqlite" for one database, "--profile".
BENCH_ARGS ?=
bench: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test,bench]'
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "installing Debian's wrk for the benchmarks"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -qq wrk || { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk; }; }
	scripts/with-postgres $(PY) -m bench $(BENCH_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check exchange tests examples
	$(VENV)/bin/ruff format --check exchange tests examples

format: $(STAMP)
	$(VENV)/bin/ruff format exchange tests examples
	$(VENV)/bin/ruff check --fix exchange tests examples

clean:
	rm -rf $(VENV) build *.egg-info
