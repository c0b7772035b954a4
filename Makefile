# Two commands for a fresh machine: `make run` (the app, embedded mode) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
# PostgreSQL for the service-backed half of the suite; pytest-django creates test_<name>.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/copilot
ADDR ?= 127.0.0.1:8000

.PHONY: run test lint format bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

run: $(VENV)/.installed
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 LOG_LEVEL=WARNING $(PY) manage.py seed_demo
	@echo ""
	@echo "Support copilot is starting on http://$(ADDR)/ (log in as northwind-agent / copilot-demo)"
	DEBUG=1 $(PY) manage.py runserver $(ADDR)

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	DEBUG=1 $(PY) -m mypy copilot orders rollout audit replay
	DEBUG=1 $(PY) manage.py check
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

format: $(VENV)/.installed
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

test: lint
	$(PY) -m pytest -m "not postgres and not services"
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest -m "postgres or services"

bench: $(VENV)/.installed
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) db.sqlite3 artifacts .pytest_cache .ruff_cache
