"""The one Optuna search-space format (recommender_ranking/search_space.py). Kit file."""

import optuna
import pytest

from recommender_ranking.search_space import suggest

SPACE = {
    "leaves": {"type": "int", "low": 4, "high": 64, "log": True},
    "rate": {"type": "float", "low": 0.001, "high": 0.1, "log": True},
    "share": {"type": "float", "low": 0.5, "high": 1.0},
    "rounds": {"type": "int", "low": 1, "high": 3},
    "size": {"type": "categorical", "choices": [16, 32, 64]},
}


def _trials(space: dict, n: int = 5) -> list[optuna.trial.FrozenTrial]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(lambda trial: float(len(suggest(trial, space, "model"))), n_trials=n)
    return study.trials


def test_each_type_draws_in_its_range_in_the_order_written():
    for trial in _trials(SPACE):
        values = trial.params
        assert list(values) == list(SPACE)
        assert isinstance(values["leaves"], int) and 4 <= values["leaves"] <= 64
        assert 0.001 <= values["rate"] <= 0.1 and 0.5 <= values["share"] <= 1.0
        assert values["rounds"] in (1, 2, 3) and values["size"] in (16, 32, 64)
    distributions = _trials(SPACE, 1)[0].distributions
    assert distributions["leaves"] == optuna.distributions.IntDistribution(4, 64, log=True)
    assert distributions["rate"] == optuna.distributions.FloatDistribution(0.001, 0.1, log=True)
    assert distributions["share"] == optuna.distributions.FloatDistribution(0.5, 1.0)
    assert distributions["rounds"] == optuna.distributions.IntDistribution(1, 3)
    assert distributions["size"] == optuna.distributions.CategoricalDistribution([16, 32, 64])


def test_the_values_are_what_the_trial_drew_and_seeded():
    trial = optuna.create_study().ask({"size": optuna.distributions.CategoricalDistribution([8])})
    assert suggest(trial, {"size": {"type": "categorical", "choices": [8]}}, "m") == {"size": 8}
    assert [t.params for t in _trials(SPACE)] == [t.params for t in _trials(SPACE)]


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        ({"type": "real", "low": 0, "high": 1}, r"type must be int, float or categorical"),
        ([7, 63], r"type must be int, float or categorical .*got \[7, 63\]"),
        ({"low": 0, "high": 1}, r"type must be .*got None"),
        ({"type": "int", "low": 1}, r"type int needs low and high .*missing high"),
        ({"type": "float", "high": 1.0}, r"type float needs low and high .*missing low"),
        ({"type": "categorical", "values": [1, 2]}, r"type categorical needs choices"),
    ],
)
def test_a_wrong_entry_is_named_with_what_was_expected(space, expected):
    trial = optuna.create_study().ask()
    with pytest.raises(ValueError, match=r"^params a\.b\.search_space\.x: " + expected):
        suggest(trial, {"x": space}, "a.b")
