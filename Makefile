# Everything the project needs is installed from its own files: requirements*.txt and package.json.
SHELL := /bin/bash
# Python 3.13, the version the Function App runs in Azure: from PATH, else from pyenv's versions (every
# machine of this project has one there, even when pyenv's global version is another).
PYTHON ?= $(shell for c in python3.13 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13 2>/dev/null | sort -V -r); do \
	$$c -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null && { echo $$c; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps
# The host <-> worker messages the dev host exchanges with azure-functions-runtime, compiled from the .proto.
PROTOCOL := devtools/devhost/protocol
SUDO := $(shell test "$$(id -u)" = 0 || echo sudo)

.PHONY: install dev test test-unit format openapi clean

install: $(STAMPS)/python3.13 $(STAMPS)/node $(PROTOCOL)/function_rpc_pb2.py $(STAMPS)/chromium

$(STAMPS)/python3.13: requirements.txt requirements-dev.txt clients/python/pyproject.toml
	@mkdir -p $(STAMPS)
	@test -n "$(PYTHON)" || { echo "Python 3.13 not found: install it (pyenv install 3.13) or run make PYTHON=/path/to/python3.13" >&2; exit 1; }
	@$(PY) -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

$(PROTOCOL)/function_rpc_pb2.py: $(PROTOCOL)/function_rpc.proto $(STAMPS)/python3.13
	$(PY) -m grpc_tools.protoc -I $(PROTOCOL) --python_out=$(PROTOCOL) --pyi_out=$(PROTOCOL) $<

# patches/ fixes emulator bugs (see patches/README.md); applied after every install.
$(STAMPS)/node: package.json package-lock.json $(wildcard patches/*.patch)
	@mkdir -p $(STAMPS)
	npm ci --no-audit --no-fund --loglevel=error
	node_modules/.bin/patch-package --error-on-fail
	@touch $@

# The playground's browser test drives Debian's Chromium headless (Playwright without its own browsers).
$(STAMPS)/chromium:
	@mkdir -p $(STAMPS)
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium fonts-dejavu-core; }
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

# Rewrites docs/openapi.json from the HTTP functions' declarations and the pydantic models (a test checks it).
openapi: install
	$(PY) -m devtools.openapi > docs/openapi.json

clean:
	rm -rf $(STAMPS) .devdata $(PROTOCOL)/function_rpc_pb2.py $(PROTOCOL)/function_rpc_pb2.pyi .pytest_cache .mypy_cache .ruff_cache
