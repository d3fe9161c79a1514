"""Run the compiled Vertex AI pipeline here, one OS process per step (make vertex-sim).

Why: the offline compile test sees the spec, not what a step finds when it starts alone in a
fresh container. This compiles the pipeline with the real ``kedro vertexai -e gcp compile``
and runs every step of the spec in dependency order, each as its own process in a fresh copy
of what the Dockerfile puts in the image, with the spec's command and variables, the image's
ENV and Vertex AI's CLOUD_ML_PROJECT_ID (``kedro`` is this ``.venv``'s). Google Cloud is
replaced by: gs:// is the folder <work>/gs in every step (an fsspec filesystem registered by a
sitecustomize module on PYTHONPATH); conf/gcp's BigQuery entries are, in the copy, conf/local's
DuckDB entries of the same names, reading the files the pipeline wrote to that folder; MLflow is
<work>/mlflow.db, named by the bucket's deployment.yml as on Vertex AI.

Before running anything it stops when a dataset the catalog holds in memory is written by one
step and read by another (kedro-vertexai persists only undeclared datasets). The same file is in
every blueprint (its source: kit/files/tools/vertex_sim.py, make sync-kit); it imports no
blueprint code.

    .venv/bin/python tools/vertex_sim.py [--pipeline NAME] [--work DIR] [--check-only]
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import yaml

PROJECT_ID = "vertex-sim"  # the made-up Google Cloud project every name derives from
PLACEHOLDER = re.compile(r"\{\{\$\.(.+?)\}\}")
BIGQUERY_TYPE = re.compile(r"gbq|bigquery", re.IGNORECASE)

# Loaded by Python at start-up in every step (PYTHONPATH): gs:// and gcs:// become a folder.
SITECUSTOMIZE = '''"""vertex_sim: gs://bucket/key is VERTEX_SIM_GS_ROOT/bucket/key here."""
import os

if os.environ.get("VERTEX_SIM_GS_ROOT"):
    import fsspec
    from fsspec.implementations.dirfs import DirFileSystem
    from fsspec.implementations.local import LocalFileSystem

    class LocalBucketFileSystem(DirFileSystem):
        protocol = ("gs", "gcs")

        def __init__(self, *args, **storage_options):
            root = os.environ["VERTEX_SIM_GS_ROOT"]
            super().__init__(path=root, fs=LocalFileSystem(auto_mkdir=True))

    for _protocol in LocalBucketFileSystem.protocol:
        fsspec.register_implementation(_protocol, LocalBucketFileSystem, clobber=True)
