"""Project hooks, registered in settings.HOOKS."""

from kedro.framework.hooks import hook_impl


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
