# make test             set up the virtualenv (first run) and run the test suite
# make plan STACK=dev   print what a stack would create, offline (no AWS account, no Pulumi CLI)
# make lint             ruff and mypy

PYTHON ?= python3
VENV   ?= venv
PY     := $(VENV)/bin/python
STACK  ?= dev

.PHONY: install test plan lint clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

test: install
	$(PY) -m pytest

plan: install
	$(PY) -m tools.plan $(STACK)

lint: install
	$(PY) -m ruff check .
	$(PY) -m mypy .

clean:
	rm -rf build .mypy_cache .ruff_cache .pytest_cache .hypothesis
