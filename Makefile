# Voice Doctor — the two commands of the README, and their helpers.
#   make run    start the bot with the embedded demo tenant and the Agents Playground (a Teams-like client)
#   make test   lint and run every test, as CI does: end-to-end tests in headless Chromium, PostgreSQL
#               tests on a throwaway server the suite starts itself (scripts/postgres.sh)

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install bench bench-quick lint format lock package clean

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed: install python3.11 (or set PYTHON=...)"; exit 2; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20 and npm are needed for the Agents Playground: install nodejs and npm"; exit 2; }
	npm ci --no-audit --no-fund
	touch $@

install: $(STAMP) node_modules/.package-lock.json

run: install
	@scripts/run-dev.sh

test: install
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -ra $(PYTEST_ARGS)

bench: install
	$(PY) -m bench

bench-quick: install
	$(PY) -m bench --quick

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

lock: $(STAMP)
	$(PY) -m pip freeze --exclude-editable | sort -f > constraints.txt

package: $(STAMP)
	$(PY) -m bot package

clean:
	rm -rf $(VENV) node_modules artifacts build .pytest_cache
