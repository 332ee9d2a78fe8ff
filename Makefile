# Livepool: every target sets itself up; `make test` and `make demo` work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := $(CURDIR)/.venv
# ape-vyper finds the compiler with shutil.which("vyper"): the venv's bin must come first,
# or it tries to download a compiler (and there is no internet here).
export PATH := $(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
export VIRTUAL_ENV := $(VENV)
# Keep ape's data (compiler cache, local accounts) inside the project, not in $HOME.
export APE_DATA_FOLDER ?= $(CURDIR)/.cache/ape
# ape-vyper's settings model warns at import; it is not ours to fix and only adds noise.
export PYTHONWARNINGS := ignore:Field 'import_remapping' has an incomplete definition

comma := ,
PY_STAMP := $(VENV)/.stamp-python
JS_STAMP := node_modules/.stamp-js
# The dashboard: web/ has its own node_modules (npm ci from its lock file), and web/dist is
# rebuilt whenever a source changes.
WEB_STAMP := web/node_modules/.stamp-web
WEB_DIST := web/dist/index.html
WEB_SOURCES := $(shell find web/src web/index.html web/package.json web/tsconfig.json web/vite.config.ts -type f 2>/dev/null)

.PHONY: help setup test bench fuzz lint demo clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup: $(PY_STAMP) $(JS_STAMP) $(WEB_DIST)  ## make .venv, node_modules and the dashboard (web/dist); quick when done

$(PY_STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check -U "pip>=24"
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@# ape-foundry 0.8.12 pins evm-trace<0.3 in its metadata while eth-ape 0.8.52 needs >=0.3;
	@# the two work together, so it is installed without its (already present) dependencies.
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check --no-deps "ape-foundry==0.8.12"
	@touch $@

$(JS_STAMP): package.json
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(WEB_DIST): $(WEB_STAMP) $(WEB_SOURCES)
	npm --prefix web run build --silent
	@touch $@

test: setup  ## run every test: dashboard units, contracts, accountant (SQLite + PostgreSQL), chain flows, service, browser
	npm --prefix web test
	$(VENV)/bin/ape test tests -q -p no:cacheprovider $(PYTEST_ARGS)

bench: setup  ## run the benchmarks and print their tables (BENCH_ARGS=--quick: smaller sizes)
	$(VENV)/bin/python bench/gas.py
	$(VENV)/bin/python bench/merkle_bench.py $(if $(findstring --quick,$(BENCH_ARGS)),--sizes 10000$(comma)100000,)
	$(VENV)/bin/python bench/ingest_bench.py $(BENCH_ARGS)
	$(VENV)/bin/python bench/close_bench.py $(if $(findstring --quick,$(BENCH_ARGS)),--quick,--big)
	$(VENV)/bin/python bench/write_path_bench.py $(if $(findstring --quick,$(BENCH_ARGS)),--held 10000 --receipts 50000 --rounds 1,--held 10000 --receipts 300000)
	$(VENV)/bin/python bench/api_bench.py $(if $(findstring --quick,$(BENCH_ARGS)),--seconds 3,)

fuzz: setup  ## the stateful contract fuzzer with 2,000 sequences, 10× CI's (~45 min)
	$(VENV)/bin/ape test tests/contracts/test_invariants.py -q -p no:cacheprovider --hypothesis-profile deep

lint: setup  ## ruff, mypy --strict over the package and the scripts, and the Vyper compiler's checks
	$(VENV)/bin/ruff check offchain scripts tests bench
	$(VENV)/bin/ruff format --check offchain scripts tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/ape compile --force >/dev/null

demo: setup  ## a live pool on anvil: dashboard at http://127.0.0.1:8000, Ctrl-C stops (DEMO_ARGS=…)
	$(VENV)/bin/livepool demo $(DEMO_ARGS)

clean:  ## remove build products (keeps .venv and node_modules)
	rm -rf .build .cache .hypothesis
