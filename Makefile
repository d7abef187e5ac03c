# xprotect.go developer entry points (GNU make). On a fresh machine with only Python 3.11:
#   make demo   a simulated fleet of six XProtect Go servers and the status playbook against it
#   make test   every check CI runs (.ci/run runs exactly this)
# Each target creates .venv from requirements-dev.txt first (again only when that file changes).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.requirements-dev.stamp
COMPAT_VENV := .venv-2.16
COMPAT_STAMP := $(COMPAT_VENV)/.requirements.stamp
TOOLS_VENV := .venv-tools
TOOLS_STAMP := $(TOOLS_VENV)/.requirements.stamp
EDA_VENV := .venv-eda
EDA_STAMP := $(EDA_VENV)/.requirements.stamp
STEP := scripts/step
# pytest-xdist workers for the full test run. Most functional tests wait on simulated services and
# ansible-playbook start-up more than they compute, so three workers on 2 cores halve the run's time.
PYTEST_WORKERS ?= 3
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist worksteal

# CI's matrix (.github/workflows/ci.yml) sets ANSIBLE_CORE_VERSION (2.16, 2.17, 2.18 or 2.19): the venv is
# then .venv-core-<version>, requirements-dev.txt with scripts/ansible-core/<version>.txt installed over it.
# Unset (the default), nothing changes: .venv from requirements-dev.txt.
ANSIBLE_CORE_VERSION ?=
ifneq ($(ANSIBLE_CORE_VERSION),)
VENV := .venv-core-$(ANSIBLE_CORE_VERSION)
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.requirements-dev.stamp
CORE_REQUIREMENTS := scripts/ansible-core/$(ANSIBLE_CORE_VERSION).txt
endif
# ansible-test units runs the unit tests with this venv's Python (scripts/ansible-test-units).
UNITS_VENV := $(VENV)-units
UNITS_STAMP := $(UNITS_VENV)/.requirements.stamp

# The scripts take their tools from here.
export XPGO_VENV_BIN := $(BIN)
export XPGO_TOOLS_BIN := $(CURDIR)/$(TOOLS_VENV)/bin
export XPGO_EDA_BIN := $(CURDIR)/$(EDA_VENV)/bin
export XPGO_UNITS_PYTHON := $(CURDIR)/$(UNITS_VENV)/bin/python

.PHONY: help test quick demo unit pytest lint-python format sanity changelog lint build compat venv clean changelog-rst importer docs ee
.PHONY: ansible-test-units integration molecule

help:
	@echo "make demo       simulated fleet + playbooks/status.yml"
	@echo "make test       everything CI checks: ruff, mypy, pytest, sanity, changelog, lint, build round trip, compat,"
	@echo "                CHANGELOG.rst, galaxy-importer, docs site, execution environment"
	@echo "make quick      the unit tests and the fast functional tests (the simulator's), under 2 minutes"
	@echo "make unit       pytest tests/unit only"
	@echo "make lint-python  ruff check, ruff format --check and mypy (scripts/lint-python, scripts/typecheck)"
	@echo "make format     ruff format and ruff check --fix on the whole checkout"
	@echo "make sanity     ansible-test sanity on a staged copy (.tmp/sanity)"
	@echo "make changelog  antsibull-changelog lint"
	@echo "make lint       ansible-lint roles/ and playbooks/ (production profile)"
	@echo "make build      build the tarball and the simulator wheel, install both, check what they hold"
	@echo "make compat     compat-marked tests with ansible-playbook from ansible-core 2.16 (.venv-2.16)"
	@echo "make changelog-rst  check CHANGELOG.rst against the fragments (scripts/changelog-rst --write updates it)"
	@echo "make importer   galaxy-importer on the built tarball, as Galaxy and Automation Hub import it (.venv-tools)"
	@echo "make docs       antsibull-docs lint, the Sphinx docs site (.tmp/docsite) and its rendering test"
	@echo "make ee         ansible-builder create with docs/awx-aap.md's execution environment, checked offline"
	@echo "make ansible-test-units  ansible-test units on a staged copy (.tmp/units), tests in .venv-units"
	@echo "make integration         ansible-test windows-integration (tests/integration/targets) on a simulated fleet"
	@echo "make molecule            molecule test for each role on a simulated fleet"
	@echo "make clean      remove .tmp, tests/output and caches (the venvs stay)"

