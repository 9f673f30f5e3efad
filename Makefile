# make test             set up the virtualenv (first run) and run the test suite
# make plan STACK=dev   print what a stack would create, offline (no AWS account, no Pulumi CLI),
#                       checked by the policy rules (POLICY_CONFIG=policy/production.json for prod)
# make docs             regenerate the README's configuration table and the stack-file schema
# make lint             exactly the static checks CI runs: ruff, ruff format --check, mypy
# make bench            time the test suite and the offline plan against their targets

PYTHON ?= python3
VENV   ?= venv
PY     := $(VENV)/bin/python
STACK  ?= dev
POLICY_CONFIG ?=

.PHONY: install test plan docs lint bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt policy/requirements.txt app/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

test: install
	$(PY) -m pytest

plan: install
	$(PY) -m tools.plan $(STACK) $(if $(POLICY_CONFIG),--policy-config $(POLICY_CONFIG))

docs: install
	$(PY) -m tools.docs

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .

bench: install
	$(PY) -m tools.benchmark

clean:
	rm -rf build .mypy_cache .ruff_cache .pytest_cache .hypothesis
