"""kit/new_blueprint.py on copies of the real blueprints, in a throwaway monorepo.

TextTest (make kit-check; stdlib only): the copy holds exactly FROM's tracked files under the
new names, no old name is left, its kit copies pass kit-check, and wrong arguments are refused.
RuntimeTest (make new-blueprint-test, at the end of make test): with FROM's installed .venv and
PYTHONPATH=<copy>/src, no new environment: the new package imports, kedro bootstraps the copy,
every pipeline and every catalog entry resolves, and nothing of FROM's package is imported. It
needs FROM's .venv: without one it fails when NEW_BLUEPRINT_RUNTIME=required (what make sets),
else it is skipped with the reason.
"""

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import tomllib
import unittest
from pathlib import Path

import new_blueprint
import sync
from new_blueprint import tracked_files

ROOT = Path(__file__).resolve().parents[1]
# The runtime check copies ga4-mlops: its environment loads fastest (kedro starts in ~10 s).
FROM, NAME = "ga4-mlops", "churn-ga4-mlops"  # NAME contains FROM: nothing is renamed twice
# Not longer than FROM's package: a longer one can push a line of prose past ruff's line length,
# which make new-blueprint reports but cannot fix (it fixes import order and line breaks).
RUNTIME_NAME = "churn-ml"
PROBE = """
import json, sys
from pathlib import Path
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

package = bootstrap_project(Path.cwd()).package_name
names = sorted(pipelines)
with KedroSession.create(project_path=Path.cwd()) as session:
    catalog = session.load_context().catalog
    datasets = {name: type(catalog.get(name)).__module__ for name in catalog.keys()}
print(json.dumps({
    "package": package,
    "file": sys.modules[package].__file__,
    "pipelines": names,
    "datasets": datasets,
    "modules": sorted({name.split(".")[0] for name in sys.modules}),
}))
"""


def monorepo(folder: Path) -> Path:
    """A monorepo in ``folder``: links to the real blueprints and kit files, and a copy of
    kit/manifest.toml (the one file outside NAME that new_blueprint writes)."""
    (folder / "kit").mkdir()
    shutil.copy(ROOT / "kit" / "manifest.toml", folder / "kit" / "manifest.toml")
    (folder / "kit" / "files").symlink_to(ROOT / "kit" / "files")
    (folder / "kit" / "blocks").symlink_to(ROOT / "kit" / "blocks")
    (folder / "docs").mkdir()  # not a blueprint
    for blueprint in sync.blueprints(ROOT):
        (folder / blueprint).symlink_to(ROOT / blueprint)
    return folder


def old_names(source: Path) -> list[str]:
    """How a blueprint names itself: folder, package in three spellings, registered models."""
    package = new_blueprint.package_of(source)
    files = tracked_files(source)
    models = new_blueprint.registered_models(source, files).values()
    return [source.name, package, package.upper(), package.replace("_", "-"), *models]


def names_left(copy: Path, old: list[str], new: list[str]) -> list[str]:
    """``path:line: name`` for every old name in a path or line of the copy, once the new
    names (which may contain an old one) are blanked out."""
    found = []
    for path in sorted(copy.rglob("*")):
        relative = path.relative_to(copy).as_posix()
        try:
            text = os.readlink(path) if path.is_symlink() else path.read_text(encoding="utf-8")
        except (IsADirectoryError, UnicodeDecodeError):
            text = ""
        for number, line in enumerate([relative, *text.splitlines()]):
            for name in sorted(new, key=len, reverse=True):
                line = line.replace(name, "")
            found += [f"{relative}:{number}: {name}" for name in old if name in line]
    return found


def experiment_and_models(folder: Path, files: list[str]) -> set[str]:
    """The MLflow experiment (conf/base/mlflow.yml) and registered model names of a blueprint."""
    mlflow = (folder / "conf" / "base" / "mlflow.yml").read_text(encoding="utf-8")
    experiment = re.search(r"^  experiment:\n    name: (\S+)", mlflow, re.MULTILINE).group(1)
    return {experiment, *new_blueprint.registered_models(folder, files).values()}


