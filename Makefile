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
# Browser tests drive Debian's Chromium; `make test` installs it when missing (as root).
CHROMIUM ?= /usr/bin/chromium
APT_GET ?= apt-get
USER_ID ?= $(shell id -u)
# pip-compile's options for `make lock`: pinned, hashed, no machine-local index in the files.
PIP_COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host $(if $(UPGRADE),--upgrade)

.PHONY: run test chromium serve migrate seed ingest demo-exports lint lock format bench-ingest bench-live bench-dashboard bench-audit docker clean help

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --require-hashes -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	@touch $@ $(VENV)/.installed-run

lock: | $(BIN)/activate  ## Recompile requirements*.txt (every package pinned, hashed) from *.in; UPGRADE=1 for newest
	@test -x $(BIN)/pip-compile || $(BIN)/pip install --quiet "pip-tools>=7.4"
	$(PIP_COMPILE) --output-file requirements.txt requirements.in
	$(PIP_COMPILE) --output-file requirements-dev.txt requirements-dev.in
	@rm -f $(VENV)/.installed-run $(VENV)/.installed-dev

chromium:  ## Debian's Chromium for the browser tests: installed when missing and root, else say how
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$(USER_ID)" = 0 ]; then \
			echo "Installing Debian's chromium for the browser tests ($(APT_GET) install -y chromium)"; \
			export DEBIAN_FRONTEND=noninteractive; \
			$(APT_GET) update -qq && $(APT_GET) install -y -qq chromium >/dev/null || exit 1; \
		else \
			echo "Chromium is missing at $(CHROMIUM): run 'sudo apt-get install -y chromium', then make test again" >&2; \
			exit 1; \
		fi; \
	fi

run: $(VENV)/.installed-run migrate  ## Install, migrate, seed, ingest the demo files and serve on :5000
	@SEED_PASSWORD='$(SEED_PASSWORD)' $(BIN)/flask seed
	@$(BIN)/flask demo-exports
	@$(BIN)/flask ingest
	@echo
	@echo "  aiKey is starting on http://$(HOST):$(PORT)"
	@echo "  Demo logins (password: $(SEED_PASSWORD)):"
	@echo "    AIPHAS  aiphas@example.com"
	@echo "    DOCTOR  bob.doctor@example.com, nancy.doctor@example.com, tom.doctor@example.com"
	@echo "  AIPHAS sets up two-step sign-in at first sign-in (any authenticator app);"
	@echo "  without one: .venv/bin/flask demo-code aiphas@example.com (local demo only)"
	@echo
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev chromium  ## Whole suite on real PostgreSQL and Redis, browser tests included
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

bench-audit: $(VENV)/.installed-dev  ## Audit hash chain: hashing overhead at write, seal and verify rows/s
	$(BIN)/python bench/audit_chain.py --rows $${BENCH_AUDIT_ROWS:-200000}

bench-dashboard: $(VENV)/.installed-dev  ## Dashboard benchmark vs a bare Flask app (BENCH_PATIENTS=200000; PostgreSQL, Redis, wrk)
	$(BIN)/python bench/dashboard.py --patients $${BENCH_PATIENTS:-200000}

docker:  ## Build the Cloud Run image (needs a Docker engine)
	docker build -t aikey:latest .

clean:  ## Remove the venv, the local database and local storage
	rm -rf $(VENV) instance var
