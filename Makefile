# travelgate developer commands. `make test` and `make run` work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SOURCES := src tests bench scripts

.PHONY: install lint typecheck proto proto-check test run demo certs bench clean interop-build interop screenshots

install: $(STAMP)

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "travelgate needs Python 3.11 or newer on PATH" >&2; exit 1; fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

lint: install
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)

typecheck: install
	$(BIN)/mypy

proto: install
	$(BIN)/python scripts/genproto.py

proto-check: install
	$(BIN)/python scripts/genproto.py --check

test: install lint typecheck proto-check
	$(BIN)/pytest

certs: install
	$(BIN)/travelgate certs init certs

run: install
	$(BIN)/travelgate dev run certs

demo: install
	$(BIN)/travelgate dev demo certs

bench: install
	$(BIN)/python -m bench.run

# The compliance console's main pages as 1280x800 PNGs (docs/screenshots/), from a scripted
# dev setup with demo data, shot with Debian's Chromium (never a downloaded browser).
screenshots: install
	$(BIN)/python scripts/screenshots.py docs/screenshots

# Interop with the TRISA reference implementation: a Go peer built from
# github.com/trisacrypto/trisa (interop/), run against travelgate in both directions.
GO ?= go

interop-build:
	@command -v $(GO) >/dev/null 2>&1 || { echo "make interop needs the Go toolchain (1.22 or newer) on PATH to build the reference peer: https://go.dev/dl/" >&2; exit 2; }
	cd interop && $(GO) build -o bin/trisa-refpeer ./cmd/trisa-refpeer

interop: install interop-build
	$(BIN)/python scripts/interop.py

# The fuzz targets of tests/fuzz run briefly in `make test` (hypothesis profile "ci");
# here with the "fuzz" profile: thousands of inputs each, failures kept in tests/fuzz/.examples.
.PHONY: fuzz
fuzz: install
	TRAVELGATE_FUZZ_PROFILE=fuzz $(BIN)/pytest tests/fuzz -q

clean:
	rm -rf interop/bin interop/run
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build src/*.egg-info
