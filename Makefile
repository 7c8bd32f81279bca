# Everything bootstraps from python3 alone: the first target that needs it builds .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check
RUNTIME_STAMP := $(VENV)/.runtime-installed
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench schemas clean

# Two stamps: the demo needs only the package and its runtime dependencies; the tests add
# the test extra on top (so `make test` after `make demo` installs just that).
$(RUNTIME_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -e .
	touch $(RUNTIME_STAMP)

$(STAMP): $(RUNTIME_STAMP)
	$(PIP) install -e '.[test]'
	touch $(STAMP)

demo: $(RUNTIME_STAMP)
	bash scripts/demo.sh

test: $(STAMP)
	$(BIN)/ruff check reconciler tests
	$(BIN)/python -m pytest -n 2 tests --ignore=tests/benchmarks

lint: $(STAMP)
	$(BIN)/ruff check reconciler tests

bench: $(STAMP)
	$(BIN)/python -m tests.benchmarks.run

schemas: $(STAMP)
	$(BIN)/reconciler schema --out schemas

clean:
	rm -rf $(VENV) .demo .pytest_cache .ruff_cache
