# hipkit: two commands set everything up on a fresh machine.
#   make demo   runs the main job on the bundled data
#   make test   runs the tests
# Both create .venv and install what the project needs on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test test-fast bench lint clean-venv

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hipkit demo

test: $(STAMP)
	$(BIN)/ruff check toolkit tests
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_clean.py

lint: $(STAMP)
	$(BIN)/ruff check toolkit tests

clean-venv:
	rm -rf $(VENV)
