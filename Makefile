# hipkit: two commands set everything up on a fresh machine.
#   make demo   runs the main job on the bundled data
#   make test   runs the tests
# Both create .venv on first use and install into it exactly what requirements.lock pins (hipkit's
# dependencies, the dev extra, pip and setuptools, each with its hashes), then hipkit itself.
# .venv is rebuilt from scratch whenever requirements.lock changes (hipkit reinstalled when pyproject.toml does).
#   make lock          re-resolve requirements.lock after editing the dependencies in pyproject.toml
#                      (pins that still fit are kept); with UPGRADE="pkg ..." moves those pins to
#                      their newest releases. lock and lock-upgrade are the only targets that write it
#   make lock-upgrade  move every pin to its newest release (then make test, and review the diff)

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
LOCK    = requirements.lock

# The lock is universal (any OS) for CPython >= LOCK_PYTHON: its pins need 3.11.5 or newer
# (numpy, pandas and scipy need 3.11; soupsieve 3.11.5).
LOCK_PYTHON = 3.11.5
# uv writes the lock. It is installed from PyPI into a throwaway venv used by `make lock` only;
# pinned so that a refresh gives the same file on every machine.
UV_VERSION = 0.13.9
UV_VENV    = .venv-uv
UV         = $(UV_VENV)/bin/uv
LOCK_FLAGS = pyproject.toml --extra dev --group bootstrap --universal --python-version $(LOCK_PYTHON) \
	--generate-hashes --custom-compile-command "make lock" --quiet -o $(LOCK)

.PHONY: demo test test-fast bench lint lock lock-upgrade clean-venv r-deps browser-deps

# A fresh venv, then the lock with pip's hash checking (every package pinned, every file checked).
# The venv records the lock's checksum, so a lock whose date changed but whose text did not (a
# checkout, a `make lock` that moved nothing) keeps it.
$(VENV)/.locked: $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11, 5) and "requirements.lock needs Python >= $(LOCK_PYTHON): run make PYTHON=python3.11 (or newer)")'
	@if sha256sum --check --status "$(VENV)/lock.sha256" 2>/dev/null; then \
		echo "$(VENV) already holds what $(LOCK) pins"; \
	else \
		set -ex; \
		rm -rf "$(VENV)"; \
		$(PYTHON) -m venv $(VENV); \
		$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK); \
		sha256sum $(LOCK) > "$(VENV)/lock.sha256"; \
	fi
	touch $@

# Then hipkit, without touching its dependencies and built by the pinned setuptools (no build
# isolation: an isolated build would fetch whatever setuptools is newest). `pip check` fails when
# pyproject.toml asks for a package the lock lacks: run `make lock`.
$(STAMP): $(VENV)/.locked pyproject.toml
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $@

$(UV):
	$(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

# make lock UPGRADE="pandas numpy" moves only those pins to their newest releases.
lock: $(UV)
	$(UV) pip compile $(LOCK_FLAGS) $(addprefix --upgrade-package ,$(UPGRADE))

lock-upgrade: $(UV)
	$(UV) pip compile $(LOCK_FLAGS) --upgrade

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
	@if command -v Rscript >/dev/null && Rscript -e 'for (p in c("lme4","lmerTest","emmeans","jsonlite","pbkrtest","nlme","numDeriv","glmmTMB")) library(p, character.only=TRUE)' >/dev/null 2>&1; then \
		echo "R reference packages present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq r-base-core r-cran-lme4 r-cran-lmertest r-cran-emmeans r-cran-jsonlite r-cran-pbkrtest r-cran-nlme r-cran-glmmtmb >/dev/null; \
	else \
		echo "cannot install R here (needs root and apt-get); R-running tests will be skipped"; \
	fi

clean-venv:
	rm -rf "$(VENV)" "$(UV_VENV)"

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
