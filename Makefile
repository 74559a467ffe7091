# hipkit: two commands set everything up on a fresh machine.
#   make demo   runs the main job on the bundled data
#   make test   runs the tests
# Both create .venv and install what the project needs on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test test-fast bench lint clean-venv r-deps browser-deps

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

# R, lme4, lmerTest and emmeans from Debian's packages: only to regenerate or re-check the reference
# values in tests/reference (the tests read the committed JSON; R-running tests skip without R).
r-deps:
	@if command -v Rscript >/dev/null && Rscript -e 'for (p in c("lme4","lmerTest","emmeans","jsonlite","pbkrtest")) library(p, character.only=TRUE)' >/dev/null 2>&1; then \
		echo "R reference packages present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq r-base-core r-cran-lme4 r-cran-lmertest r-cran-emmeans r-cran-jsonlite r-cran-pbkrtest >/dev/null; \
	else \
		echo "cannot install R here (needs root and apt-get); R-running tests will be skipped"; \
	fi

clean-venv:
	rm -rf $(VENV)

# Chromium from Debian's packages: for `hipkit report --pdf` and the browser tests of the report
# (they skip without it). The playwright client that drives it comes with the dev extras.
browser-deps:
	@if command -v chromium >/dev/null; then \
		echo "Chromium present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "cannot install Chromium here (needs root and apt-get); browser tests will be skipped"; \
	fi
