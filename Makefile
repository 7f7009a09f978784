# `make test` installs what the tests need (Debian packages when run as root, a virtualenv
# with the package and its test extras) and runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: test install lint generate check-generated clean

test: $(VENV)/.installed
	scripts/install-test-deps.sh
	$(BIN)/python -m pytest

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

lint: $(VENV)/.installed
	$(BIN)/ruff check dockerhub_cli tests
	$(BIN)/ruff format --check dockerhub_cli tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
