# `make test` installs what the tests need (Debian packages when run as root, a virtualenv
# with the package and its test extras), checks the import contracts (pyproject.toml
# [tool.importlinter]) and runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The interpreter that runs the generators: the project venv when it exists, else $(PYTHON).
PYTHON_RUN ?= $(shell [ -x $(BIN)/python ] && echo $(BIN)/python || echo $(PYTHON))

.PHONY: test install lint generate check-generated clean demo docs-update

test: $(VENV)/.installed
	scripts/install-test-deps.sh
	scripts/install-mcp-inspector.sh
	$(BIN)/lint-imports --no-cache
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

lint: $(VENV)/.installed
	$(BIN)/ruff check dockerhub_cli tests scripts
	$(BIN)/ruff format --check dockerhub_cli tests scripts
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/import_cycles.py

# Regenerate man/dockerhub.1, completions/* and docs/commands.md from the command spec
# (dockerhub_cli/commands.py; after adding a command or an option, or when
# tests/unit/test_generated.py says they drifted).
generate:
	$(PYTHON_RUN) scripts/gen_man.py
	$(PYTHON_RUN) scripts/gen_completions.py
	$(PYTHON_RUN) scripts/gen_docs.py
	$(PYTHON_RUN) scripts/gen_mcp_tools.py

check-generated:
	$(PYTHON_RUN) scripts/gen_man.py --check
	$(PYTHON_RUN) scripts/gen_completions.py --check
	$(PYTHON_RUN) scripts/gen_docs.py --check
	$(PYTHON_RUN) scripts/gen_mcp_tools.py --check

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache

# A local registry with the images the documentation uses (scripts/demo-registry start|stop|env).
demo: $(VENV)/.installed
	$(BIN)/python scripts/demo-registry start

# Rerun every documented example and rewrite the outputs that changed (review the diff).
docs-update: $(VENV)/.installed
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/docs-update
