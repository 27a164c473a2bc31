# ownvoice — two commands: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH_VERSION := 2.13.0
STAMP := $(VENV)/.installed
ADAPTERS := adapters/obsidian adapters/vscode
# The tests' converted model weights (~70 s to make): made once by pytest, reused by the adapters'
# end-to-end daemons and by later runs (re-made when the export version or the weights change).
TEST_MODELS := $(CURDIR)/build/test-models

.PHONY: browser run test test-python test-adapters hardening bench lint clean help venv

help:
	@echo "make run    - set up .venv and start the daemon with the default voice"
	@echo "make test   - set up .venv and run every test (Python and editor adapters)"
	@echo "make bench  - speed, memory and quality benchmarks (slow; writes bench/results/)"
	@echo "make hardening - the long fault/attack/load suite"
	@echo "make lint   - ruff"

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# torch first, pinned to the CPU wheel: a plain `torch` requirement would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q torch==$(TORCH_VERSION)
	$(PIP) install -q -e '.[dev,bench]'
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/ownvoice run

test: test-python test-adapters

test-python: $(STAMP)
	@rc=0; OWNVOICE_TEST_MODELS_DIR=$(TEST_MODELS) $(PY) -m pytest -q || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

# Debian's chromium for the adapters' headless browser checks (skipped with a message without it).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; browser checks will skip" >&2; \
	  else echo "note: /usr/bin/chromium missing (install Debian's chromium); browser checks will skip" >&2; fi; \
	fi

test-adapters: $(STAMP) browser
	@set -e; for d in $(ADAPTERS); do \
	  if [ -f $$d/package.json ]; then \
	    echo "== $$d"; \
	    (cd $$d && ( [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund ) \
	      && npm run build && npm test \
	      && OWNVOICE_BIN=$(CURDIR)/$(VENV)/bin/ownvoice OWNVOICE_MODELS_DIR=$(TEST_MODELS) npm run test:e2e); \
	  fi; \
	done

# The fast part of tests/hardening runs in `make test`; this adds the long runs (marker
# hardening_full) and writes bench/results/hardening.json with the summary figures.
hardening: $(STAMP)
	$(PY) bench/hardening.py

bench: $(STAMP)
	$(PY) bench/synth.py && $(PY) bench/stream.py && $(PY) bench/notes.py && $(PY) bench/bridge.py && $(PY) bench/clone_eval.py

lint: $(STAMP)
	$(VENV)/bin/ruff check ownvoice tests bench

clean:
	rm -rf $(VENV) build *.egg-info
