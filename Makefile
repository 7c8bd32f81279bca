# Everything bootstraps from python3 alone: the first target that needs it builds .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR := .demo

.PHONY: demo test lint bench schemas clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh $(DEMO_DIR)

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
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .ruff_cache
