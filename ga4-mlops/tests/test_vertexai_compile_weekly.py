"""The weekly pipeline (inference + performance_monitoring) compiles for Vertex AI as one step,
with the as-of date as a run-time parameter of the spec."""

from kedro.framework.project import pipelines

from tests.kedro_cli import compile_vertex_spec
from tests.test_vertexai_compile import compiled_steps, expected_steps

# What docs/vertex-ai.md tells users to compile: an optional string, `latest` by default.
RUNTIME_PARAMETER = "as_of_date:str='latest'"


def test_weekly_compiles_with_the_as_of_date_as_a_run_time_parameter(tmp_path, monkeypatch):
    spec = compile_vertex_spec(
        tmp_path, monkeypatch, "--pipeline", "weekly", "--params", RUNTIME_PARAMETER
    )
    parameter = spec["root"]["inputDefinitions"]["parameters"]["as_of_date"]
    assert parameter["parameterType"] == "STRING"
    assert parameter["defaultValue"] == "latest"
    tasks = spec["root"]["dag"]["tasks"]
    assert set(tasks) == {"weekly", "mlflow-start-run"}
    # The one step runs every node of the weekly pipeline.
    assert compiled_steps(spec) == expected_steps("weekly")
    assert expected_steps("weekly") == {"weekly": {node.name for node in pipelines["weekly"].nodes}}
    # The step receives the pipeline's value and hands it to kedro as --params.
    assert tasks["weekly"]["inputs"]["parameters"]["as_of_date"] == {
        "componentInputParameter": "as_of_date"
    }
    args = " ".join(spec["deploymentSpec"]["executors"]["exec-weekly"]["container"]["args"])
    assert "--pipeline weekly" in args
    assert "--params as_of_date={{$.inputs.parameters['as_of_date']}}" in args
