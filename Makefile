# Entry points for developers and CI; `make help` lists them and README.md says what each does.
# Connection settings come from DATABASE_URL and REDIS_URL (environment, then .env, then the defaults in
# config/settings/base.py); the set-up scripts in scripts/ read them the same way.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
# Prerequisites are listed in the order they must run (venv, then services, then the database).
.NOTPARALLEL:

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export PYTHON VENV

# The project's own packages, for mypy (tests and migrations are excluded in pyproject.toml).
TYPED := config claims members providers analytics ops
# Claims for `make data`.
SCALE ?= 1000000
PYTEST_ARGS ?=
# Minutes `make fuzz` runs the 837P parser fuzz for (CI runs its bounded 300-example profile instead).
FUZZ_MINUTES ?= 5
BENCH_ARGS ?=

.PHONY: help venv services replica loadtest serve-web browser assets bootstrap db superuser demo-data analytics setup serve demo test fuzz roles \
	lint fmt typecheck migrations-check check bench data maintain clean distclean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

demo: setup serve ## set everything up, load the demo claims, run web + Celery worker + beat (admin at http://127.0.0.1:8000/admin/)

setup: analytics assets ## everything `make demo` does before serving, then exit
	@echo "setup: done. 'make serve' (or 'make demo') serves the admin at http://$${SERVE_ADDR:-127.0.0.1:8000}/admin/"

test: bootstrap replica browser assets roles ## the whole test suite on PostgreSQL (pytest-django creates test_<dbname> itself)
	$(BIN)/pytest $(PYTEST_ARGS)

fuzz: venv ## fuzz the 837P parser with mutated sample files for FUZZ_MINUTES minutes (default 5; no database)
	FUZZ_MINUTES=$(FUZZ_MINUTES) $(BIN)/pytest -q -s \
		claims/tests/test_fuzz_837.py::test_mutated_samples_parse_to_storable_claims_or_raise_x12error

roles: bootstrap ## create the database roles (owner, app, reporting) from DATABASE_ADMIN_URL (manage.py db_roles)
	$(BIN)/python manage.py db_roles

venv: ## create .venv and pip install -e '.[dev]' (skipped while .venv is newer than pyproject.toml)
	@bash scripts/venv.sh

services: ## make PostgreSQL and Redis answer: start them, or install them, when they do not
	@bash scripts/services.sh

bootstrap: venv services ## venv and services: what the tests need

replica: services ## a hot standby of the database on port 5433 (pg_basebackup -R), and DATABASE_REPLICA_URL in .env
	@bash scripts/replica.sh

# Only the tests need a browser: `make demo` does not install one.
browser: ## install Debian's chromium and chromium-driver when missing, for the browser tests
	@bash scripts/browser.sh

# The analytics pages draw their charts with ECharts served from our static files; the browser tests need it too.
assets: ## npm ci (package-lock.json: echarts) and copy echarts.min.js into analytics/static (no CDN)
	@bash scripts/assets.sh

db: bootstrap ## create the database when missing, migrate, create the monthly partitions
	@bash scripts/db.sh

superuser: db ## create the demo superuser (admin / claims-demo) or put it back as printed
	@bash scripts/superuser.sh

demo-data: superuser ## generate demo 837P files into var/demo_837, ingest them and ../shared's samples
	@bash scripts/demo_data.sh

analytics: demo-data ## refresh the analytics views and day summaries once (Celery beat keeps them fresh after)
	@bash scripts/analytics.sh

serve: venv ## run web, Celery worker and beat together (honcho, Procfile); web on 127.0.0.1:8000 (SERVE_ADDR)
	@bash scripts/serve.sh

loadtest: venv ## locust's examiners, analysts and ops against gunicorn on this database (LOADTEST_USERS, LOADTEST_TIME); report in var/loadtest/
	@bash scripts/loadtest.sh

serve-web: venv ## the web process alone under gunicorn, as production serves it (ops/serving.py; SERVE_ADDR)
	$(BIN)/gunicorn -c ops/serving.py config.wsgi

lint: venv ## ruff check, ruff format --check, and the layer contracts (lint-imports, pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo

fmt: venv ## ruff check --fix and ruff format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: venv ## mypy with django-stubs on the project's packages
	$(BIN)/mypy $(TYPED)

migrations-check: venv ## fail when a model change has no migration
	$(BIN)/python manage.py makemigrations --check --dry-run

check: venv ## Django's system checks
	$(BIN)/python manage.py check

bench: db ## run the benchmarks (manage.py benchmark; BENCH_ARGS=...)
	@# A development tool run as the owner: it builds a baseline schema and scratch databases (README "Benchmark").
	@# SCALE given (make bench SCALE=10000000): the database must hold that many claims (make data SCALE=N fills it),
	@# and the report goes beside the newest one at another scale.
	DATABASE_URL="$$($(BIN)/python manage.py db_roles --owner-url)" $(BIN)/python manage.py benchmark \
		$(if $(filter command line environment,$(origin SCALE)),--expect-claims $(SCALE)) $(BENCH_ARGS)

data: db ## fill the database with SCALE synthetic claims (manage.py generate_demo_data; SCALE=1000000)
	$(BIN)/python manage.py generate_demo_data --claims $(SCALE)

maintain: db ## run the maintenance jobs once (partitions, cleanup, reindex; README "Maintenance jobs")
	$(BIN)/python manage.py partitions_maintain --yes
	$(BIN)/python manage.py cleanup_expired --yes
	$(BIN)/python manage.py reindex_bloated --yes

clean: ## remove generated files and caches (var/, caches, build output); the database stays
	rm -rf var build .pytest_cache .mypy_cache .ruff_cache ./*.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean ## clean, and remove the virtualenv too
	rm -rf $(VENV)
