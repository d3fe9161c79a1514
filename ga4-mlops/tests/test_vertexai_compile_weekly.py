"""The weekly pipeline (inference + performance_monitoring) compiles for Vertex AI with the
as-of date as a run-time parameter of the spec."""

from kedro.framework.project import pipelines

from tests.conftest import compile_vertex_spec

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
    expected = {node.name.replace("_", "-") for node in pipelines["weekly"].nodes}
    assert {name for name in tasks if name != "mlflow-start-run"} == expected
    for name in expected:
        # Every step receives the pipeline's value and hands it to kedro as --params.
        assert tasks[name]["inputs"]["parameters"]["as_of_date"] == {
            "componentInputParameter": "as_of_date"
        }
        args = " ".join(spec["deploymentSpec"]["executors"][f"exec-{name}"]["container"]["args"])
        assert "--pipeline weekly" in args
        assert "--params as_of_date={{$.inputs.parameters['as_of_date']}}" in args
