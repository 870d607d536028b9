# The two commands a newcomer needs: `make demo` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed-stamp
# The local ERP: Tryton in a venv of its own (see erp_bridge/tryton/README.md). `make demo ERP=tryton`
# runs the portal against it instead of writing events to a file.
ERP ?=
ERP_PORT ?= 8010
TRYTON_VENV := .venv-tryton
TRYTON_STAMP := $(TRYTON_VENV)/.installed-stamp
TRYTON := $(TRYTON_VENV)/bin/python erp_bridge/tryton/demo_erp.py

.PHONY: install demo run test bench clean erp erp-template messages

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

$(TRYTON_STAMP): erp_bridge/tryton/requirements.txt
	@test -x $(TRYTON_VENV)/bin/python || $(PYTHON) -m venv $(TRYTON_VENV)
	$(TRYTON_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TRYTON_VENV)/bin/python -m pip install --quiet -r erp_bridge/tryton/requirements.txt
	@touch $(TRYTON_STAMP)

# The demo database is built once (about a minute) and copied for every server.
erp-template: $(TRYTON_STAMP)
	$(TRYTON) build-template --dir var/tryton

## erp: start a local Tryton (company, suppliers, products, confirmed purchases) on port $(ERP_PORT)
erp: erp-template
	@echo
	@echo "  Tryton REST API:  http://127.0.0.1:$(ERP_PORT)/demo/rest/  (bearer key in var/tryton/api-key.txt)"
	@echo "  Run the portal against it: make demo ERP=tryton (starts its own Tryton), or set TRYTON_URL,"
	@echo "  TRYTON_DATABASE=demo and TRYTON_API_KEY for the web and worker processes."
	@echo
	$(TRYTON) serve --dir var/tryton --db demo --port $(ERP_PORT)

## demo: install, migrate, load demo data, then run the portal and a Celery worker (with beat) on SQLite and a file-system broker under var/
demo: install $(if $(filter tryton,$(ERP)),erp-template)
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo_data $(if $(filter tryton,$(ERP)),--without-orders)
	@$(MAKE) --no-print-directory run

run:
	@echo
	@echo "  Supplier portal:   http://$(HOST):$(PORT)/"
	@echo "  Buyers' admin:     http://$(HOST):$(PORT)/admin/"
	@if [ "$(ERP)" = tryton ]; then \
	  echo "  ERP: Tryton at http://127.0.0.1:$(ERP_PORT)/ (database demo); purchases are pulled every 15 s."; \
	else \
	  echo "  Events for the ERP are written to var/erp/erp-events.jsonl (set ERP_WEBHOOK_URL to POST them instead)."; \
	fi
	@echo "  Commitments for the planning system go to var/erp/planning-commitments.csv."
	@echo "  Stop with Ctrl-C."
	@echo
	@trap 'kill 0' INT TERM EXIT; \
	  export LOG_FORMAT=$${LOG_FORMAT:-text}; \
	  if [ "$(ERP)" = tryton ]; then \
	    $(TRYTON) serve --dir var/tryton --db demo --port $(ERP_PORT) > var/tryton/server.log 2>&1 & \
	    export TRYTON_URL=http://127.0.0.1:$(ERP_PORT) TRYTON_DATABASE=demo TRYTON_POLL_SECONDS=15 \
	      TRYTON_API_KEY=$$(cat var/tryton/api-key.txt); \
	  fi; \
	  $(BIN)/celery -A portal worker -B -s var/celerybeat-schedule --loglevel=INFO --concurrency=2 & \
	  DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

## test: install and run the whole suite (PostgreSQL/Redis/Chromium tests skip unless configured; REQUIRE_SERVICES=1 makes them mandatory)
test: install
	$(BIN)/python -m pytest

## messages: extract the texts to translate into locale/de/LC_MESSAGES/django.po, then compile it (GNU gettext)
messages: install
	$(BIN)/python manage.py makemessages -l de --no-obsolete -i var -i bench -i tests
	msgfmt --check -o locale/de/LC_MESSAGES/django.mo locale/de/LC_MESSAGES/django.po

## bench: the benchmarks of bench/ (PostgreSQL; see bench/README.md)
bench: install
	$(BIN)/python bench/import_purchase_orders.py
	$(BIN)/python bench/purchase_order_list.py
	$(BIN)/python bench/purchase_order_detail.py
	$(BIN)/python bench/api_acknowledgements.py
	$(BIN)/python bench/relay_throughput.py
	$(BIN)/python bench/fault_runs.py
	$(BIN)/python bench/shipments.py
	$(BIN)/python bench/labels.py
	$(BIN)/python bench/edi_codec.py
	$(BIN)/python bench/edi_inbound.py --database postgres
	$(BIN)/python bench/control_tower.py
	$(BIN)/python bench/forecasts_invoices.py
	$(BIN)/python -m pip install --quiet -e '.[test,fuzz]' || echo "atheris does not install here: the codec is fuzzed by Hypothesis only"
	$(BIN)/python bench/fuzz.py

clean:
	rm -rf var .pytest_cache
