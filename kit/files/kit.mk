# The make targets every blueprint shares: install, run, results, test, lint, format, lock,
# viz, zetasql-check, vertex-sim, mlflow-ui, hooks, clean*. A copy of kit/files/kit.mk (edit it
# there, then make sync-kit in the monorepo); the blueprint's Makefile includes it and keeps what
# is its own. The Makefile sets, before `include kit.mk`:
#   LOCK_INPUTS        files besides pyproject.toml that `make lock` compiles from (install
#                      reruns when one changes)
#   LOCK_COMPILE_ARGS  their flags for `uv pip compile`, e.g. --override overrides.txt
# and may set:
#   PIP_INSTALL_ARGS   extra arguments for `pip install -r requirements.lock` (an index URL)
#   INSTALL_CHECK      a shell command run after the install, before it is marked done

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# This file, for `make help` (the blueprint's Makefile is the first of MAKEFILE_LIST).
KIT_MK := $(lastword $(MAKEFILE_LIST))

PROJECT := $(notdir $(CURDIR))
# OpenMP threads wait passively (src/<package>/openmp.py says why), unless the caller says otherwise.
export OMP_WAIT_POLICY ?= passive
# Interpreter used to create .venv; override with: make install PYTHON=/path/to/python3.11
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# The stamp is newer than the lock and pyproject.toml only after a complete install.
STAMP := $(VENV)/.installed-from-lock
# pip itself is not in the lock: pin it so every environment installs the lock the same way.
PIP_VERSION := 25.3
# uv is only needed to regenerate the lock (make lock), so it is not in the lock either.
UV_VERSION := 0.13.9
# Extra arguments for `uv pip compile`, e.g. make lock LOCK_ARGS=--upgrade
LOCK_ARGS ?=
HADOLINT_ARGS := --failure-threshold warning

export KEDRO_DISABLE_TELEMETRY := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

FAIL := echo >&2 "[$(PROJECT)] FAILED:"

# Stops with a short message when the interpreter is missing or is not Python 3.11.
define CHECK_PYTHON
if ! command -v "$(PYTHON)" >/dev/null 2>&1; then \
  echo >&2 "[$(PROJECT)] error: '$(PYTHON)' was not found on PATH. This blueprint needs Python 3.11."; \
  echo >&2 "  Install it (python.org, 'apt install python3.11 python3.11-venv', 'pyenv install 3.11'"; \
  echo >&2 "  or 'uv python install 3.11'), or point to it: make $(or $(MAKECMDGOALS),install) PYTHON=/path/to/python3.11"; \
  exit 1; \
fi; \
if ! "$(PYTHON)" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1; then \
  echo >&2 "[$(PROJECT)] error: '$(PYTHON)' is not Python 3.11 (it says: $$("$(PYTHON)" --version 2>&1 | head -n1))."; \
  echo >&2 "  Point to a Python 3.11 interpreter: make $(or $(MAKECMDGOALS),install) PYTHON=/path/to/python3.11"; \
  exit 1; \
fi
endef

# Prints the installed distributions that requirements.lock does not list (besides pip and
# this project), so that `make install` leaves exactly the locked set in .venv.
define NOT_IN_LOCK_PY
import importlib.metadata as md, re, tomllib
norm = lambda name: re.sub(r"[-_.]+", "-", name).lower()
locked = {norm(line.split("==")[0].split("[")[0].strip())
          for line in open("requirements.lock") if "==" in line.split("#")[0]}
project = norm(tomllib.load(open("pyproject.toml", "rb"))["project"]["name"])
installed = {dist.metadata["Name"] for dist in md.distributions()}
print(" ".join(sorted(n for n in installed if norm(n) not in locked | {"pip", project})))
endef
export NOT_IN_LOCK_PY

# The lock's first line records a sha256 of what it was compiled from: pyproject.toml's
# dependency tables and the LOCK_INPUTS files, given as arguments. `write` stamps it
# (make lock); `check` stops `make install` when they changed since the lock was made (a
# dependency added without `make lock`), before anything is installed.
define LOCK_HASH_PY
import hashlib, json, sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
inputs = json.dumps([project.get("dependencies", []), project.get("optional-dependencies", {}),
                     *(open(name).read() for name in sys.argv[2:])], sort_keys=True)
