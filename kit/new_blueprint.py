"""Create a new blueprint folder from an existing one, under new names (make new-blueprint).

    python3 kit/new_blueprint.py NAME FROM [--root DIR]

Copies the files git tracks in FROM (so no .venv, data outputs, MLflow store or caches; the
data/ folder skeleton is tracked and comes along) to NAME, and renames on the way, in file and
folder names and in the text of every file:

- FROM's folder name -> NAME, FROM's package -> NAME's package (NAME with '-' as '_'), its
  upper-case form (environment variables such as GA4_MLOPS_IMAGE) and its '-' form (cloud
  resource names), so the package folder, imports, pyproject.toml, conf, tests, Makefile and
  Dockerfile all name the new package, and the MLflow experiment is the new package;
- every MLflow registered model named in conf/*/globals.yml that does not contain the package
  name (e.g. ga4_propensity) -> the new package (base) or <package>_<environment>, so two
  blueprints never share an experiment or a registry entry.

With FROM's .venv installed, FROM's ruff then formats the copy and sorts its imports (the new
names change line lengths and import order) and what it cannot fix is printed. The copies of
kit files and blocks are written from kit/ for the new names; where kit/manifest.toml lists FROM as
a carrier of a kit file or block, NAME is added beside it, so `make kit-check` checks the new copies
too. Stdlib only; --root is the monorepo (default: the one holding this file).
"""

from __future__ import annotations

import argparse
import keyword
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import sync

ROOT = Path(__file__).resolve().parents[1]
NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
# Top-level modules a blueprint imports: a package of the same name would shadow them.
TAKEN = {"kedro", "kedro_datasets", "kedro_mlflow", "kedro_vertexai", "mlflow", "tests", "conf"}
NAME_RULE = (
    "lower-case letters and digits, words joined by single '-' or '_', starting with a letter "
    "(e.g. churn-mlops); the package is NAME with '-' as '_'"
)


class Refused(Exception):
    """An argument is wrong: the message names it and says what was expected."""


def package_of(folder: Path) -> str | None:
    """``[tool.kedro] package_name`` of a folder's pyproject.toml, None when it has none."""
    try:
        data = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, tomllib.TOMLDecodeError):
        return None
    return data.get("tool", {}).get("kedro", {}).get("package_name")


def blueprints(root: Path) -> dict[str, str]:
    """Folder name -> package of every top-level folder whose pyproject has [tool.kedro]."""
    found = {folder.name: package_of(folder) for folder in sorted(root.iterdir())}
    return {name: package for name, package in found.items() if package}


def validate(root: Path, name: str, source: str) -> tuple[str, str]:
    """(FROM's package, NAME's package); raises Refused naming the wrong argument."""
    found = blueprints(root)
    if source not in found:
        listed = ", ".join(found) or "none"
        raise Refused(
            f"FROM={source!r} is not a blueprint: expected a top-level folder whose "
            f"pyproject.toml has a [tool.kedro] table (blueprints found: {listed})"
        )
    if not NAME_PATTERN.fullmatch(name):
        raise Refused(f"NAME={name!r} is not a valid blueprint name: expected {NAME_RULE}")
    package = name.replace("-", "_")
    if keyword.iskeyword(package) or package in sys.stdlib_module_names or package in TAKEN:
        raise Refused(
            f"NAME={name!r} gives the package {package!r}, which is a Python keyword or a module "
            "the blueprints import: expected another name"
        )
    if package > "tests":
        raise Refused(
            f"NAME={name!r} gives the package {package!r}, which sorts after 'tests': the kit file "
            "tests/test_gcp_environment.py imports the package then tests, in one import block "
            "ruff keeps sorted: expected a name that sorts before 'tests' (e.g. starting a-s)"
        )
    if (root / name).exists() or (root / name).is_symlink():
        raise Refused(f"NAME={name!r}: {root / name} exists already: expected a new folder name")
    for other, other_package in found.items():
        if other_package == package:
            raise Refused(
                f"NAME={name!r} gives the package {package!r}, already the package of the "
                f"blueprint {other!r}: expected a name whose package is new"
            )
    return found[source], package


