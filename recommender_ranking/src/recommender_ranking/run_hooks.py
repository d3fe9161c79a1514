"""Hooks every blueprint's runs use, registered in settings.HOOKS: catalog patterns created
before a run (Vertex AI), an unknown ``--env`` and a missing input named before the first node.
Kit file: kit/files/src/recommender_ranking/run_hooks.py (kit/sync.py).
"""

from pathlib import Path

from kedro.framework.hooks import hook_impl
from kedro.io import AbstractDataset, MemoryDataset


class PatternDatasetsHook:
    """Creates, before a run, every dataset of it that a catalog pattern declares.

    Why: on Vertex AI, kedro-vertexai 1.0.0's runner keeps only the datasets the catalog has
    already created (``catalog.filter()``) and replaces every other one with a pickle under the
    pipeline root, while Kedro creates a pattern's dataset when it is first used. Without this
    hook a pattern's output would become a pickle instead of its file, and a pattern's input
    that no step writes (a BigQuery query) would be read from a pickle nobody wrote
    (tools/vertex_sim.py shows both). Locally it changes nothing: Kedro's runner creates them
    all before the first node anyway.
    """

    @hook_impl
    def before_pipeline_run(self, pipeline, catalog) -> None:
        for name in sorted(pipeline.datasets()):
            if name in catalog:  # declared by name or by a pattern; not the run-time default
                catalog.get(name)


class KnownEnvironmentHook:
    """Stops a run whose ``--env`` (or ``KEDRO_ENV``) names no folder under ``conf/``.

    Why: Kedro reads an environment's folder only when a key is first loaded, and
    kedro-mlflow, the first plugin to load one, takes the missing folder for a missing
    ``mlflow.yml`` and carries on with its defaults: the run then fails on MLflow's file
    store, with nothing saying that the environment does not exist. ``tryfirst``: before the
    plugins' own ``after_context_created``. Checks a local configuration folder only (a
    packaged or remote ``--conf-source`` is left to Kedro).
    """

    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        loader = context.config_loader
        conf = Path(str(loader.conf_source))
        env = loader.env or loader.default_run_env
        if not env or not conf.is_dir() or (conf / env).is_dir():
            return
        known = sorted(
            folder.name
            for folder in conf.iterdir()
            if folder.is_dir() and folder.name != loader.base_env
        )
        raise ValueError(
            f"environment '{env}' does not exist: {conf} has no folder '{env}'. "
            f"Environments: {', '.join(known) or '(none)'} (--env=NAME or KEDRO_ENV; "
            f"'{loader.base_env}' is always read under it)"
        )


class MissingInputsHook:
    """Stops a run, before its first node, when an input that a project pipeline writes is
    missing: ``kedro run --pipelines=training`` on a fresh checkout has no model-input table,
    and would fail on a bare file-not-found. The message names the dataset, its file and the
    pipelines that write it.

    Only inputs some registered pipeline outputs are checked (raw data, parameters and
    external sources are not ours to produce), and only datasets that can tell whether they
    exist (not memory datasets, nor datasets without ``_exists``) and that need to (a dataset
    whose ``loads_when_missing`` is true, such as the generator's oracle on real data, loads
    an empty table instead). ``tryfirst``: before
    kedro-mlflow starts an MLflow run that this check would leave empty.
    """

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, pipeline, catalog) -> None:
        # Here, not at the top: settings.py imports this module, and importing
        # kedro.framework.project on its own sets up Kedro's logging (tests/test_settings.py).
        from kedro.framework.project import pipelines

        writers: dict[str, list[str]] = {}
        for name, registered in pipelines.items():
            if name == "__default__":
                continue
            for output in registered.all_outputs():
                writers.setdefault(output, []).append(name)
        missing = []
        for name in sorted(pipeline.inputs()):
            if name not in writers or name not in catalog:
                continue
            dataset = catalog.get(name)
            can_tell = type(dataset)._exists is not AbstractDataset._exists
            if getattr(dataset, "loads_when_missing", False):
                continue
            if isinstance(dataset, MemoryDataset) or not can_tell or dataset.exists():
                continue
            described = dataset._describe().get("filepath")
            where = f" ({described})" if described else ""
            run = " or ".join(f"kedro run --pipelines={p}" for p in sorted(writers[name]))
            missing.append(f"'{name}'{where}, written by {run}")
        if missing:
            raise ValueError(
                f"input dataset(s) of this run do not exist yet: {'; '.join(missing)}. Run "
                "one of those first (`kedro run`, the default pipeline, writes them all)"
            )