line = "# lock-inputs-sha256: " + hashlib.sha256(inputs.encode()).hexdigest() + "\n"
lock = open("requirements.lock").read().splitlines(keepends=True)
recorded = lock[0] if lock and lock[0].startswith("# lock-inputs-sha256:") else None
if sys.argv[1] == "write":
    open("requirements.lock", "w").write(line + "".join(lock[1:] if recorded else lock))
elif recorded != line:
    sys.exit("[$(PROJECT)] error: requirements.lock does not match pyproject.toml (its dependencies,\n"
             "  or " + ", ".join(sys.argv[2:]) + ", changed since the lock was made). Run: make lock")
endef
export LOCK_HASH_PY

# The one line `pip check` may print: kedro-vertexai 1.0.0 declares mlflow<3, overridden on
# purpose (overrides.txt, ../docs/dependencies.md); any other line fails `make install`.
KNOWN_PIP_CHECK := ^kedro-vertexai 1\.0\.0 has requirement mlflow<3

.PHONY: help install check-lock pip-check run results test lint format lock viz mlflow-ui vertex-sim hooks clean \
  clean-data clean-venv zetasql-check

help: ## Show this help
	@echo "$(PROJECT): make <target>   (Python: $(PYTHON); override with PYTHON=...)"
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(KIT_MK) $(firstword $(MAKEFILE_LIST)) \
	  | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-11s %s\n", $$1, $$2}'

install: $(STAMP) ## Create .venv from requirements.lock (only when the lock, pyproject.toml or overrides changed)

$(STAMP): requirements.lock pyproject.toml $(LOCK_INPUTS)
	@$(CHECK_PYTHON)
	@$(PYTHON) -c "$$LOCK_HASH_PY" check $(LOCK_INPUTS) || exit 1
	@if ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1; then \
	  echo "[$(PROJECT)] creating $(VENV) with $(PYTHON) ($$("$(PYTHON)" --version 2>&1))"; \
	  rm -rf $(VENV); \
	  "$(PYTHON)" -m venv $(VENV) || { $(FAIL) "could not create $(VENV) with $(PYTHON)" \
	    "(on Debian/Ubuntu the venv module is a separate package: apt install python3.11-venv)"; exit 1; }; \
	fi
	@echo "[$(PROJECT)] installing requirements.lock into $(VENV) (minutes when fresh, seconds otherwise)"
	@$(BIN)/python -m pip install -q "pip==$(PIP_VERSION)" \
	  || { $(FAIL) "pip install pip==$(PIP_VERSION) (is PyPI reachable?)"; exit 1; }
# --no-deps: the lock is complete (every transitive pin), and overrides.txt makes it stricter
# than one package's metadata (kedro-vertexai's mlflow<3), which a resolving install refuses.
	@$(BIN)/python -m pip install -q --no-deps -r requirements.lock \
	  $(PIP_INSTALL_ARGS) \
	  || { $(FAIL) "pip install --no-deps -r requirements.lock (see pip's message above; is PyPI reachable?)." \
	       "Nothing was marked installed: the next make retries."; exit 1; }
	@$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e . \
	  || { $(FAIL) "pip install --no-deps -e . (see pip's message above: pyproject.toml or src/ is broken)"; exit 1; }
	@extra="$$($(BIN)/python -c "$$NOT_IN_LOCK_PY")"; \
	if [ -n "$$extra" ]; then \
	  echo "[$(PROJECT)] removing packages that requirements.lock does not list: $$extra"; \
	  $(BIN)/python -m pip uninstall -q -y $$extra; \
	fi
	@$(MAKE) --no-print-directory pip-check
	$(if $(INSTALL_CHECK),@$(INSTALL_CHECK))
	@touch $(STAMP)
	@echo "[$(PROJECT)] environment ready: $(CURDIR)/$(VENV)"

check-lock: ## Fail unless requirements.lock was made from the current pyproject.toml and overrides
	@$(PYTHON) -c "$$LOCK_HASH_PY" check $(LOCK_INPUTS)