venv: $(STAMP)

# requirements-dev.txt installs ./simulator (editable): a change to its pyproject.toml reinstalls it.
$(STAMP): requirements-dev.txt simulator/pyproject.toml $(CORE_REQUIREMENTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(if $(CORE_REQUIREMENTS),$(BIN)/python -m pip install --quiet --disable-pip-version-check -r $(CORE_REQUIREMENTS))
	@touch $@

$(COMPAT_STAMP): scripts/requirements-ansible-2.16.txt
	@test -x $(COMPAT_VENV)/bin/python || $(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-ansible-2.16.txt
	@touch $@

# galaxy-importer, antsibull-docs (Sphinx) and ansible-builder, apart: their pins clash with .venv's.
$(TOOLS_STAMP): scripts/requirements-tools.txt
	@test -x $(TOOLS_VENV)/bin/python || $(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-tools.txt
	@touch $@

# ansible-rulebook apart, for the self-healing end-to-end test and bench (tests/functional/eda): its pins are its own.
$(EDA_STAMP): scripts/requirements-eda.txt
	@test -x $(EDA_VENV)/bin/python || $(PYTHON) -m venv $(EDA_VENV)
	$(EDA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-eda.txt
	@touch $@

# The unit tests' own requirements, at the lock's versions (and the matrix cell's ansible-core), for
# ansible-test units; setuptools builds the simulator's editable install there (scripts/ansible-test-units).
$(UNITS_STAMP): tests/unit/requirements.txt requirements-dev.txt $(CORE_REQUIREMENTS)
	@test -x $(UNITS_VENV)/bin/python || $(PYTHON) -m venv $(UNITS_VENV)
	grep -E '^[A-Za-z0-9]' requirements-dev.txt > $(UNITS_VENV)/lock-constraints.txt
	$(UNITS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tests/unit/requirements.txt \
		-c $(UNITS_VENV)/lock-constraints.txt 'setuptools>=70.1'
	$(if $(CORE_REQUIREMENTS),grep -E '^(ansible-core|resolvelib)\b' $(CORE_REQUIREMENTS) | xargs $(UNITS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check)
	@touch $@

VENV_STAMPS := $(STAMP) $(COMPAT_STAMP) $(EDA_STAMP) $(TOOLS_STAMP) $(UNITS_STAMP)
.PHONY: venvs test-tools
venvs: $(VENV_STAMPS)

# Every check CI runs; it stops at the first failure. On a fresh machine the five venvs install side by side
# (downloads and unpacking: one after another they took about 3 minutes). The unit tests run once, in step 2
# (ansible-test units runs the same tests/unit that `make unit` does); pytest then runs the functional tests,
# and the compat run, each on $(PYTEST_WORKERS) workers. The other steps are one process each: they run two at a
# time (see test-tools).
test:
	@$(MAKE) --no-print-directory -j5 venvs
	@$(STEP) "1/14 ruff check, ruff format --check, mypy" scripts/lint-python
	@$(STEP) "2/14 ansible-test units (the unit tests, as Ansible runs them)" scripts/ansible-test-units
	@$(STEP) "3/14 pytest tests/functional ($(PYTEST_WORKERS) workers)" $(BIN)/pytest $(PYTEST_PARALLEL) tests/functional
	@$(STEP) "4/14 compat: ansible-core 2.16" scripts/compat $(PYTEST_PARALLEL)
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-tools
	@echo
	@echo "make test: all steps passed"

# Steps 5 to 14 use a core each and share nothing (each has its own directory under .tmp and its own simulated
# fleet): two at a time, longest first, each one's output printed whole when it ends. make starts no new step
# after one fails.
TOOL_STEPS := step-integration step-sanity step-molecule step-lint step-importer step-docs step-build step-ee \
	step-changelog-rst step-changelog
.PHONY: $(TOOL_STEPS)
test-tools: $(TOOL_STEPS)
$(TOOL_STEPS): venvs
step-integration:
	@$(STEP) "5/14 ansible-test windows-integration on a simulated fleet" scripts/integration
step-sanity:
	@$(STEP) "6/14 ansible-test sanity" scripts/sanity
step-molecule:
	@$(STEP) "7/14 molecule: the roles' scenarios on a simulated fleet" scripts/molecule
step-lint:
	@$(STEP) "8/14 ansible-lint" scripts/lint
step-importer:
	@$(STEP) "9/14 galaxy-importer" scripts/galaxy-importer
step-docs:
	@$(STEP) "10/14 docs site: antsibull-docs lint, Sphinx, Chromium" scripts/docs-site
step-build:
	@$(STEP) "11/14 build and install round trip" scripts/build-roundtrip
step-ee:
	@$(STEP) "12/14 execution environment: ansible-builder create" scripts/ee-check
step-changelog-rst:
	@$(STEP) "13/14 CHANGELOG.rst matches the fragments" scripts/changelog-rst
step-changelog:
	@$(STEP) "14/14 antsibull-changelog lint" $(BIN)/antsibull-changelog lint

demo: $(STAMP)
	@scripts/demo

# The unit tests, then the simulator's functional tests (in-process, no ansible-playbook: about 30 s of CPU in all,
# under 2 minutes on 2 cores). Two runs: tests/unit/simulator and tests/functional/simulator share test file names.
quick: $(STAMP)
	@$(STEP) "quick 1/2 pytest tests/unit" $(BIN)/pytest tests/unit -q
	@$(STEP) "quick 2/2 pytest tests/functional/simulator (not slow)" $(BIN)/pytest tests/functional/simulator -q -m "not slow and not chromium"

unit: $(STAMP)
	@$(STEP) "pytest tests/unit" $(BIN)/pytest tests/unit

pytest: $(STAMP)
	@$(STEP) "pytest (all tests, $(PYTEST_WORKERS) workers)" $(BIN)/pytest $(PYTEST_PARALLEL) tests/

lint-python: $(STAMP)
	@$(STEP) "ruff check, ruff format --check, mypy" scripts/lint-python

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

sanity: $(STAMP)
	@$(STEP) "ansible-test sanity" scripts/sanity

changelog: $(STAMP)
	@$(STEP) "antsibull-changelog lint" $(BIN)/antsibull-changelog lint

lint: $(STAMP)
	@$(STEP) "ansible-lint" scripts/lint

build: $(STAMP)
	@$(STEP) "build and install round trip" scripts/build-roundtrip

compat: $(STAMP) $(COMPAT_STAMP)
	@$(STEP) "compat: ansible-core 2.16" scripts/compat

changelog-rst: $(TOOLS_STAMP)
	@$(STEP) "CHANGELOG.rst matches the fragments" scripts/changelog-rst

importer: $(STAMP) $(TOOLS_STAMP)
	@$(STEP) "galaxy-importer" scripts/galaxy-importer

docs: $(STAMP) $(TOOLS_STAMP)
	@$(STEP) "docs site: antsibull-docs lint, Sphinx, Chromium" scripts/docs-site

ee: $(STAMP) $(TOOLS_STAMP)
	@$(STEP) "execution environment: ansible-builder create" scripts/ee-check

ansible-test-units: $(STAMP) $(UNITS_STAMP)
	@$(STEP) "ansible-test units" scripts/ansible-test-units

integration: $(STAMP)
	@$(STEP) "ansible-test windows-integration on a simulated fleet" scripts/integration

molecule: $(STAMP)
	@$(STEP) "molecule: the roles' scenarios on a simulated fleet" scripts/molecule

clean:
	rm -rf .tmp tests/output .pytest_cache .hypothesis .ansible
	find . -path './.venv*' -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
