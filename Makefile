# aiKey developer commands. `make run` and `make test` are the two a newcomer needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# The demo accounts' password for local runs; never used outside `make run`.
SEED_PASSWORD ?= aikey-demo-2026
export FLASK_APP := wsgi

.PHONY: run test serve migrate seed ingest demo-exports lint format bench-ingest bench-live bench-dashboard docker clean help

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run migrate  ## Install, migrate, seed, ingest the demo files and serve on :5000
	@SEED_PASSWORD='$(SEED_PASSWORD)' $(BIN)/flask seed
	@$(BIN)/flask demo-exports
	@$(BIN)/flask ingest
	@echo
	@echo "  aiKey is starting on http://$(HOST):$(PORT)"
	@echo "  Demo logins (password: $(SEED_PASSWORD)):"
	@echo "    AIPHAS  aiphas@example.com"
	@echo "    DOCTOR  bob.doctor@example.com, nancy.doctor@example.com, tom.doctor@example.com"
	@echo
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev  ## Whole suite on real PostgreSQL and Redis, browser tests included
	@$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: that is a failure"; exit 1; fi; \
	exit $$status

migrate: $(VENV)/.installed-run  ## Apply database migrations (SQLite in instance/ unless DATABASE_URL)
	@$(BIN)/flask db upgrade

seed: $(VENV)/.installed-run  ## Seed demo users and patients (idempotent)
	@SEED_PASSWORD='$(SEED_PASSWORD)' $(BIN)/flask seed

ingest: $(VENV)/.installed-run  ## Run the pipeline on $$STORAGE_URI/incoming and load it
	@$(BIN)/flask ingest

demo-exports: $(VENV)/.installed-run  ## Write demo export files in all three formats
	@$(BIN)/flask demo-exports

serve: $(VENV)/.installed-run  ## Serve with gunicorn as the Dockerfile does (gunicorn.conf.py)
	$(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) wsgi:app

lint: $(VENV)/.installed-dev  ## Ruff lint and format check, and the import contracts (pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(VENV)/.installed-dev  ## Ruff format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench-live: $(VENV)/.installed-dev  ## 200 WebSockets on gunicorn: commit-to-screen latency and loss
	$(BIN)/python bench/live.py

bench-ingest: $(VENV)/.installed-dev  ## flask ingest vs naive Beam vs COPY floor (BENCH_RECORDS=1000000)
	$(BIN)/python bench/ingest.py --records $${BENCH_RECORDS:-1000000} --memory-check

bench-dashboard: $(VENV)/.installed-dev  ## Dashboard benchmark vs a bare Flask app (BENCH_PATIENTS=200000; PostgreSQL, Redis, wrk)
	$(BIN)/python bench/dashboard.py --patients $${BENCH_PATIENTS:-200000}

docker:  ## Build the Cloud Run image (needs a Docker engine)
	docker build -t aikey:latest .

clean:  ## Remove the venv, the local database and local storage
	rm -rf $(VENV) instance var
