# PRSM Workflows: `make run` serves the app, `make test` runs the suite.
# Both install what they need on first use and skip it afterwards.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install setup run test test-multihost lint format check clean frontend frontend-check chromium lock

# The locked dependencies (hashes checked), then this checkout itself, editable and
# without dependencies, so `.venv/bin/prsm` and `import prsm` run the code in prsm/.
# (Not `-e ./sdk`: its wheel force-includes ../prsm, and hatchling copies force-included
# files into an editable install, so the CLI would run a stale copy.)
$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# The browser app: npm ci from the lock file, then a Vite build into static/dist.
FRONTEND_STAMP := frontend/node_modules/.installed
FRONTEND_SOURCES := $(shell find frontend/src templates workflows/templates executions/templates -type f 2>/dev/null) \
	frontend/vite.config.ts frontend/tsconfig.json
MANIFEST := static/dist/manifest.json

$(FRONTEND_STAMP): frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $(FRONTEND_STAMP)

$(MANIFEST): $(FRONTEND_STAMP) $(FRONTEND_SOURCES)
	cd frontend && npx vite build --logLevel warn

frontend: $(MANIFEST)

frontend-check: $(FRONTEND_STAMP)
	cd frontend && npx tsc --noEmit
	cd frontend && npx vitest run

# Browser tests drive Debian's Chromium; never a downloaded browser.
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium)

install: $(STAMP) $(MANIFEST)

setup: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py load_builtin_templates

run: setup
	$(PY) manage.py setup_demo --url http://$(HOST):$(PORT)/
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

test: install frontend-check chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# Three worker hosts as network namespaces sharing PostgreSQL and Redis, one cut off
# mid-run (tests/reliability/test_multihost.py). Root, DATABASE_URL and REDIS_URL.
test-multihost: install
	$(PY) -m pytest -m multihost tests/reliability $(PYTEST_ARGS)

# Every static gate CI runs: lint and format of the Python, import contracts, types,
# and the TypeScript formatter.
lint: install $(FRONTEND_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd frontend && npx prettier --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

# Regenerate the lock file after changing dependencies in pyproject.toml.
lock: install
	$(PY) -m pip install --quiet --disable-pip-version-check uv
	$(VENV)/bin/uv pip compile -q pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) var static/dist