def tracked_files(folder: Path, *options: str) -> list[str]:
    """Paths (relative to ``folder``) of the files git tracks in it (their working-tree
    content is what gets copied); with ``--others --exclude-standard``, the untracked ones."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", *options, "--", "."],
        check=False,
        cwd=folder,
        capture_output=True,
        text=True,
    )
    if listed.returncode != 0:
        raise Refused(
            f"FROM={folder.name!r}: `git ls-files` failed in {folder} ({listed.stderr.strip()}): "
            "expected a git clone of the monorepo, so that only tracked files are copied"
        )
    return [path for path in listed.stdout.split("\0") if path]


def registered_models(folder: Path, files: list[str]) -> dict[str, str]:
    """Environment -> ``registered_model.name`` set in a tracked conf/<environment>/globals.yml."""
    pattern = re.compile(
        r"^registered_model:[ \t]*\n[ \t]+name:[ \t]*['\"]?([\w.-]+)", re.MULTILINE
    )
    found = {}
    for relative in sorted(f for f in files if re.fullmatch(r"conf/[^/]+/globals\.yml", f)):
        match = pattern.search((folder / relative).read_text(encoding="utf-8"))
        if match:
            found[relative.split("/")[1]] = match.group(1)
    return found


def renames(folder: Path, files: list[str], source: str, old: str, name: str, new: str):
    """Old text -> new text: folder, package in its three spellings, registered models."""
    mapping = {old.replace("_", "-"): new.replace("_", "-"), old.upper(): new.upper()}
    if source != old:  # e.g. ga4-mlops: its '-' form of the package is the folder, NAME wins
        mapping[source] = name
    mapping[old] = new  # a folder named like its package (recommender_gnn) is the package
    for environment, model in registered_models(folder, files).items():
        if old not in model:
            mapping[model] = new if environment == "base" else f"{new}_{environment}"
    return mapping


def replacer(mapping: dict[str, str]):
    """One pass over a text, the longest old name first: a new name that contains an old one
    (churn_ga4_mlops) is never renamed twice."""
    alternatives = sorted(mapping, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(text) for text in alternatives))
    return lambda text: pattern.sub(lambda match: mapping[match.group(0)], text)


def copy_tracked(source_dir: Path, target_dir: Path, files: list[str], rename) -> int:
    """Copies ``files`` with renamed paths and text (binary files as they are); symlinks stay
    symlinks, file modes are kept. Returns the number of files written."""
    written = 0
    for relative in files:
        source = source_dir / relative
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree, not yet in git
        target = target_dir / rename(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            os.symlink(rename(os.readlink(source)), target)
        else:
            content = source.read_bytes()
            try:
                content = rename(content.decode("utf-8")).encode("utf-8")
            except UnicodeDecodeError:
                pass  # binary: copied unchanged
            target.write_bytes(content)
            shutil.copymode(source, target)
        written += 1
    return written


def lint_fix(ruff: Path, folder: Path, fix: bool = True) -> list[str] | None:
    """With FROM's ruff (None without one): longer names change line breaks and import order,
    so format and sort the copy (``fix``), or list what ``ruff check`` and ``ruff format
    --check`` still find."""
    if not ruff.exists():
        return None
    commands = (["format", "."], ["check", "--fix", "."], ["format", "."])
    if not fix:
        commands = (["check", "--output-format", "concise", "."], ["format", "--check", "."])
    found = []
    for command in commands:
        done = subprocess.run(
            [str(ruff), *command, "-q", "--no-cache"],
            check=False,
            cwd=folder,
            capture_output=True,
            text=True,
        )
        found += [] if done.returncode == 0 else (done.stdout + done.stderr).splitlines()
    return [] if fix else found


def add_to_manifest(manifest: Path, source: str, name: str) -> list[str]:
    """Adds ``name`` to every [only] entry and every [blocks] ``blueprints`` list of
    kit/manifest.toml that lists ``source``; returns the kit files and blocks concerned."""
    if not manifest.exists():
        return []
    entry = re.compile(r'^("[^"]+")(\s*=\s*)\[(.*)\]\s*$')
    block = re.compile(r'^("[^"]+"\s*=\s*\{.*blueprints\s*=\s*)\[(.*?)\](.*)$')
    lines, section, changed = manifest.read_text(encoding="utf-8").splitlines(), "", []
    for number, line in enumerate(lines):
        if line.startswith("["):
            section = line.strip()
        match = (entry if section == "[only]" else block).match(line)
        if section not in ("[only]", "[blocks]") or not match:
            continue
        carriers = re.findall(r'"([^"]+)"', match.group(3 if section == "[only]" else 2))
        if source in carriers and name not in carriers:
            listed = ", ".join(f'"{carrier}"' for carrier in sorted([*carriers, name]))
            if section == "[only]":
                lines[number] = f"{match.group(1)}{match.group(2)}[{listed}]"
            else:
                lines[number] = f"{match.group(1)}[{listed}]{match.group(3)}"
            changed.append(line.split("=")[0].strip().strip('"'))
    if changed:
        manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
        parsed = tomllib.loads(manifest.read_text(encoding="utf-8"))
        carriers = {**parsed.get("only", {})}
        carriers |= {
            key: value.get("blueprints", []) for key, value in parsed.get("blocks", {}).items()
        }
        assert all(name in carriers[path] for path in changed), f"{manifest} was not updated"
    return changed


def create(root: Path, name: str, source: str) -> dict:
    """Creates ``root/name`` from ``root/source``; returns what was renamed and written."""
    old, new = validate(root, name, source)
    source_dir = (root / source).resolve()
    files = tracked_files(source_dir)
    mapping = renames(source_dir, files, source, old, name, new)
    target_dir = root / name
    target_dir.mkdir()
    try:
        count = copy_tracked(source_dir, target_dir, files, replacer(mapping))
    except BaseException:
        shutil.rmtree(target_dir)  # no half-made blueprint left behind
        raise
    kit_files = add_to_manifest(root / "kit" / "manifest.toml", source, name)
    lint = lint_fix(source_dir / ".venv" / "bin" / "ruff", target_dir)
    # Kit copies are written from the kit, filled for NAME, as `make sync-kit` would: the text
    # renames cannot tell the folder from the package when FROM names both alike.
    manifest = root / "kit" / "manifest.toml"
    for _, target, expected in sync.copies(root, root / "kit" / "files", manifest):
        if target.is_relative_to(target_dir) and target.exists() and not target.is_symlink():
            target.write_text(expected)
    for _, target, expected in sync.block_copies(root, root / "kit" / "files", manifest):
        if target.is_relative_to(target_dir) and expected is not None:
            target.write_text(expected)  # lazily: the next block reads what this one wrote
    if lint is not None:
        lint = lint_fix(source_dir / ".venv" / "bin" / "ruff", target_dir, fix=False)
    untracked = tracked_files(source_dir, "--others", "--exclude-standard")
    return {
        "package": (old, new),
        "renames": mapping,
        "files": count,
        "kit_files": kit_files,
        "untracked": untracked,
        "lint": lint,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("name", metavar="NAME", help="the new blueprint's folder name")
    parser.add_argument("source", metavar="FROM", help="the blueprint folder to copy")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the monorepo (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    try:
        made = create(args.root.resolve(), args.name, args.source)
    except Refused as refused:
        print(f"new-blueprint: error: {refused}", file=sys.stderr)
        return 2
    print(f"new-blueprint: {args.name}/ from {args.source}/, {made['files']} tracked files")
    for before, after in made["renames"].items():
        print(f"  renamed {before} -> {after}")
    if made["untracked"]:
        shown = ", ".join(made["untracked"][:5]) + (", ..." if len(made["untracked"]) > 5 else "")
        print(
            f"  warning: {len(made['untracked'])} file(s) in {args.source}/ that git does not "
            f"track were not copied ({shown}); git add them and rerun if the copy needs them"
        )
    if made["lint"] is None:
        print(f"  not formatted: {args.source}/.venv has no ruff; run make -C {args.name} format")
    elif made["lint"]:
        print(
            f"  warning: ruff finds what it cannot fix in {args.name}/ (make -C {args.name} lint):"
        )
        print("\n".join(f"    {line}" for line in made["lint"]))
    for path in made["kit_files"]:
        print(f"  kit/manifest.toml: {args.name} now carries kit/files/{path}")
    print(
        f"Next: make -C {args.name} install && make -C {args.name} test; then edit "
        f"{args.name}/README.md, pyproject.toml's description and conf/ for the new problem, and "
        "add the blueprint's jobs to .gitlab-ci.yml (docs/new-blueprint.md)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
