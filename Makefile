# The two commands of the README: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint install clean-var bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# setuptools warns at length that folders named like a package shadow it: here they are
	@# the package (README, "Layout"), so the banner only alarms a newcomer.
	PYTHONWARNINGS='ignore:Editable installation' $(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Set everything up and run the service on embedded defaults.
run: $(STAMP)
	$(BIN)/zwgk init --sample --if-empty
	@# Ctrl-C ends `zwgk up` with 130: a normal stop, not a make error.
	$(BIN)/zwgk up || [ $$? -eq 130 ]

## Set everything up and run what CI runs: the static checks (`make lint`), then the whole
## suite on SQLite, then again with the app database on a real PostgreSQL server the tests
## start (Debian's postgresql package).
test: lint
	bash scripts/test-deps.sh
	$(BIN)/python -m pytest
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || [ -n "$$ZWGK_TEST_PG_URL" ]; then \
	  echo "make test: the suite again on PostgreSQL"; \
	  $(BIN)/python -m pytest --db postgresql -m "not scaleout"; \
	else \
	  echo "make test: PostgreSQL is not installed here; the PostgreSQL pass is skipped"; \
	fi

## ruff (lint and format), mypy across the packages, and the one-way layers (import-linter,
## contracts in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy zwgk models workflows notifications deployments
	$(BIN)/lint-imports

## City-scale benchmark against plain floors (a command, not a test; see README "Benchmark").
bench: $(STAMP)
	$(BIN)/python -m bench.city

clean-var:
	rm -rf var
