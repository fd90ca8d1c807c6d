# voterreg: two commands set up a fresh machine.
#   make run   virtualenv, install, migrate, reference + demo data, worker, server on :8000
#   make test  the test suite on SQLite, then again on PostgreSQL when one answers

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PG_URL ?= postgres://postgres@127.0.0.1:5432/voterreg
HOST ?= 127.0.0.1
PORT ?= 8000

# Developers: refresh locale/id from the code and the translation fragments.
translations: install
	$(PY) manage.py makemessages -l id --ignore=.venv --ignore=bench --no-obsolete -v 0
	msgcat --use-first locale/fragments/*.po locale/id/LC_MESSAGES/django.po -o /tmp/voterreg-known.po
	msgmerge --quiet --no-fuzzy-matching -o locale/id/LC_MESSAGES/django.po /tmp/voterreg-known.po locale/id/LC_MESSAGES/django.po
	@echo "untranslated: $$(msgattrib --untranslated --no-obsolete locale/id/LC_MESSAGES/django.po | grep -c '^msgid' || true)"
	@echo "fuzzy: $$(msgattrib --only-fuzzy --no-obsolete locale/id/LC_MESSAGES/django.po | grep -c '^msgid' || true)"

.PHONY: run install migrate messages translations demo worker serve test test-sqlite test-postgres lint bench bench-scale clean

$(VENV)/.installed: requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

messages: install
	$(PY) manage.py compilemessages --ignore=.venv -v 0

migrate: install
	$(PY) manage.py migrate --noinput -v 0

demo: migrate
	$(PY) manage.py load_regions
	$(PY) manage.py seed_demo

# The task worker runs beside the web server and stops with it.
run: install messages demo
	@echo "voterreg on http://$(HOST):$(PORT)/  (demo accounts: see README; Ctrl-C stops server and worker)"
	@trap 'kill 0' INT TERM EXIT; \
	  $(PY) manage.py db_worker & \
	  $(PY) manage.py runserver $(HOST):$(PORT)

worker: install
	$(PY) manage.py db_worker

test: install messages
	@bash .ci/test-suite.sh

test-sqlite: install messages
	$(VENV)/bin/pytest

test-postgres: install messages
	DATABASE_URL=$(PG_URL) $(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install messages
	$(PY) bench/run_all.py

bench-scale: install messages
	$(PY) bench/scale.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles test-output