'''


class SimulationError(Exception):
    """A reason to stop, written for the person who runs the simulation."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="blueprint folder")
    parser.add_argument("--pipeline", default="__default__")
    parser.add_argument("--work", type=Path, help="default: <project>/build/vertex-sim")
    parser.add_argument(
        "--bucket-data", type=Path, help="files already in the bucket: copied under data_root"
    )
    parser.add_argument("--check-only", action="store_true", help="compile and check, run no step")
    parser.add_argument(
        "--skip-memory-check",
        action="store_true",
        help="run even when a MemoryDataset crosses steps (to see it fail as on Vertex AI)",
    )
    args = parser.parse_args(argv)
    project = args.project.resolve()
    work = (args.work or project / "build" / "vertex-sim").resolve()
    try:
        simulate(project, work, args)
    except SimulationError as error:
        print(f"[vertex-sim] FAILED: {error}", file=sys.stderr)
        return 1
    return 0


def simulate(project: Path, work: Path, args: argparse.Namespace) -> None:
    if work.exists():
        shutil.rmtree(work)
    (work / "site").mkdir(parents=True)
    (work / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    os.environ.update(GCP_PROJECT_ID=PROJECT_ID, KEDRO_DISABLE_TELEMETRY="1")
    started = time.monotonic()
    spec = compile_spec(project, work, args.pipeline)
    from kedro.framework.project import pipelines, settings

    conf = settings.CONF_SOURCE
    config = load_config(project / conf, "gcp")
    gs_root = work / "gs"
    image = work / "image"
    data_root = local_path(config["globals"]["data_root"], gs_root)
    build_image(project, image, conf, data_root)
    steps = read_steps(spec)
    if args.skip_memory_check:
        print("[vertex-sim] memory check skipped: a step may start without its inputs")
    else:
        check_memory_hand_offs(steps, pipelines, load_config(image / conf, "gcp")["catalog"])
        print(f"[vertex-sim] {len(steps)} steps; no dataset crosses two of them in memory")
    if args.check_only:
        return
    if args.bucket_data:
        shutil.copytree(args.bucket_data, data_root, dirs_exist_ok=True)
    tracking_uri = start_mlflow(work, config)
    environment = container_environment(project, work, gs_root)
    settings_url = config["globals"].get("deployment_settings")
    if str(settings_url).startswith("gs://"):
        deployment = local_path(settings_url, gs_root)
        deployment.parent.mkdir(parents=True, exist_ok=True)
        deployment.write_text(yaml.safe_dump({"MLFLOW_TRACKING_URI": tracking_uri}))
    else:
        environment["MLFLOW_TRACKING_URI"] = tracking_uri
    job_name = f"{spec['pipelineInfo']['name']}-{time.strftime('%Y%m%d%H%M%S')}"
    run_steps(steps, work, image, environment, job_name)
    print(f"[vertex-sim] {len(steps)} steps passed in {time.monotonic() - started:.0f} s")
    print(f"[vertex-sim] bucket: {gs_root}  MLflow: {tracking_uri}  logs: {work / 'logs'}")


def compile_spec(project: Path, work: Path, pipeline: str) -> dict:
    """``kedro vertexai -e gcp compile`` in this process, offline.

    ``aiplatform.init`` (experiment set-up: credentials and network) is the one call replaced:
    compiling does not use its result. kedro-mlflow opens its store while compiling, so a
    throwaway sqlite file stands in for the server.
    """
    import google.cloud.aiplatform
    from kedro.framework.cli.cli import KedroCLI
    from kedro.framework.startup import bootstrap_project

    google.cloud.aiplatform.init = lambda *args, **kwargs: None
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{work / 'compile-mlflow.db'}"
    os.chdir(project)
    bootstrap_project(project)
    spec_path = work / "pipeline.yaml"
    command = ["vertexai", "-e", "gcp", "compile", "--pipeline", pipeline, "-o", str(spec_path)]
    print(f"[vertex-sim] kedro {' '.join(command)}")
    KedroCLI(project).main(command, standalone_mode=False)
    return yaml.safe_load(spec_path.read_text())  # JSON is YAML too


def load_config(conf_source: Path, env: str):
    """The project's own config loader (its resolvers and patterns) over ``conf_source``."""
    from kedro.framework.project import settings

    return settings.CONFIG_LOADER_CLASS(
        conf_source=str(conf_source), env=env, **settings.CONFIG_LOADER_ARGS
    )


def local_path(url: str, gs_root: Path) -> Path:
    """Where the simulation keeps ``gs://bucket/key``."""
    if not str(url).startswith("gs://"):
        raise SimulationError(f"'{url}' is not a gs:// URL (conf/gcp/globals.yml)")
    return gs_root / str(url).removeprefix("gs://")


def build_image(project: Path, image: Path, conf: str, data_root: Path) -> None:
    """What the Dockerfile copies, with conf/gcp's BigQuery entries swapped for conf/local's."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*credentials*", ".env")
    image.mkdir()
    for name in dockerfile_copies(project):
        source = project / name
        if source.is_dir():
            shutil.copytree(source, image / name, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, image / name)
        else:
            raise SimulationError(f"{source} is missing: the image copies it (Dockerfile COPY)")
    (image / "data").mkdir()
    local = {}
    for path in catalog_files(image / conf / "local"):
        local.update(yaml.safe_load(path.read_text()) or {})
    taken: set[str] = set()
    for path in catalog_files(image / conf / "gcp"):
        entries = yaml.safe_load(path.read_text()) or {}
        kept = {}
        for name, entry in entries.items():
            if name.startswith("_"):
                continue  # a YAML template, already merged into the entries that use it
            if not (isinstance(entry, dict) and BIGQUERY_TYPE.search(str(entry.get("type")))):
                kept[name] = entry
                continue
            for local_name, local_entry in local.items():
                if local_name not in taken and names_match(name, local_name):
                    kept[local_name] = relocate(local_entry, str(data_root))
                    taken.add(local_name)
        header = "# vertex_sim: conf/gcp with its BigQuery entries replaced by conf/local's.\n"
        path.write_text(header + yaml.safe_dump(kept, sort_keys=False))


def dockerfile_copies(project: Path) -> list[str]:
    """The sources of the Dockerfile's COPY lines (each lands at the same path in WORKDIR)."""
    names = []
    for words in dockerfile_lines(project, "COPY"):
        names += [word.rstrip("/") for word in words[:-1] if not word.startswith("--")]
    return names


def dockerfile_lines(project: Path, instruction: str) -> list[list[str]]:
    """The words after ``instruction`` on each of its lines in the Dockerfile."""
    path = project / "Dockerfile"
    if not path.exists():
        raise SimulationError(f"{path} is missing: the steps run in the image it builds")
    text = path.read_text().replace("\\\n", " ")
    return [
        shlex.split(line.strip()[len(instruction) :])
        for line in text.splitlines()
        if line.strip().upper().startswith(instruction + " ")
    ]


def catalog_files(env_folder: Path) -> list[Path]:
    """Kedro's catalog patterns: catalog*, catalog*/**, **/catalog*."""
    return sorted(
        path
        for path in env_folder.rglob("*.y*ml")
        if any(part.startswith("catalog") for part in path.relative_to(env_folder).parts)
    )


def names_match(name: str, other: str) -> bool:
    """Equal, or one is a dataset factory pattern the other fits (``sql_{query}``)."""
    from parse import parse

    return name == other or any(
        "{" in pattern and parse(pattern, candidate) is not None
        for pattern, candidate in ((name, other), (other, name))
    )


def relocate(entry, data_root: str):
    """DuckDB reads local files: ``${globals:data_root}`` becomes the bucket's local folder."""
    if isinstance(entry, dict):
        return {key: relocate(value, data_root) for key, value in entry.items()}
    if isinstance(entry, list):
        return [relocate(value, data_root) for value in entry]
    if isinstance(entry, str):
        return entry.replace("${globals:data_root}", data_root)
    return entry


class Step:
    """One task of the spec: its container call, inputs, outputs and Kedro nodes."""

    def __init__(self, name: str, task: dict, spec: dict):
        component = spec["components"][task["componentRef"]["name"]]
        container = spec["deploymentSpec"]["executors"][component["executorLabel"]]["container"]
        self.name = name
        self.call = [*container.get("command", []), *container.get("args", [])]
        self.after = set(task.get("dependentTasks", []))
        self.inputs = task.get("inputs", {}).get("parameters", {})
        self.outputs = list(component.get("outputDefinitions", {}).get("parameters", {}))
        script = " ".join(self.call)
        nodes = re.search(r'--nodes "([^"]*)"', script)
        self.nodes = nodes.group(1).split(",") if nodes else []
        pipeline = re.search(r"--pipeline (\S+)", script)
        self.pipeline = pipeline.group(1) if pipeline else None


def read_steps(spec: dict) -> dict[str, Step]:
    """The spec's tasks in dependency order (Vertex AI starts a task when its parents end)."""
    tasks = spec["root"]["dag"]["tasks"]
    steps, ordered = {name: Step(name, task, spec) for name, task in tasks.items()}, {}
    while len(ordered) < len(steps):
        ready = [s for s in steps.values() if s.name not in ordered and s.after <= set(ordered)]
        if not ready:
            raise SimulationError(f"tasks {sorted(set(steps) - set(ordered))} wait in a cycle")
        ordered.update((step.name, step) for step in sorted(ready, key=lambda s: s.name))
    return ordered


def check_memory_hand_offs(steps: dict[str, Step], pipelines, catalog: dict) -> None:
    """Fail when a dataset that kedro-vertexai would leave in memory crosses two steps.

    Its runner replaces only the datasets the catalog does not declare and that are a step's
    free inputs or outputs (with pickles under the pipeline root): a declared MemoryDataset, or
    an undeclared dataset its own step also reads, stays in the memory of the step that wrote
    it. A pattern counts as declared (it does once the catalog has created its datasets).
    """
    from kedro.io import MemoryDataset
    from kedro.io.catalog_config_resolver import CatalogConfigResolver
    from kedro.io.core import parse_dataset_definition

    types = {name: entry for name, entry in catalog.items() if isinstance(entry, dict)}
    for entry in types.values():
        entry.pop("credentials", None)  # only the type matters here
    resolver = CatalogConfigResolver(types, default_runtime_patterns={})

    def declared(dataset: str) -> bool:
        return bool(
            dataset in types
            or resolver.match_dataset_pattern(dataset)
            or resolver.match_user_catch_all_pattern(dataset)
        )

    step_of = {node: step.name for step in steps.values() for node in step.nodes}
    problems = []
    for name in {step.pipeline for step in steps.values() if step.pipeline}:
        nodes = [node for node in pipelines[name].nodes if node.name in step_of]
        # Transcoded names (table@pandas, table@spark) are one dataset, as for Kedro's order.
        producer = {
            output.split("@")[0]: step_of[node.name] for node in nodes for output in node.outputs
        }
        read_in = {
            (dataset.split("@")[0], step_of[node.name]) for node in nodes for dataset in node.inputs
        }
        for node in nodes:
            for dataset in node.inputs:
                source, target = producer.get(dataset.split("@")[0]), step_of[node.name]
                if source in (None, target):
                    continue
                if not declared(dataset):
                    # The runner pickles only a step's free outputs: one its nodes also read
                    # stays in the writing step's memory.
                    if (dataset.split("@")[0], source) in read_in:
                        problems.append(
                            f"dataset '{dataset}' is written by step '{source}' and read by step "
                            f"'{target}', but the catalog does not declare it and a node of "
                            f"'{source}' reads it too: kedro-vertexai pickles only what a step "
                            "leaves unread, so it never leaves that step. Declare it in "
                            "conf/gcp (a file under the bucket)."
                        )
                    continue
                entry = resolver.resolve_pattern(dataset)
                dataset_class, _ = parse_dataset_definition(dict(entry))
                if issubclass(dataset_class, MemoryDataset):
                    problems.append(
                        f"dataset '{dataset}' is written by step '{source}' and read by step "
                        f"'{target}', but the gcp catalog declares it as {entry['type']}: "
                        "the reading step starts in a fresh container and finds nothing. "
                        "Persist it in conf/gcp (a file under the bucket) or group both nodes "
                        "into one step."
                    )
    if problems:
        raise SimulationError("held in memory across steps:\n  " + "\n  ".join(sorted(problems)))


def start_mlflow(work: Path, config) -> str:
    """The tracking "server": a sqlite file, and the experiment with its artifacts beside it."""
    import mlflow

    config.config_patterns.setdefault("mlflow", ["mlflow*", "mlflow*/**", "**/mlflow*"])
    experiment = config["mlflow"]["tracking"]["experiment"]["name"]
    uri = f"sqlite:///{work / 'mlflow.db'}"
    artifacts = (work / "mlartifacts").as_uri()
    mlflow.MlflowClient(tracking_uri=uri).create_experiment(experiment, artifacts)
    return uri


def container_environment(project: Path, work: Path, gs_root: Path) -> dict[str, str]:
    """What a step's container has: the image's ENV, Vertex AI's project variable, gs://."""
    environment = {
        "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "COLUMNS": "200",  # wide log lines (rich) in <work>/logs
        "CLOUD_ML_PROJECT_ID": PROJECT_ID,
        "PYTHONPATH": str(work / "site"),
        "VERTEX_SIM_GS_ROOT": str(gs_root),
    }
    for words in dockerfile_lines(project, "ENV"):
        environment.update(word.split("=", 1) for word in words if "=" in word)
    return environment


def run_steps(steps: dict[str, Step], work: Path, image: Path, environment: dict, job: str):
    """Each step in a fresh copy of the image, parents first; stop at the first failure."""
    (work / "logs").mkdir()
    placeholders = {"pipeline_job_uuid": str(uuid.uuid4()), "pipeline_job_name": job}
    outputs: dict[str, dict[str, str]] = {}
    for number, step in enumerate(steps.values(), 1):
        call = [fill(part, step, placeholders, outputs, work) for part in step.call]
        folder, log = work / "steps" / step.name, work / "logs" / f"{step.name}.log"
        shutil.copytree(image, folder)
        began = time.monotonic()
        with log.open("w") as stream:
            env = {**environment, "HOME": str(folder)}
            done = subprocess.run(call, cwd=folder, env=env, stdout=stream, stderr=stream)
        seconds = time.monotonic() - began
        if done.returncode != 0:
            raise SimulationError(
                f"step '{step.name}' failed (exit {done.returncode} after {seconds:.0f} s; its "
                f"folder is kept: {folder})\n--- end of {log}\n{tail(log.read_text())}"
            )
        outputs[step.name] = {
            key: (work / "outputs" / step.name / key).read_text() for key in step.outputs
        }
        shutil.rmtree(folder)
        print(f"[vertex-sim] step {number}/{len(steps)} {step.name} ok ({seconds:.0f} s)")


def fill(text: str, step: Step, job: dict, outputs: dict, work: Path) -> str:
    """Replace the spec's placeholders with what Vertex AI would give this step."""

    def value(match: re.Match) -> str:
        key = match.group(1)
        if key in job:
            return job[key]
        found = re.fullmatch(r"(inputs|outputs)\.parameters\['(.+)'\](\.output_file)?", key)
        if found and found.group(1) == "outputs":
            (work / "outputs" / step.name).mkdir(parents=True, exist_ok=True)
            return str(work / "outputs" / step.name / found.group(2))
        source = step.inputs.get(found.group(2), {}) if found else {}
        if "taskOutputParameter" in source:
            producer = source["taskOutputParameter"]
            return outputs[producer["producerTask"]][producer["outputParameterKey"]]
        if "runtimeValue" in source:
            return str(source["runtimeValue"]["constant"])
        raise SimulationError(
            f"step '{step.name}': placeholder {match.group(0)} has no value here (the simulation "
            "gives task outputs and constants, not pipeline run-time parameters)"
        )

    return PLACEHOLDER.sub(value, text)


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


if __name__ == "__main__":
    sys.exit(main())