pip-check: ## pip check of .venv: fails on anything but the one known, overridden requirement
	@problems="$$($(BIN)/python -m pip check 2>&1 | grep -vE '$(KNOWN_PIP_CHECK)' || true)"; \
	if [ -n "$$problems" ] && [ "$$problems" != "No broken requirements found." ]; then \
	  echo "$$problems" >&2; $(FAIL) "pip check found requirements the lock does not meet (above)"; exit 1; \
	fi

run: install ## Run every pipeline end to end on the built-in local data (kedro run --env=local)
	@echo "[$(PROJECT)] kedro run --env=local"
	@$(BIN)/kedro run --env=local || { $(FAIL) "kedro run --env=local (see the error above)"; exit 1; }
	@$(MAKE) --no-print-directory results

results: ## Print where the results of the last run are
	@echo
	@echo "[$(PROJECT)] results"
	@echo "  MLflow UI:  cd $(CURDIR) && $(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db"
	@echo "              (or: make -C $(CURDIR) mlflow-ui), then open http://127.0.0.1:5000"
	@echo "  Reports:    $(CURDIR)/data/08_reporting"
	@echo "  Scores:     $(CURDIR)/data/07_model_output"
	@echo "  Pipelines:  make -C $(CURDIR) viz   (kedro viz run, http://127.0.0.1:4141)"

test: install ## Lint, format check, tests, Kedro-Viz build and Dockerfile lint; stops at the first failure
	@echo "[$(PROJECT)] test 1/5: ruff check"
	@$(BIN)/ruff check . || { $(FAIL) "ruff check (fix with: make format)"; exit 1; }
	@echo "[$(PROJECT)] test 2/5: ruff format --check"
	@$(BIN)/ruff format --check . || { $(FAIL) "ruff format --check (fix with: make format)"; exit 1; }
	@echo "[$(PROJECT)] test 3/5: pytest"
	@$(BIN)/pytest || { $(FAIL) "pytest"; exit 1; }
	@echo "[$(PROJECT)] test 4/5: kedro viz build (static site in build/, git-ignored)"
# kedro viz build exits 0 even when it fails: also require its output and no error line.
	@rm -rf build; log="$$(mktemp)"; \
	if $(BIN)/kedro viz build >"$$log" 2>&1 && [ -f build/api/main ] \
	    && ! grep -q "Failed to build/deploy Kedro-Viz" "$$log"; then \
	  rm -f "$$log"; echo "kedro viz build: ok ($(CURDIR)/build/index.html)"; \
	else grep -vE '^\s*$$' "$$log" | tail -n 40; rm -f "$$log"; $(FAIL) "kedro viz build"; exit 1; fi
	@echo "[$(PROJECT)] test 5/5: hadolint $(HADOLINT_ARGS) Dockerfile"
	@$(BIN)/hadolint $(HADOLINT_ARGS) Dockerfile || { $(FAIL) "hadolint Dockerfile"; exit 1; }
	@echo "hadolint: ok"
	@$(MAKE) --no-print-directory zetasql-check
	@echo "[$(PROJECT)] all test steps passed"

lint: install ## ruff check, ruff format --check and hadolint (no tests)
	@$(BIN)/ruff check . || { $(FAIL) "ruff check (fix with: make format)"; exit 1; }
	@$(BIN)/ruff format --check . || { $(FAIL) "ruff format --check (fix with: make format)"; exit 1; }
	@$(BIN)/hadolint $(HADOLINT_ARGS) Dockerfile || { $(FAIL) "hadolint Dockerfile"; exit 1; }

format: install ## Fix what ruff can fix and format the code
	@$(BIN)/ruff check --fix .
	@$(BIN)/ruff format .

lock: ## Regenerate requirements.lock from pyproject.toml with uv (LOCK_ARGS=--upgrade to bump all)
	@$(CHECK_PYTHON)
	@tools="$$(mktemp -d)"; trap 'rm -rf "$$tools"' EXIT; \
	echo "[$(PROJECT)] installing uv==$(UV_VERSION) into a temporary environment"; \
	"$(PYTHON)" -m venv "$$tools" && "$$tools/bin/python" -m pip install -q "uv==$(UV_VERSION)" \
	  || { $(FAIL) "could not install uv==$(UV_VERSION) (is PyPI reachable?)"; exit 1; }; \
	"$$tools/bin/uv" pip compile pyproject.toml --extra dev --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 -o requirements.lock --no-header \
	  --annotation-style line --quiet $(LOCK_COMPILE_ARGS) $(LOCK_ARGS) \
	  || { $(FAIL) "uv pip compile (see the resolver's message above)"; exit 1; }
	@$(PYTHON) -c "$$LOCK_HASH_PY" write $(LOCK_INPUTS)
	@echo "[$(PROJECT)] requirements.lock written ($$(grep -c '==' requirements.lock) pinned packages);" \
	  "'make install' brings .venv in line with it"

