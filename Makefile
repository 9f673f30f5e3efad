# make test             set up the virtualenv (first run) and run the test suite
# make plan STACK=dev   print what a stack would create, offline (no AWS account, no Pulumi CLI),
#                       checked by the policy rules (POLICY_CONFIG=policy/production.json for prod)
# make diff STACK=prod BASE=main
#                       what the working tree changes in a stack against a git ref (default HEAD),
#                       offline, as Markdown; exits 4 when a protected resource would be replaced
# make verify STACK=dev the offline plan judged by the real AWS provider (Terraform and
#                       hashicorp/aws, offline: no account); VERIFY=--second-up adds the
#                       second-up matrix against make diff, VERIFY=--variants each feature
# make docs             regenerate the README's configuration table and the stack-file schema
# make lock             re-lock the hash-locked requirement files (*.lock) after a change to a
#                       requirements*.txt; UPGRADE=1 also moves every pin to the newest release
# make runtime          the program's and the policy pack's virtualenvs from the locked files
#                       alone (pip --require-hashes): what the preview and deploy workflows run
# make lint             exactly the static checks CI runs: ruff, ruff format --check, mypy
# make bench            time the test suite, the offline plan and make verify against their targets

PYTHON ?= python3
VENV   ?= venv
PY     := $(VENV)/bin/python
STACK  ?= dev
BASE   ?= HEAD
POLICY_CONFIG ?=
VERIFY ?=
UPGRADE ?=
# One resolution for every platform and Python from 3.11 (CI's), each file with its hashes: the
# program's and the policy pack's locks take the dev lock's versions, so the tests run what deploys.
LOCK := $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	$(if $(UPGRADE),--upgrade)

.PHONY: install runtime lock test plan diff verify docs lint bench clean

# Everything is installed from the locks, hash-checked; `make lock` (checked by the tests and
# .ci/run: python -m tools.lock) keeps them in step with requirements*.txt.
$(VENV)/.installed: requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed

runtime:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PYTHON) -m venv policy/venv
	policy/venv/bin/python -m pip install --quiet --require-hashes -r policy/requirements.lock

lock: install
	$(LOCK) -o requirements-dev.lock requirements-dev.txt
	$(LOCK) -c requirements-dev.lock -o requirements.lock requirements.txt
	$(LOCK) -c requirements-dev.lock -o policy/requirements.lock policy/requirements.txt
	$(PY) -m tools.lock

test: install
	$(PY) -m pytest

# make reports every failing recipe as status 2; the line it prints says what the plan reported.
# Where the status matters (CI), run the script itself: venv/bin/python -m tools.plan STACK.
plan: install
	@$(PY) -m tools.plan $(STACK) $(if $(POLICY_CONFIG),--policy-config $(POLICY_CONFIG)); \
	status=$$?; \
	case $$status in \
	  0) ;; \
	  2) echo "make plan: the stack's config was refused (tools.plan exited 2)" >&2 ;; \
	  3) echo "make plan: a policy rule failed (tools.plan exited 3)" >&2 ;; \
	  *) echo "make plan: the plan crashed (tools.plan exited $$status)" >&2 ;; \
	esac; \
	exit $$status

# As with plan: make reports a failing recipe as status 2; CI runs the script for its own status.
diff: install
	@$(PY) -m tools.diff --base $(BASE) $(STACK); \
	status=$$?; \
	case $$status in \
	  0) ;; \
	  2) echo "make diff: a stack's config was refused (tools.diff exited 2)" >&2 ;; \
	  4) echo "make diff: a protected resource would be replaced or deleted (tools.diff exited 4)" >&2 ;; \
	  *) echo "make diff: the diff crashed (tools.diff exited $$status)" >&2 ;; \
	esac; \
	exit $$status

# As with plan: make reports a failing recipe as status 2; CI runs the script for its own status.
verify: install
	@$(PY) -m tools.verify $(STACK) $(VERIFY); \
	status=$$?; \
	case $$status in \
	  0) ;; \
	  2) echo "make verify: a stack's config was refused, or Terraform or the provider is missing (tools.verify exited 2)" >&2 ;; \
	  3) echo "make verify: the provider refused a plan, or disagreed with make diff (tools.verify exited 3)" >&2 ;; \
	  *) echo "make verify: the check crashed (tools.verify exited $$status)" >&2 ;; \
	esac; \
	exit $$status

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
