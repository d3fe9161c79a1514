"""What a run must not print: deprecation and future warnings (ours, or third-party ones that
settings.py should filter) and Kedro's deprecated CLI options. Every test that runs the real
kedro CLI checks its output with ``noise`` (kedro_cli.run_kedro)."""

from __future__ import annotations

import re

NOISE = re.compile(
    r"DeprecationWarning|FutureWarning|register_new_resolver\(\) is deprecated"
    r"|Option '--pipeline' is deprecated"
)


def noise(output: str) -> list[str]:
    """The lines of ``output`` that a quiet run does not print."""
    return [line.strip() for line in output.splitlines() if NOISE.search(line)]
