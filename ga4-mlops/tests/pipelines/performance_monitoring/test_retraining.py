"""The retraining decision: each reason on its own, thresholds from parameters."""

from ga4_mlops.pipelines.performance_monitoring.retraining import decide_retraining

PARAMS = {
    "min_drift_alerts": 1,
    "decay_weeks": 2,
    "decay": {"max_roc_auc_drop": 0.05, "max_pr_auc_drop": 0.05, "max_ece": 0.03},
}
NO_DRIFT = {"drift_detected": False, "alert_features": [], "warn_features": []}
NOTHING_YET = {"status": "nothing to evaluate yet", "history": []}


def week(day: str, roc_auc_change: float, ece: float = 0.01) -> dict:
    return {
        "as_of_date": day,
        "roc_auc_change": roc_auc_change,
        "pr_auc_change": 0.0,
        "lift_at_5pct_change": 0.0,
        "ece": ece,
    }


def performance(*weeks: dict) -> dict:
    return {"status": "evaluated", "history": list(weeks)}


def test_no_drift_and_no_decay_keeps_the_model():
    decision, tags = decide_retraining(
        NO_DRIFT, performance(week("2021-01-18", -0.01), week("2021-01-25", 0.0)), PARAMS
    )
    assert decision["retrain"] is False and decision["reasons"] == []
    assert tags == {"decision": "keep", "reasons": "none"}


def test_nothing_evaluated_yet_is_no_reason_to_retrain():
    decision, _ = decide_retraining(NO_DRIFT, NOTHING_YET, PARAMS)
    assert decision["retrain"] is False
    assert decision["performance_status"] == "nothing to evaluate yet"


def test_a_drift_alert_is_a_reason_and_names_the_features():
    drift = {"drift_detected": True, "alert_features": ["first_touch_medium"]}
    decision, tags = decide_retraining(drift, NOTHING_YET, PARAMS)
    assert decision["retrain"] is True
    assert "first_touch_medium" in decision["reasons"][0]
    assert tags["decision"] == "retrain" and "first_touch_medium" in tags["reasons"]
    assert (
        decide_retraining(drift, NOTHING_YET, {**PARAMS, "min_drift_alerts": 2})[0]["retrain"]
        is False
    )


def test_decay_must_last_decay_weeks():
    one_bad = performance(week("2021-01-18", 0.0), week("2021-01-25", -0.08))
    assert decide_retraining(NO_DRIFT, one_bad, PARAMS)[0]["retrain"] is False
    two_bad = performance(week("2021-01-18", -0.06), week("2021-01-25", 0.0, ece=0.05))
    decision, _ = decide_retraining(NO_DRIFT, two_bad, PARAMS)
    assert decision["retrain"] is True
    assert "2021-01-18: ROC-AUC -0.060 vs test" in decision["reasons"][0]
    assert "2021-01-25: ECE 0.0500 > 0.03" in decision["reasons"][0]
    assert decide_retraining(NO_DRIFT, one_bad, {**PARAMS, "decay_weeks": 1})[0]["retrain"]


def test_the_decision_says_the_champion_is_left_alone():
    decision, _ = decide_retraining(NO_DRIFT, NOTHING_YET, PARAMS)
    assert decision["champion"].startswith("unchanged")
