# Flowdesk: `make run` serves the demo, `make test` runs everything CI runs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint types contracts pytest install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# htmx for the web desktop comes from the npm registry (package-lock.json); the pages also work
# without it, so a machine without npm still runs and tests everything else.
NPM_CI = command -v npm >/dev/null 2>&1 && npm ci --no-audit --no-fund --silent \
	|| echo "npm not available: the web desktop runs without htmx (plain forms)"

$(VENV)/.installed: pyproject.toml package-lock.json | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	@$(NPM_CI)
	touch $@

$(VENV)/.installed-dev: pyproject.toml package-lock.json | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@$(NPM_CI)
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Migrate, load the demo company and (first time only) 30 days of its history, then serve.
run: install
	$(BIN)/flowdesk serve --seed-days 30

lint: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

types: install-dev
	$(BIN)/mypy

contracts: install-dev
	$(BIN)/lint-imports

# Two test processes (the CI machine has two cores; most tests wait on browsers, servers and
# databases), a test file per process so module fixtures are built once. Serial: PYTEST_ARGS=
PYTEST_ARGS ?= -n 2 --dist loadfile --durations=25
# pytest exits 5 when it collected no tests; that is not a failure of the suite.
pytest: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then exit 0; else exit $$rc; fi

test: lint types contracts pytest

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
