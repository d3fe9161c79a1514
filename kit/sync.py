"""One source for the files several blueprints share, copied into each (issue: one kit, no drift).

The blueprints share no code at run time: each keeps its own copy, so a blueprint copied out of
the monorepo still installs, runs and tests alone. The copies come from here: kit/files/<path> is
written to <blueprint>/<path> with ``{{package}}`` (the blueprint's Python package, from
``[tool.kedro] package_name``) and ``{{blueprint}}`` (its folder name) filled in, in the path and
in the text. kit/manifest.toml says which blueprints carry which file (default: every one).

    python3 kit/sync.py sync    # write every copy (make sync-kit)
    python3 kit/sync.py check   # exit 1 naming every copy that differs (make kit-check, CI)

Change a shared file here, then sync; a change made in a blueprint's copy fails the check.
"""

from __future__ import annotations

import difflib
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KIT = Path(__file__).resolve().parent / "files"
MANIFEST = Path(__file__).resolve().parent / "manifest.toml"


def blueprints(root: Path = ROOT) -> dict[str, str]:
    """Folder name -> package name of every top-level folder whose pyproject has [tool.kedro]."""
    found = {}
    for pyproject in sorted(root.glob("*/pyproject.toml")):
        kedro = tomllib.loads(pyproject.read_text()).get("tool", {}).get("kedro")
        if kedro:
            found[pyproject.parent.name] = kedro["package_name"]
    return found


def fill(text: str, blueprint: str, package: str) -> str:
    return text.replace("{{package}}", package).replace("{{blueprint}}", blueprint)


def copies(root: Path = ROOT, kit: Path = KIT, manifest: Path = MANIFEST):
    """(kit file, blueprint copy, expected text) for every file and blueprint that carries it."""
    found = blueprints(root)
    carriers = tomllib.loads(manifest.read_text()).get("only", {}) if manifest.exists() else {}
    for source in sorted(path for path in kit.rglob("*") if path.is_file()):
        relative = source.relative_to(kit).as_posix()
        for blueprint in carriers.get(relative, found):
            if blueprint not in found:
                raise SystemExit(
                    f"kit/manifest.toml: {relative} names '{blueprint}', not a blueprint"
                )
            package = found[blueprint]
            target = root / blueprint / fill(relative, blueprint, package)
            yield source, target, fill(source.read_text(), blueprint, package)


def check(root: Path = ROOT, kit: Path = KIT, manifest: Path = MANIFEST) -> list[str]:
    """What differs, one entry per copy: the copy's path and the first differing lines."""
    problems = []
    for source, target, expected in copies(root, kit, manifest):
        name = target.relative_to(root)
        if not target.exists():
            problems.append(f"{name}: missing (kit/files/{source.relative_to(kit)}; make sync-kit)")
            continue
        if target.read_text() != expected:
            diff = difflib.unified_diff(
                expected.splitlines(), target.read_text().splitlines(), "kit", str(name), n=0
            )
            problems.append(
                f"{name} differs from kit/files/{source.relative_to(kit)} (edit the kit, then make "
                "sync-kit):\n    " + "\n    ".join(list(diff)[2:8])
            )
    return problems


def sync(root: Path = ROOT, kit: Path = KIT, manifest: Path = MANIFEST) -> list[Path]:
    written = []
    for _, target, expected in copies(root, kit, manifest):
        if not target.exists() or target.read_text() != expected:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(expected)
            written.append(target)
    return written


def main(argv: list[str]) -> int:
    if argv[1:] == ["sync"]:
        for path in sync():
            print(f"kit: wrote {path.relative_to(ROOT)}")
        return 0
    if argv[1:] == ["check"]:
        problems = check()
        for problem in problems:
            print(f"kit-check: {problem}", file=sys.stderr)
        n = sum(1 for _ in copies())
        print(f"kit-check: {n - len(problems)} of {n} copies equal their kit source")
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