viz: install ## Interactive pipeline view (kedro viz run, http://127.0.0.1:4141)
	$(BIN)/kedro viz run

# The compiled Vertex AI pipeline run here, each step its own process (tools/vertex_sim.py;
# README, "Vertex AI"); VERTEX_PIPELINE=<name> for another pipeline. Output in build/vertex-sim.
VERTEX_PIPELINE ?= __default__
vertex-sim: install ## Compile for Vertex AI, run every step as its own process (gs://, BigQuery, MLflow local)
	@$(BIN)/python tools/vertex_sim.py --pipeline $(VERTEX_PIPELINE) \
	  || { $(FAIL) "vertex-sim (the step, its log and the reason are above)"; exit 1; }

mlflow-ui: install ## MLflow UI on the local tracking store (http://127.0.0.1:5000)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db --host 127.0.0.1 --port 5000

hooks: install ## Install the git pre-commit hook (the repository root's .pre-commit-config.yaml)
	@top="$$(git rev-parse --show-toplevel 2>/dev/null)" \
	  || { echo "[$(PROJECT)] not inside a git repository: no pre-commit hook installed"; exit 0; }; \
	cd "$$top" && "$(CURDIR)/$(BIN)/pre-commit" install \
	  || { $(FAIL) "pre-commit install in $$top"; exit 1; }

clean: ## Remove caches and build outputs (keeps .venv and data)
	rm -rf build .pytest_cache .ruff_cache src/*.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

clean-data: ## Remove everything runs wrote: data files (keeps the folders), mlflow.db, mlruns
	find data -type f ! -name .gitkeep -delete
	rm -rf mlflow.db mlruns mlartifacts

clean-venv: ## Remove .venv (the next make rebuilds it from requirements.lock)
	rm -rf $(VENV) $(ZETASQL_VENV)

# Offline BigQuery check of src/{{package}}/sql (ZetaSQL analyser, see the docstring of
# zetasql/check_bigquery_sql.py): its own environment, since zetasql needs protobuf >= 6 and the main
# lock holds protobuf < 5 (kfp). Rebuilt only when zetasql/requirements.lock changes.
ZETASQL_VENV := .venv-zetasql
ZETASQL_STAMP := $(ZETASQL_VENV)/.installed-from-lock

$(ZETASQL_STAMP): zetasql/requirements.lock
	@$(CHECK_PYTHON)
	@echo "[$(PROJECT)] creating $(ZETASQL_VENV) from zetasql/requirements.lock"
	@rm -rf $(ZETASQL_VENV)
	@"$(PYTHON)" -m venv $(ZETASQL_VENV) || { $(FAIL) "could not create $(ZETASQL_VENV)"; exit 1; }
	@$(ZETASQL_VENV)/bin/python -m pip install -q "pip==$(PIP_VERSION)" \
	  && $(ZETASQL_VENV)/bin/python -m pip install -q --no-deps -r zetasql/requirements.lock \
	  || { $(FAIL) "pip install -r zetasql/requirements.lock (is PyPI reachable?)"; exit 1; }
	@touch $(ZETASQL_STAMP)

zetasql-check: $(ZETASQL_STAMP) ## BigQuery SQL analysed offline by ZetaSQL; must_fail/ queries must be rejected
	@echo "[$(PROJECT)] zetasql-check: src/{{package}}/sql as BigQuery SQL (ZetaSQL, offline)"
	@$(ZETASQL_VENV)/bin/python zetasql/check_bigquery_sql.py \
	  || { $(FAIL) "zetasql-check (a query is not valid BigQuery SQL, or a must_fail query passed)"; exit 1; }
