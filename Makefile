# Monorepo of standalone Kedro blueprints. Each blueprint has its own Makefile, lock file and
# .venv; this file only finds the blueprints and runs the same target in each of them.
#
#   make run       install and run every blueprint end to end on its local data
#   make test      the kit check, then install, lint and test every blueprint
#   make sync-kit  copy the shared files of kit/ into every blueprint (kit/sync.py)
#   make new-blueprint NAME=churn-mlops FROM=ga4-mlops
#                  a new blueprint folder from an existing one, under new names
#   make help      targets and the blueprints found
#
# A blueprint is any top-level folder whose pyproject.toml has a [tool.kedro] table: adding one
# needs no edit here. Restrict with BLUEPRINTS, e.g. make test BLUEPRINTS="ga4-mlops".

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
export KEDRO_DISABLE_TELEMETRY := 1

FOUND_BLUEPRINTS := $(sort $(patsubst %/pyproject.toml,%,$(shell grep -l '^\[tool\.kedro\]' */pyproject.toml 2>/dev/null)))
BLUEPRINTS ?= $(FOUND_BLUEPRINTS)
SELECTED := $(patsubst %/,%,$(BLUEPRINTS))

# Runs $(1) in every selected blueprint, all of them even when one fails, then a summary;
# exits non-zero when any failed.
define FOR_EACH_BLUEPRINT
passed=(); failed=(); \
for bp in $(SELECTED); do \
  echo; echo "=============== $$bp: make $(1) ==============="; \
  if $(MAKE) --no-print-directory -C "$$bp" $(1); then passed+=("$$bp"); else failed+=("$$bp"); fi; \
done; \
echo; echo "=============== summary: make $(1) ==============="; \
for bp in "$${passed[@]}"; do echo "  passed: $$bp"; done; \
for bp in "$${failed[@]}"; do echo "  FAILED: $$bp   (details above; rerun alone: make -C $$bp $(1))"; done; \
[ "$${#failed[@]}" -eq 0 ] || { echo "make $(1): $${#failed[@]} of $(words $(SELECTED)) blueprint(s) failed: $${failed[*]}" >&2; exit 1; }
endef

# The blueprint kit/test_new_blueprint.py copies for its runtime check (its FROM).
NEW_BLUEPRINT_TEST_FROM := ga4-mlops
NEW_BLUEPRINT_SUITE_FROM := recommender_ranking

.PHONY: help run test install lint hooks clean check kit-check sync-kit new-blueprint new-blueprint-test \
  new-blueprint-suite-test

help: ## Show this help
	@echo "make <target> [BLUEPRINTS=\"name ...\"] [PYTHON=/path/to/python3.11]"
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(firstword $(MAKEFILE_LIST)) \
	  | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-18s %s\n", $$1, $$2}'
	@echo "Blueprints found: $(or $(FOUND_BLUEPRINTS),none)"

# Stops before any work when a blueprint is unknown or Python 3.11 is missing.
check:
	@[ -n "$(strip $(FOUND_BLUEPRINTS))" ] || { echo "error: no blueprint found (no top-level folder with [tool.kedro] in its pyproject.toml)" >&2; exit 1; }
	@[ -n "$(strip $(SELECTED))" ] || { echo "error: BLUEPRINTS is empty. Blueprints found: $(FOUND_BLUEPRINTS)" >&2; exit 1; }
	@for bp in $(SELECTED); do \
	  grep -qs '^\[tool\.kedro\]' "$$bp/pyproject.toml" || { \
	    echo "error: '$$bp' is not a blueprint (no [tool.kedro] in $$bp/pyproject.toml)." >&2; \
	    echo "  Blueprints found: $(FOUND_BLUEPRINTS)" >&2; exit 1; }; \
	done
	@if ! command -v "$(PYTHON)" >/dev/null 2>&1; then \
	  echo "error: '$(PYTHON)' was not found on PATH. The blueprints need Python 3.11." >&2; \
	  echo "  Install it (python.org, 'apt install python3.11 python3.11-venv', 'pyenv install 3.11'" >&2; \
	  echo "  or 'uv python install 3.11'), or point to it: make $(or $(MAKECMDGOALS),test) PYTHON=/path/to/python3.11" >&2; \
	  exit 1; \
	elif ! "$(PYTHON)" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1; then \
	  echo "error: '$(PYTHON)' is not Python 3.11 (it says: $$("$(PYTHON)" --version 2>&1 | head -n1))." >&2; \
	  echo "  Point to a Python 3.11 interpreter: make $(or $(MAKECMDGOALS),test) PYTHON=/path/to/python3.11" >&2; \
	  exit 1; \
	fi

