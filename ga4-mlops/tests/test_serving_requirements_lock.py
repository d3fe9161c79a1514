"""serving_requirements.py (a kit file): a served model's pins are its roots and what they pull
in, read from the lock's "# via" comments, nothing else."""

import textwrap

import pytest

from ga4_mlops.serving_requirements import serving_requirements


def test_roots_and_what_they_pull_in_nothing_else(tmp_path, monkeypatch):
    (tmp_path / "requirements.lock").write_text(
        textwrap.dedent("""\
            # lock-inputs-sha256: 0
            kedro==1.7.0              # via kedro-mlflow, app (pyproject.toml)
            lightgbm==4.7.0           # via app (pyproject.toml)
            numpy==2.4.6              # via lightgbm, scipy, kedro-datasets
            rich==14.0.0              # via kedro
            scipy==1.17.1             # via lightgbm
            Typing_Extensions==4.16.0 # via numpy
            """)
    )
    monkeypatch.chdir(tmp_path)
    assert serving_requirements("LightGBM") == [
        "lightgbm==4.7.0",
        "numpy==2.4.6",
        "scipy==1.17.1",
        "Typing_Extensions==4.16.0",
    ]
    with pytest.raises(ValueError, match=r"requirements.lock pins no \['xgboost'\]"):
        serving_requirements("lightgbm", "xgboost")
