"""Which split feeds which node: a swapped input would leak labels or tune on the test set."""

import re

from ga4_mlops.pipeline_registry import register_pipelines

SPLIT_INPUT = re.compile(r"^(train|validation|calibration|test|scoring)_(set|features)$")


def short(name: str) -> str:
    """A node's name without its folder's namespace (``model_training.train_model``)."""
    return name.rsplit(".", 1)[-1]


def readers_of_each_split() -> dict[str, set[str]]:
    readers: dict[str, set[str]] = {}
    for node in register_pipelines()["training"].nodes:
        for name in node.inputs:
            match = SPLIT_INPUT.match(name)
            if match and not short(node.name).startswith("encode_"):
                readers.setdefault(match.group(1), set()).add(short(node.name))
    return readers


def test_each_split_feeds_only_its_nodes():
    readers = readers_of_each_split()
    # Optuna and early stopping see validation, and the refit on train + validation with the
    # early-stopped round count; nothing else does.
    assert readers["validation"] == {"tune_hyperparameters", "train_model"}
    # The calibrator is fitted on the calibration split only.
    assert readers["calibration"] == {"fit_calibrator"}
    # The test split is only measured: predictions for evaluation, SHAP, the gate, the
    # model's input example. No fitting node reads it.
    assert readers["test"] == {
        "predict_test_set",
        "compute_shap_values",
        "decide_promotion",
        "package_model",
    }
    # Fitting nodes, and the drift reference logged with the registered version.
    assert readers["train"] == {
        "fit_preprocessor",
        "train_baseline",
        "tune_hyperparameters",
        "train_model",
        "build_drift_reference",
    }
    assert "scoring" not in readers  # scored by batch_scoring, never trained on


def test_encoding_keeps_each_split_apart():
    for node in register_pipelines()["training"].nodes:
        if short(node.name).startswith("encode_"):
            split = short(node.name).removeprefix("encode_").removesuffix("_features")
            assert set(node.inputs) == {"preprocessor", f"{split}_set"}
            assert node.outputs == [f"{split}_features"]


def test_the_alias_moves_only_after_the_drift_references_are_logged():
    """Monitoring reads its references from the run behind the alias: promotion must wait."""
    nodes = {short(node.name): node for node in register_pipelines()["training"].nodes}
    logged = set(nodes["build_drift_reference"].outputs)
    assert logged & set(nodes["apply_promotion"].inputs)