def run_main(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = new_blueprint.main(list(argv))
    return code, err.getvalue()


class TextTest(unittest.TestCase):
    def test_copy_has_the_tracked_files_under_new_names_and_passes_kit_check(self):
        # ga4-mlops: folder != package, registered models not named after it; recommender_ranking:
        # folder == package, carries the kit files kit/manifest.toml lists per blueprint.
        for source, name in ((FROM, NAME), ("recommender_ranking", "shop-rank")):
            with self.subTest(source=source), tempfile.TemporaryDirectory() as folder:
                root = monorepo(Path(folder))
                old_package = new_blueprint.package_of(root / source)
                package = name.replace("-", "_")
                self.assertEqual(run_main(name, source, "--root", str(root)), (0, ""))
                copy = root / name

                tracked = tracked_files(root / source)
                expected = {f.replace(old_package, package) for f in tracked}
                made = {p.relative_to(copy).as_posix() for p in copy.rglob("*") if not p.is_dir()}
                self.assertEqual(made, expected)  # no .venv, mlflow.db, data outputs, caches
                self.assertTrue((copy / "src" / package / "__init__.py").is_file())
                self.assertFalse((copy / "src" / old_package).exists())
                self.assertTrue((copy / "data" / "01_raw" / ".gitkeep").is_file())

                pyproject = tomllib.loads((copy / "pyproject.toml").read_text())
                self.assertEqual(pyproject["project"]["name"], package)
                self.assertEqual(pyproject["tool"]["kedro"]["package_name"], package)
                self.assertIn(pyproject["tool"]["kedro"]["project_name"], (name, package))
                self.assertEqual(sync.blueprints(root)[name], package)

                new = [name, package, package.upper(), package.replace("_", "-")]
                self.assertEqual(names_left(copy, old_names(root / source), new), [])
                registry = experiment_and_models(copy, sorted(made))
                self.assertTrue(all(entry.startswith(package) for entry in registry), registry)
                for other in sync.blueprints(ROOT):
                    theirs = experiment_and_models(ROOT / other, tracked_files(ROOT / other))
                    self.assertFalse(registry & theirs, f"{name} shares {registry & theirs}")

                manifest = root / "kit" / "manifest.toml"
                copies = [t for _, t, _ in sync.copies(root, root / "kit" / "files", manifest)]
                ours = [t for t in copies if t.is_relative_to(copy)]
                source_copies = [t for t in copies if t.is_relative_to(root / source)]
                self.assertEqual(
                    len(ours), len(source_copies)
                )  # manifest lists NAME where it lists FROM
                blocks = [
                    t for _, t, _ in sync.block_copies(root, root / "kit" / "files", manifest)
                ]
                self.assertEqual(
                    sum(t.is_relative_to(copy) for t in blocks),
                    sum(t.is_relative_to(root / source) for t in blocks),
                )  # and for its blocks
                problems = sync.check(root, root / "kit" / "files", manifest)
                self.assertEqual([p for p in problems if p.startswith(f"{name}/")], [])

    def test_refuses_naming_the_argument_and_what_was_expected(self):
        with tempfile.TemporaryDirectory() as folder:
            root = monorepo(Path(folder))
            before = sorted(p.name for p in root.iterdir())
            refused = {
                ("recommender_gnn", FROM): "NAME='recommender_gnn': ",  # exists
                ("docs", FROM): "NAME='docs': ",  # exists, not a blueprint
                ("churn", "docs"): "FROM='docs' is not a blueprint: expected",
                ("churn", "no-such-folder"): "FROM='no-such-folder' is not a blueprint",
                ("churn", ""): "FROM='' is not a blueprint",
                ("", FROM): "NAME='' is not a valid blueprint name: expected",
                ("Churn", FROM): "NAME='Churn' is not a valid",
                ("2churn", FROM): "NAME='2churn' is not a valid",
                ("churn--ga4", FROM): "NAME='churn--ga4' is not a valid",
                ("churn mlops", FROM): "NAME='churn mlops' is not a valid",
                ("../churn", FROM): "NAME='../churn' is not a valid",
                ("class", FROM): "NAME='class' gives the package 'class', which is a Python",
                ("json", FROM): "NAME='json' gives the package 'json'",
                ("zoo-shop", FROM): "NAME='zoo-shop' gives the package 'zoo_shop', which sorts",
                ("ga4_mlops", FROM): "already the package of the blueprint 'ga4-mlops'",
            }
            for (name, source), message in refused.items():
                with self.subTest(name=name, source=source):
                    code, err = run_main(name, source, "--root", str(root))
                    self.assertEqual(code, 2)
                    self.assertIn(message, err)
                    self.assertIn("expected", err)
            self.assertEqual(sorted(p.name for p in root.iterdir()), before)
            self.assertEqual(
                (root / "kit" / "manifest.toml").read_text(),
                (ROOT / "kit" / "manifest.toml").read_text(),
            )


def source_bin(test: unittest.TestCase, source: str = FROM) -> Path:
    """``source``'s .venv/bin, which runs the copies (no new install). Without it the test
    fails when make says the venv is required (NEW_BLUEPRINT_RUNTIME=required), else skips."""
    bin_dir = ROOT / source / ".venv" / "bin"
    if not (bin_dir / "kedro").exists():
        message = f"{source}/.venv is not installed (make -C {source} install)"
        if os.environ.get("NEW_BLUEPRINT_RUNTIME") == "required":
            test.fail(message)
        test.skipTest(message + "; make test runs this check after the install")
    return bin_dir


def run_in_copy(
    test: unittest.TestCase, copy: Path, python_path: list[Path], *command: str
) -> subprocess.CompletedProcess:
    """``command`` in ``copy`` with ``python_path`` first on PYTHONPATH; it must succeed."""
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(path) for path in python_path),
        "PYTHONDONTWRITEBYTECODE": "1",
        "KEDRO_DISABLE_TELEMETRY": "1",
        "OMP_WAIT_POLICY": "passive",
    }
    done = subprocess.run(
        command, cwd=copy, env=environment, capture_output=True, text=True, check=False
    )
    shown = " ".join(command[:4]) + (" <probe>" if command[1] == "-c" else "")
    test.assertEqual(done.returncode, 0, f"{shown} in {copy}:\n{done.stderr[-4000:]}")
    return done


