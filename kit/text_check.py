"""Fail on internal labels and on paths outside the repository in the text users read.

The blueprints are read and copied by people who never saw how they were built: a work-item
label ("G1's adapter", "R2"), a path on the machine that wrote them (/work/..., ../shared) or a
make target that does not exist means nothing to them. Scans every file git tracks under the
repository except lock files and kit/ itself (whose copies are scanned in the blueprints).

    python3 kit/text_check.py          # exit 1 and one line per finding
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "an internal work-item label": re.compile(r"(?<![\w./-])[GR][0-9]{1,2}(?:'s)?(?![\w./-])"),
    "a path outside the repository": re.compile(r"/work/|\.\./shared\b|\.library\b"),
}
SKIPPED = (".lock", ".png", ".jpg", ".parquet", ".pkl", ".db")


def findings(root: Path = ROOT, files: list[str] | None = None) -> list[str]:
    """``path:line: what was found`` for every forbidden text in ``files`` (git's tracked
    files by default)."""
    if files is None:
        files = [f for f in _repository_files(root) if not f.startswith("kit/")]
    found = []
    for name in files:
        if name.endswith(SKIPPED) or name.endswith("text_check.py"):
            continue
        try:
            lines = (root / name).read_text(encoding="utf-8").splitlines()
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        for number, line in enumerate(lines, 1):
            for what, pattern in FORBIDDEN.items():
                match = pattern.search(line)
                if match:
                    found.append(f"{name}:{number}: {what}: {match.group(0)!r}")
    return found


def _repository_files(root: Path) -> list[str]:
    """git's tracked files, or (no git, e.g. an unpacked archive) every file outside the
    folders that runs and installs create."""
    listed = subprocess.run(
        ["git", "ls-files"], check=False, cwd=root, capture_output=True, text=True
    )
    if listed.returncode == 0:
        return listed.stdout.splitlines()
    made = {".git", ".venv", ".venv-zetasql", "data", "mlruns", "build", "__pycache__"}
    return [
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and not made & set(path.relative_to(root).parts)
    ]


if __name__ == "__main__":
    problems = findings()
    for problem in problems:
        print(problem)
    if problems:
        print(f"text-check: {len(problems)} finding(s) in user-facing text", file=sys.stderr)
        sys.exit(1)
    print("text-check: no internal labels or outside paths in user-facing text")
