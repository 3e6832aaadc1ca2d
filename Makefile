# Everything the project needs is installed from its own files: requirements*.txt and package.json.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps

.PHONY: dev test test-unit test-integration lint format typecheck check install clean openapi

install: $(STAMPS)/python $(STAMPS)/node

$(STAMPS)/python: requirements.txt requirements-dev.txt
	@mkdir -p $(STAMPS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

# patches/ fixes emulator bugs (see patches/README.md); applied after every install.
$(STAMPS)/node: package.json package-lock.json $(wildcard patches/*.patch)
	@mkdir -p $(STAMPS)
	npm ci --no-audit --no-fund --loglevel=error
	node_modules/.bin/patch-package --error-on-fail
	@touch $@

# Installs everything, starts Azurite, the Cosmos DB emulator, the provider simulator and the dev host,
# and serves the API on http://127.0.0.1:7071/api until Ctrl-C.
dev: install
	$(PY) -m devtools.stack

# The whole suite: lint, types, unit tests, dev host tests and integration tests (which start their own
# stack on free ports).
test: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m pytest -q

test-unit: install
	$(PY) -m pytest -q tests/unit

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# Rewrites docs/openapi.json from the registered operations and the pydantic models (a test checks it).
openapi: install
	$(PY) -m shared.openapi > docs/openapi.json

clean:
	rm -rf $(STAMPS) .devdata .pytest_cache .mypy_cache .ruff_cache
