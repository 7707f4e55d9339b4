# Developer entry points. The README needs only two: `make run` and `make test`; both work on a
# fresh clone with nothing but python3, make and git.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TOOLS := .venv-tools
PYTEST_ARGS ?=

.PHONY: help install run test lint format types lock messages clean

help:
	@echo "make run    - migrate, demo data, web server + Celery worker + beat (Ctrl-C stops all)"
	@echo "make test   - the test suite (PYTEST_ARGS='-k name' to narrow it)"
	@echo "make lint   - ruff check and ruff format --check"
	@echo "make format - ruff format (what CI checks)"
	@echo "make types  - mypy with django-stubs over the apps (what CI checks)"
	@echo "make lock   - re-generate requirements.lock and requirements-dev.lock"
	@echo "make messages - update locale/ after texts changed (needs GNU gettext), compile the .mo files"
	@echo "make clean  - remove var/ (local database, cache, broker files, static files)"

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-installs only when the lock changed since the last install, so repeated runs are instant.
# uv installs the same lock, hashes checked, in seconds instead of a minute; pip is the fallback
# should uv be unavailable for this platform.
UV_VERSION := 0.13.9
$(STAMP): requirements-dev.lock | $(PY)
	$(VENV)/bin/pip install --disable-pip-version-check -q "uv==$(UV_VERSION)" \
	  && VIRTUAL_ENV="$(abspath $(VENV))" $(VENV)/bin/uv pip install -q --require-hashes -r requirements-dev.lock \
	  || $(VENV)/bin/pip install --disable-pip-version-check -q --require-hashes -r requirements-dev.lock
	@touch $@

run: install
	bin/run-dev

# pytest exits 5 when it collected (or kept) no test: a run that proves nothing is a failure.
# The suite runs in TEST_WORKERS processes (pytest-xdist), a test file each at a time: many tests
# wait on servers they started (app servers, SFTP, S3, Chromium), so three keep two cores busy.
# Each process has its own data folder, test database and Redis database (settings/test.py).
# TEST_WORKERS=0 runs everything in this one process.
TEST_WORKERS ?= 3
test: install
	@rc=0; $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: no tests were run; failing." >&2; exit 1; fi; \
	exit $$rc

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .

# The checked apps and the rules live in pyproject.toml ([tool.mypy]), so this is CI's command.
types: install
	$(VENV)/bin/mypy

# pip-tools lives in its own throwaway venv: it is not a dependency of the project.
$(TOOLS)/bin/pip-compile:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --disable-pip-version-check -q pip-tools

LOCK_FLAGS := -q --generate-hashes --no-emit-find-links --no-emit-index-url --strip-extras --allow-unsafe

lock: $(TOOLS)/bin/pip-compile
	$(TOOLS)/bin/pip-compile $(LOCK_FLAGS) -o requirements.lock pyproject.toml
	$(TOOLS)/bin/pip-compile $(LOCK_FLAGS) --extra dev -o requirements-dev.lock pyproject.toml

# The compiled .mo files are committed: `make run` and `make test` need no gettext. Only updating
# the catalogues after texts changed does (xgettext extracts the texts); polib compiles them.
messages: install
	$(PY) bin/messages

clean:
	rm -rf var/
