# The two commands a newcomer needs: `make demo` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo run test bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

## demo: install, migrate, load demo data, then run the portal and a Celery worker (with beat) on SQLite and a file-system broker under var/
demo: install
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo_data
	@$(MAKE) --no-print-directory run

run:
	@echo
	@echo "  Supplier portal:   http://$(HOST):$(PORT)/"
	@echo "  Buyers' admin:     http://$(HOST):$(PORT)/admin/"
	@echo "  Events for the ERP are written to var/erp/erp-events.jsonl (set ERP_WEBHOOK_URL to POST them instead)."
	@echo "  Stop with Ctrl-C."
	@echo
	@trap 'kill 0' INT TERM EXIT; \
	  $(BIN)/celery -A portal worker -B -s var/celerybeat-schedule --loglevel=INFO --concurrency=2 & \
	  DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

## test: install and run the whole suite (PostgreSQL/Redis/Chromium tests skip unless configured; REQUIRE_SERVICES=1 makes them mandatory)
test: install
	$(BIN)/python -m pytest

## bench: the benchmarks of bench/ (PostgreSQL; see bench/README.md)
bench: install
	$(BIN)/python bench/import_purchase_orders.py
	$(BIN)/python bench/purchase_order_list.py
	$(BIN)/python bench/purchase_order_detail.py
	$(BIN)/python bench/api_acknowledgements.py

clean:
	rm -rf var .pytest_cache
