"""Third-party warnings that say nothing a user of this project can act on, filtered so that a
run's log shows what the run does. Called from settings.py (imported before any node runs).

Each filter names the library and the message it silences; a warning not listed still shows.
MLflow's advice to type-hint ``PythonModel.predict`` cannot be filtered here (MLflow resets the
filter to "once" around its check): it shows once per model class.
"""

from __future__ import annotations

import warnings

# (category, message regex, module regex): what each library repeats on every run.
THIRD_PARTY_NOISE = (
    # google-api-core: Python 3.11's end of support (2027-10), once per Google client package.
    (FutureWarning, r"You are using a Python version .* which Google will stop supporting", ""),
    # google-cloud-aiplatform: asks for google-cloud-storage 3, which the lock cannot take.
    (FutureWarning, r"Support for google-cloud-storage < 3\.0\.0 will be removed", ""),
    # woodwork (featuretools' types) still imports setuptools' pkg_resources.
    (UserWarning, r"pkg_resources is deprecated as an API", ""),
    # featuretools' deep feature synthesis hands pandas numpy callables (np.mean ...).
    (FutureWarning, r"The provided callable <function \w+ at 0x[0-9a-f]+> is currently using", ""),
    # Kedro 1.7 and kedro-mlflow call OmegaConf's register_new_resolver themselves.
    (UserWarning, r"register_new_resolver\(\) is deprecated", ""),
)


def filter_third_party_warnings() -> None:
    """Ignore the warnings listed in THIRD_PARTY_NOISE (and nothing else)."""
    for category, message, module in THIRD_PARTY_NOISE:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)
