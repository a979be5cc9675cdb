# The README's two commands: `make run` and `make test`. Everything else is a helper.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST_WORKERS ?= auto

.PHONY: run test test-sqlite test-postgres test-shifted test-dates install chromium lint format clean bench

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

# The whole suite on SQLite, then on a throwaway PostgreSQL cluster, then its fast part
# once more on SQLite with the whole process under a clock 400 days ahead.
test: test-sqlite test-postgres test-shifted

test-sqlite: $(STAMP) chromium
	$(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

test-postgres: $(STAMP) chromium
	scripts/with-postgres $(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

# The fast part of the suite (not the live-process tests, not the fuzzing) under a shifted
# system clock (Debian's libfaketime, scripts/with-faketime): a test that depends on the
# day it runs fails here. Chromium runs on the real clock (it cannot run under libfaketime).
FAST_TESTS := -m "not slow and not fuzz"
SHIFT ?= +400d
test-shifted: $(STAMP) chromium
	scripts/with-faketime $(SHIFT) $(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider $(FAST_TESTS)

# The fast part under each awkward date: a leap day, the two European daylight-saving
# changes and New Year's Eve (30 s before each), a new decade and two years back.
# Every date runs, then the failed ones are named.
DATES := "2028-02-29 12:00:00" "2027-03-28 00:59:30" "2027-10-31 00:59:30" \
	"2027-12-31 23:59:30" "2030-01-01 00:00:00" "-730d"
test-dates: $(STAMP) chromium
	@failed=""; for when in $(DATES); do \
	  echo "== the fast tests at $$when"; \
	  scripts/with-faketime "$$when" $(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider \
	    -q $(FAST_TESTS) || failed="$$failed [$$when]"; \
	done; \
	if [ -n "$$failed" ]; then echo "test-dates: failed at$$failed"; exit 1; fi; \
	echo "test-dates: passed at every date"

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
