# The two commands of the README: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint install clean-var

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Set everything up and run the service on embedded defaults.
run: $(STAMP)
	$(BIN)/zwgk init --sample --if-empty
	$(BIN)/zwgk up

## Set everything up and run the whole suite (what CI runs).
test: $(STAMP)
	bash scripts/test-deps.sh
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy zwgk models workflows notifications deployments

clean-var:
	rm -rf var
