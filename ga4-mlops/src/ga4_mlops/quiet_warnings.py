"""Third-party warnings that say nothing a user of this project can act on, filtered so that a
run's log shows what the run does. Called from settings.py (imported before any node runs).

Each filter names the library and the message it silences; a warning not listed still shows.
MLflow's advice to type-hint ``PythonModel.predict`` cannot be filtered (MLflow resets the
filter to "once" around its check): our models carry the hint, and kedro-mlflow's model class,
which does not, is defined here with that one message dropped (``define_kedro_pipeline_model``).
tests/test_quiet_run.py fails on any other warning a short run prints.
"""

from __future__ import annotations

import logging
import os
import re
import warnings

from kedro import KedroDeprecationWarning

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
    # MLflow, at each signature inferred with integer columns (ids, counts): its advice to log
    # them as floats in case a request leaves one empty; such a request fails MLflow's schema
    # check with its own message, and the ids never miss.
    (UserWarning, r"Hint: Inferred schema contains integer column", r"mlflow\.types\.utils"),
)


# MLflow 3 at the definition of a PythonModel whose predict has no type hint.
TYPE_HINT_ADVICE = "Add type hints to the `predict` method"
# kedro-mlflow's hook, once per parameter key with a character MLflow refuses in a name (GA4's
# "(none)" or "<Other>" mediums): it logs the key with "_" for the character, as it says.
RENAMED_PARAMETER = re.compile(r"'.*' is not a valid name for a mlflow paramter\. It is renamed")


def filter_third_party_warnings() -> None:
    """Ignore the warnings listed in THIRD_PARTY_NOISE (and nothing else), kedro-mlflow's notice
    of each parameter key it renames, and its model class's type-hint advice."""
    for category, message, module in THIRD_PARTY_NOISE:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)
    if os.environ.get("KEDRO_VERTEXAI_RUNNER_CONFIG"):
        # kedro-vertexai starts each Vertex AI step with `kedro run --pipeline NAME`, the option
        # Kedro 1.7 deprecates for --pipelines; only in a step (its variable set), so that our
        # own use of --pipeline still warns (tests/quiet_output.py). kedro-datasets sets
        # KedroDeprecationWarning to "default" when first imported: import it first.
        import kedro_datasets  # noqa: F401

        warnings.filterwarnings(
            "ignore",
            message=r"Option '--pipeline' is deprecated",
            category=KedroDeprecationWarning,
            module=r"kedro\.framework\.cli\.project",
        )
    logging.getLogger("kedro_mlflow.framework.hooks.mlflow_hook").addFilter(
        lambda record: not RENAMED_PARAMETER.match(record.getMessage())
    )
    define_kedro_pipeline_model()


def define_kedro_pipeline_model() -> None:
    """Import kedro-mlflow's KedroPipelineModel (a PythonModel whose predict has no type hint)
    with MLflow's advice to add one dropped, before kedro-mlflow's CLI or hook imports it.

    A warnings filter cannot drop it (MLflow sets "once" around the check), so for this one
    import the warning display skips that message and shows every other warning as before.
    """
    # Kedro's logging set-up replaces warnings.showwarning (warnings to the log) on import: first.
    import kedro.framework.project  # noqa: F401

    show = warnings.showwarning

    def show_unless_type_hint_advice(message, category, *args, **kwargs):
        if TYPE_HINT_ADVICE not in str(message):
            show(message, category, *args, **kwargs)

    warnings.showwarning = show_unless_type_hint_advice
    try:
        import kedro_mlflow.mlflow  # noqa: F401
    finally:
        if warnings.showwarning is show_unless_type_hint_advice:
            warnings.showwarning = show
