# DocStream developer commands. CI (.ci/run) calls these same targets.
PYTHON ?= python3
NPM ?= npm
VENV ?= .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
UI_INDEX := docstream/web/static/index.html
UI_DEPS := webui/node_modules/.installed
UI_SOURCES := $(shell find webui/src webui/public webui/index.html -type f 2>/dev/null) \
	webui/package.json webui/package-lock.json webui/vite.config.ts webui/tsconfig.json

.PHONY: install install-dev ui run test test-ui test-py lint format bench clean coverage-crdt screenshots

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "DocStream needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	@touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)
install-dev: $(DEV_STAMP)

$(UI_DEPS): webui/package.json webui/package-lock.json
	cd webui && $(NPM) ci --no-audit --no-fund
	@touch $@

$(UI_INDEX): $(UI_DEPS) $(UI_SOURCES)
	cd webui && $(NPM) run build

## Build the web UI into docstream/web/static/ (when missing or stale)
ui: $(UI_INDEX)

## Run DocStream on the embedded default (SQLite in the user data dir) at http://127.0.0.1:8000/
run: install
	@if command -v $(NPM) >/dev/null 2>&1; then $(MAKE) --no-print-directory ui; \
	else echo "make run: npm not found - serving the API without the web UI (install Node.js 20+)"; fi
	$(BIN)/docstream serve

## Run the whole test suite: the UI's unit tests, pytest (starts its own PostgreSQL, Redis,
## Chromium and DocStream servers), then the packaging tests (bundles, desktop window on Xvfb)
test: test-ui test-py test-packaging

test-ui: install-dev $(UI_DEPS)
	cd webui && $(NPM) test

test-py: install-dev ui
	$(BIN)/python -m pytest

lint: install-dev $(UI_DEPS)
	$(BIN)/ruff check docstream testkit tests benchmarks
	$(BIN)/ruff format --check docstream testkit tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports
	cd webui && $(NPM) run typecheck && $(NPM) run lint && $(NPM) run format:check

format: install-dev $(UI_DEPS)
	$(BIN)/ruff check --fix docstream testkit tests benchmarks
	$(BIN)/ruff format docstream testkit tests benchmarks
	cd webui && $(NPM) run format

## 100% branch coverage of the pure CRDT package (docstream/crdt) by its own tests
coverage-crdt: install-dev
	$(BIN)/python -m pytest tests/crdt --cov=docstream.crdt --cov-branch --cov-fail-under=100 -q

## Refresh the screenshots docs/ui.md shows (docs/ui/) from a run of the screen tour; every
## screen at both sizes and themes is in test-artifacts/screenshots/
screenshots: install-dev ui
	DOCSTREAM_DOCS_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/browser/test_screens.py -k every_screen

## Benchmarks: medians of repeated runs with the peers measured in the same run
bench: install-dev
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dist build webui/node_modules \
		docstream/web/static

# --- Packaging: one-file bundles and their tests ----------------------------------------------
.PHONY: bundle bundle-desktop test-packaging

## dist/docstream: one executable for `serve` and `migrate`, web UI and migrations inside
bundle: install ui
	$(BIN)/python -m pip install -q -e '.[bundle]'
	$(BIN)/python -m PyInstaller --noconfirm --log-level WARN packaging/docstream.spec
	@ls -l dist/docstream

## dist/docstream-desktop: the same plus `desktop` (pywebview; Qt WebEngine on Linux)
bundle-desktop: install ui
	$(BIN)/python -m pip install -q -e '.[bundle,desktop]'
	DOCSTREAM_BUNDLE=desktop $(BIN)/python -m PyInstaller --noconfirm --log-level WARN packaging/docstream.spec
	@ls -l dist/docstream-desktop

## The packaging tests (pytest -m packaging; plain pytest leaves them out): the bundle's smoke
## test, the desktop window on Xvfb, the wheel's contents, `docker compose config`
test-packaging: install-dev ui
	$(BIN)/python -m pip install -q -e '.[dev,bundle,desktop,compose]'
	$(BIN)/python -m pytest -m packaging tests/packaging
