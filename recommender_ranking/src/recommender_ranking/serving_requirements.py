"""The pinned requirements a served model needs, read from the blueprint's lock.

The registered model asks for the training run's exact versions of what scoring imports, not
the whole development lock (kedro-vertexai's ``mlflow<3`` in it clashes with MLflow 3 as soon as
``mlflow models serve`` builds an environment).
"""

import re
from pathlib import Path


def serving_requirements(*roots: str, lock: str = "requirements.lock") -> list[str]:
    """The pinned lines of ``lock`` that the served model needs: ``roots`` and every package
    the lock says they pull in (uv's ``# via`` annotations), nothing else.

    The registered model then asks for the training run's exact versions of what scoring
    imports, without Kedro, Optuna, the Google SDKs or the dev tools. Read relative to the
    working directory (the project root, where ``kedro run`` starts), like MLflow reads a
    ``pip_requirements`` file.
    """
    pins: dict[str, str] = {}
    parents: dict[str, set[str]] = {}
    for line in Path(lock).read_text().splitlines():
        pin, _, via = line.partition("# via")
        if "==" not in pin or pin.lstrip().startswith("#"):
            continue
        name = _package(pin.split("==")[0])
        pins[name] = pin.strip()
        parents[name] = {_package(parent) for parent in via.split(",") if parent.strip()}
    needed = {_package(root) for root in roots}
    unknown = sorted(needed - pins.keys())
    if unknown:
        raise ValueError(f"{lock} pins no {unknown}: expected every serving root to be locked")
    grown = True
    while grown:
        added = {name for name, via in parents.items() if via & needed} - needed
        needed |= added
        grown = bool(added)
    return [pins[name] for name in sorted(needed)]


def _package(name: str) -> str:
    """PEP 503 normal form, without extras or a ``(pyproject.toml)`` note."""
    return re.sub(r"[-_.]+", "-", name.split("[")[0].split("(")[0].strip()).lower()
