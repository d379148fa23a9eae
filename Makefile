# DocStream developer commands. CI (.ci/run) calls these same targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint format bench clean coverage-crdt

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "DocStream needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	@touch $@

install: $(STAMP)

## Run DocStream on the embedded default (SQLite in the user data dir) at http://127.0.0.1:8000/
run: install
	$(BIN)/docstream serve

## Run the whole test suite (starts its own PostgreSQL and Redis)
test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check docstream tests benchmarks
	$(BIN)/ruff format --check docstream tests benchmarks
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix docstream tests benchmarks
	$(BIN)/ruff format docstream tests benchmarks

## 100% branch coverage of the pure CRDT package (docstream/crdt) by its own tests
coverage-crdt: install
	$(BIN)/python -m pytest tests/crdt --cov=docstream.crdt --cov-branch --cov-fail-under=100 -q

## Benchmarks: medians of repeated runs with the peers measured in the same run
bench: install
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dist build