run: check ## Install and run every blueprint end to end (kedro run --env=local), then where the results are
	@$(call FOR_EACH_BLUEPRINT,run)

test: check kit-check ## The kit check, then install, lint and test every blueprint (what CI runs)
	@$(call FOR_EACH_BLUEPRINT,test)
	@$(if $(filter $(NEW_BLUEPRINT_TEST_FROM),$(SELECTED)),$(MAKE) --no-print-directory new-blueprint-test)
	@$(if $(filter $(NEW_BLUEPRINT_SUITE_FROM),$(SELECTED)),$(MAKE) --no-print-directory new-blueprint-suite-test)

kit-check: ## Fail naming every blueprint copy that differs from its source in kit/, and internal labels or outside paths in the text
	@cd kit && PYTHONDONTWRITEBYTECODE=1 "$(PYTHON)" -m unittest -q test_sync test_text_check test_new_blueprint.TextTest
	@PYTHONDONTWRITEBYTECODE=1 "$(PYTHON)" kit/sync.py check
	@PYTHONDONTWRITEBYTECODE=1 "$(PYTHON)" kit/text_check.py

sync-kit: ## Write kit/files into every blueprint (edit shared files in kit/, then run this)
	@"$(PYTHON)" kit/sync.py sync

new-blueprint: check ## A new blueprint folder from an existing one: make new-blueprint NAME=<new folder> FROM=<blueprint>
	@[ "$(origin NAME)" = "command line" ] && [ "$(origin FROM)" = "command line" ] || { \
	  echo "usage: make new-blueprint NAME=<new folder> FROM=<blueprint>   (blueprints: $(FOUND_BLUEPRINTS))" >&2; exit 2; }
	@PYTHONDONTWRITEBYTECODE=1 "$(PYTHON)" kit/new_blueprint.py "$(NAME)" "$(FROM)"

# A copy of $(NEW_BLUEPRINT_TEST_FROM) imports, resolves and runs its own registry and end-to-end
# tests with that blueprint's .venv (no new install), and docs/new-blueprint.md's "Copy for a
# table of your own" runs on another copy (kit/test_copy_guide.py); make test runs it after the
# blueprints' tests. The text checks are in kit-check.
new-blueprint-test: check ## Prove a blueprint made by make new-blueprint imports, resolves and runs end to end (kit/test_new_blueprint.py)
	@$(MAKE) --no-print-directory -C "$(NEW_BLUEPRINT_TEST_FROM)" install
	@cd kit && PYTHONDONTWRITEBYTECODE=1 NEW_BLUEPRINT_RUNTIME=required OMP_WAIT_POLICY=passive \
	  "$(PYTHON)" -m unittest -q test_new_blueprint.RuntimeTest test_copy_guide

# A renamed copy of $(NEW_BLUEPRINT_SUITE_FROM) (the quickest suite, about 6 minutes) passes its
# whole test suite with that blueprint's .venv (kit/test_copy_suite.py).
new-blueprint-suite-test: check ## Prove a blueprint made by make new-blueprint passes its own whole test suite
	@$(MAKE) --no-print-directory -C "$(NEW_BLUEPRINT_SUITE_FROM)" install
	@cd kit && PYTHONDONTWRITEBYTECODE=1 NEW_BLUEPRINT_RUNTIME=required OMP_WAIT_POLICY=passive \
	  "$(PYTHON)" -m unittest -q test_copy_suite

install: check ## Create or update every blueprint's .venv from its requirements.lock
	@$(call FOR_EACH_BLUEPRINT,install)

lint: check ## ruff and hadolint in every blueprint
	@$(call FOR_EACH_BLUEPRINT,lint)

hooks: check ## Install the git pre-commit hook (top-level .pre-commit-config.yaml)
	@$(MAKE) --no-print-directory -C "$(firstword $(SELECTED))" hooks

clean: check ## Remove caches and build outputs in every blueprint
	@$(call FOR_EACH_BLUEPRINT,clean)
