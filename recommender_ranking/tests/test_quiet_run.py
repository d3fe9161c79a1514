"""A short real kedro command prints no warning (issue 22): none from our code or CLI use, and
third-party ones only as filtered in settings.py (quiet_warnings.py).

``kedro catalog describe-datasets`` loads the settings, the kedro-mlflow plugin, every registered
pipeline (each PythonModel class is defined) and the parameters, which Kedro 1.7 validates against
the type hints of every node function: what a run does before its first node, in about 20 s.
"""

import re

from tests.kedro_cli import copy_project, run_kedro

WARNING_LINE = re.compile(r"Warning|WARNING")
# Warning lines a quiet run may still print, each with why it cannot be fixed or filtered.
# Empty: add a regex here only with a comment naming its source.
ALLOWED = ()


def warning_lines(output: str) -> list[str]:
    """The lines of ``output`` naming a warning that ALLOWED does not list."""
    return [
        line.strip()
        for line in output.splitlines()
        if WARNING_LINE.search(line) and not any(re.search(allowed, line) for allowed in ALLOWED)
    ]


def test_warning_lines_are_found():
    output = "INFO ok\n[12/07/26] WARNING  Could not extract type hints\nUserWarning: x\n"
    assert warning_lines(output) == [
        "[12/07/26] WARNING  Could not extract type hints",
        "UserWarning: x",
    ]


def test_a_short_kedro_command_prints_no_warning(tmp_path):
    completed = run_kedro(
        copy_project(tmp_path / "project"), "catalog", "describe-datasets", timeout=300
    )
    printed = warning_lines(completed.stdout + completed.stderr)
    assert not printed, "kedro catalog describe-datasets printed warnings:\n" + "\n".join(
        printed[:10]
    )