# The copy's own tests RuntimeTest runs (those of them it has).
OWN_TESTS = ("test_pipeline_registry.py", "test_end_to_end.py")


class RuntimeTest(unittest.TestCase):
    def test_copy_imports_and_resolves_with_the_source_environment(self):
        bin_dir = source_bin(self)
        with tempfile.TemporaryDirectory() as folder:
            root = monorepo(Path(folder))
            with contextlib.redirect_stdout(io.StringIO()):
                made = new_blueprint.create(root, RUNTIME_NAME, FROM)
            self.assertEqual(made["lint"], [])  # FROM's ruff formatted the copy: lint-clean
            copy, package = root / RUNTIME_NAME, RUNTIME_NAME.replace("-", "_")

            def run(*command: str) -> str:
                return run_in_copy(self, copy, [copy / "src"], *command).stdout

            found = json.loads(run(str(bin_dir / "python"), "-c", PROBE).splitlines()[-1])
            self.assertEqual(found["package"], package)
            self.assertTrue(Path(found["file"]).is_relative_to(copy / "src" / package))
            self.assertIn("__default__", found["pipelines"])
            self.assertGreater(len(found["datasets"]), 10)
            ours = {m for m in found["datasets"].values() if m.startswith(f"{package}.")}
            self.assertTrue(ours, "no catalog entry uses a dataset class of the new package")
            old = new_blueprint.package_of(ROOT / FROM)
            self.assertFalse(
                old in found["modules"],
                f"the copy imported {old}, {FROM}'s package (from {FROM}'s editable install): "
                "a reference to it was not renamed",
            )

            listed = run(str(bin_dir / "kedro"), "registry", "list")
            self.assertTrue(all(f"- {name}" in listed for name in found["pipelines"]), listed)

            # The copy runs end to end: its own registry and end-to-end tests (a default
            # `kedro run` on its generated data through the CLI, then scoring alone) pass
            # under its new names. Its whole suite is FROM's, already run by make test.
            own_tests = [f"tests/{name}" for name in OWN_TESTS if (copy / "tests" / name).exists()]
            self.assertTrue(own_tests, f"the copy has none of {OWN_TESTS}")
            run(str(bin_dir / "pytest"), "-q", "-x", "-p", "no:cacheprovider", *own_tests)


if __name__ == "__main__":
    unittest.main()
