"""One source for the files several blueprints share, copied into each (issue: one kit, no drift).

The blueprints share no code at run time: each keeps its own copy, so a blueprint copied out of
the monorepo still installs, runs and tests alone. The copies come from here: kit/files/<path> is
written to <blueprint>/<path> with ``{{package}}`` (the blueprint's Python package, from
``[tool.kedro] package_name``) and ``{{blueprint}}`` (its folder name) filled in, in the path and
in the text. kit/manifest.toml says which blueprints carry which file (default: every one).

Blocks, for a file whose rest differs by blueprint (a Dockerfile): kit/blocks/<name> is the text
between the lines ``# kit block: <name>`` and ``# end of kit block: <name>`` in the blueprint's
file that manifest.toml's [blocks] names; sync rewrites only that text, check compares it.

    python3 kit/sync.py sync    # write every copy (make sync-kit)
    python3 kit/sync.py check   # exit 1 naming every copy that differs (make kit-check, CI)

Change a shared file here, then sync; a change made in a blueprint's copy fails the check.
"""

from __future__ import annotations

import difflib
import itertools
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KIT = Path(__file__).resolve().parent / "files"
MANIFEST = Path(__file__).resolve().parent / "manifest.toml"
BEGIN, END = "# kit block: {name}\n", "# end of kit block: {name}\n"


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


def block_copies(root: Path = ROOT, kit: Path = KIT, manifest: Path = MANIFEST):
    """(kit block, blueprint file, expected text of the whole file, or None when the file lacks
    the block's marker lines) for every block of manifest.toml's [blocks]."""
    found = blueprints(root)
    blocks = tomllib.loads(manifest.read_text()).get("blocks", {}) if manifest.exists() else {}
    for name, entry in sorted(blocks.items()):
        source = kit.parent / "blocks" / name
        for blueprint in entry.get("blueprints", found):
            target = root / blueprint / entry["file"]
            text = target.read_text() if target.exists() else ""
            begin, end = BEGIN.format(name=name), END.format(name=name)
            start = text.find(begin)
            stop = text.find(end, start + len(begin)) if start >= 0 else -1
            if start < 0 or stop < 0 or (start and text[start - 1] != "\n"):
                yield source, target, None
                continue
            block = fill(source.read_text(), blueprint, found[blueprint])
            yield source, target, text[: start + len(begin)] + block + text[stop:]


def check(root: Path = ROOT, kit: Path = KIT, manifest: Path = MANIFEST) -> list[str]:
    """What differs, one entry per copy: the copy's path and the first differing lines."""
    problems = []
    for source, target, expected in block_copies(root, kit, manifest):
        name = target.relative_to(root)
        marker = BEGIN.format(name=source.name).strip()
        if expected is None:
            problems.append(
                f"{name}: no block '{marker}' ... '{END.format(name=source.name).strip()}' "
                f"(kit/blocks/{source.name}, kit/manifest.toml)"
            )
        elif (actual := target.read_text()) != expected:
            problems.append(
                f"{name}: the block '{marker}' differs from kit/blocks/{source.name} "
                + _first_differences(expected, actual, name)
            )
    for source, target, expected in copies(root, kit, manifest):
        name = target.relative_to(root)
        if not target.exists():
            problems.append(f"{name}: missing (kit/files/{source.relative_to(kit)}; make sync-kit)")
        elif (actual := target.read_text()) != expected:
            problems.append(
                f"{name} differs from kit/files/{source.relative_to(kit)} "
                + _first_differences(expected, actual, name)
            )
    return problems


def _first_differences(expected: str, actual: str, name: Path) -> str:
    diff = difflib.unified_diff(expected.splitlines(), actual.splitlines(), "kit", str(name), n=0)
    return "(edit the kit, then make sync-kit):\n    " + "\n    ".join(list(diff)[2:8])


def sync(root: Path = ROOT, kit: Path = KIT, manifest: Path = MANIFEST) -> list[Path]:
    """Write every copy and every block; a file without a block's markers is left as it is
    (check names it)."""
    written = []
    # lazily: each block's expected text is read from the file as the previous block left it
    for _, target, expected in itertools.chain(
        block_copies(root, kit, manifest), copies(root, kit, manifest)
    ):
        if expected is None:
            continue
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
        n = sum(1 for _ in copies()) + sum(1 for _ in block_copies())
        print(f"kit-check: {n - len(problems)} of {n} copies and blocks equal their kit source")
        return 1 if problems else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
