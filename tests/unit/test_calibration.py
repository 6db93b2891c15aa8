"""Calibration: the logistic fit recovers a known model; thresholds meet the wrong-rate target."""

from __future__ import annotations

import numpy as np
import pytest

from normalizer.matching.calibration import Example, choose_threshold, fit_locale, fit_logistic
from normalizer.matching.confidence import ConfidenceModel, Features, LocaleCalibration


def test_fit_recovers_known_weights() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(20000, 2))
    true_w, true_b = np.array([2.0, -1.0]), 0.5
    p = 1 / (1 + np.exp(-(x @ true_w + true_b)))
    y = (rng.random(len(p)) < p).astype(float)
    w, b = fit_logistic(x, y, l2=0.0)
    np.testing.assert_allclose(w, true_w, atol=0.1)
    assert b == pytest.approx(true_b, abs=0.1)


def test_fit_handles_constant_feature() -> None:
    x = np.column_stack([np.linspace(0, 1, 100), np.ones(100)])
    y = (x[:, 0] > 0.5).astype(float)
    w, _ = fit_logistic(x, y)
    assert w[0] > 0 and w[1] == 0.0


def test_threshold_is_lowest_that_meets_target() -> None:
    # 100 cases: confident rights, a wrong at 0.99, rights at 0.985, two wrongs at 0.98.
    decisions = [(0.995, True)] * 50 + [(0.99, False)] + [(0.985, True)] * 20
    decisions += [(0.98, False)] * 2 + [(0.0, None)] * 27
    threshold, figures = choose_threshold(decisions, max_wrong_rate=0.01)
    assert threshold == 0.985                     # one wrong (1%) allowed, three are not
    assert figures["rewritten_correct"] == 70 and figures["rewritten_wrong"] == 1
    strict, strict_figures = choose_threshold(decisions, max_wrong_rate=0.0)
    assert strict == 1.0 and strict_figures["rewritten_wrong"] == 0


def test_expected_wrong_rate_bounds_the_threshold_without_observed_wrongs() -> None:
    # No wrong rewrite among the cases, but the model says the 0.6s are coin flips:
    # going down to 0.6 would expect 4 wrongs in 100 cases, over a 1% target.
    decisions = [(0.999, True)] * 60 + [(0.6, True)] * 10 + [(0.0, None)] * 30
    threshold, figures = choose_threshold(decisions, max_wrong_rate=0.01)
    assert threshold == 0.999
    assert figures["expected_wrong_rate"] == pytest.approx(0.0006)
    lenient, _ = choose_threshold(decisions, max_wrong_rate=0.05)
    assert lenient == 0.6


def test_threshold_when_even_the_top_is_wrong() -> None:
    threshold, figures = choose_threshold([(0.99, False), (0.5, True)], max_wrong_rate=0.0)
    assert threshold == 1.0 and figures["rewritten_wrong"] == 0


def test_fit_locale_separates_right_from_wrong_candidates() -> None:
    rng = np.random.default_rng(3)
    examples = []
    for _ in range(300):   # in-domain: the right candidate is closer and sounds alike
        right = {"dense": 0.93 + rng.normal(0, 0.02), "margin": 0.03, "phonetic": 0.9,
                 "agreement": 1.0, "allowed": 1.0}
        other = {"dense": 0.88 + rng.normal(0, 0.02), "margin": -0.03, "phonetic": 0.4,
                 "agreement": 0.0, "allowed": float(rng.random() < 0.5)}
        examples.append(Example([right, other], [True, False], [True, True]))
    for _ in range(100):   # out of domain: nothing sounds alike
        cand = {"dense": 0.88 + rng.normal(0, 0.02), "margin": 0.01, "phonetic": 0.3,
                "agreement": 1.0, "allowed": 1.0}
        examples.append(Example([cand], [False], [True]))
    model, figures = fit_locale(examples, max_wrong_rate=0.01,
                                features=("dense", "margin", "phonetic", "agreement", "allowed"))
    assert model.weights["phonetic"] > 0
    assert figures["wrong_rate"] <= 0.01
    assert figures["rewritten_correct"] >= 250


def test_guard_blocked_best_is_never_counted_as_rewrite() -> None:
    blocked = Example([{"dense": 0.99, "margin": 0.1, "phonetic": 1.0, "agreement": 1.0}],
                      [False], [False])
    model = LocaleCalibration({"dense": 10.0}, -5.0, 0.5)
    from normalizer.matching.calibration import _decisions
    assert _decisions([blocked], model) == [(model.score(blocked.features[0]), None)]


def test_uncalibrated_model_and_calibration_block() -> None:
    default = ConfidenceModel.from_calibration(None)
    assert default.score("zh-CN", Features(0.99, 0.1)) > 0.9
    assert default.score("zh-CN", Features(0.80, 0.1)) < 0.1
    fitted = ConfidenceModel.from_calibration({"locales": {"en-US": {
        "weights": {"phonetic": 4.0}, "bias": -2.0, "threshold": 0.7}}})
    assert fitted.threshold("en-US") == 0.7
    assert fitted.score("en-US", Features(0.0, 0.0, phonetic=0.5)) == pytest.approx(0.5)
    assert fitted.threshold("zh-CN") == default.threshold("zh-CN")


def test_the_decision_stage_learns_what_tells_a_right_rewrite_from_a_wrong_one() -> None:
    """Within a case the right candidate has the higher 'dense'; whether the case has a
    right candidate at all shows only in 'margin'. Fitted on all candidates the model
    ranks by dense; refitted on each case's top candidate it decides by margin too."""
    rng = np.random.default_rng(7)
    examples = []
    for i in range(800):
        in_domain = i % 2 == 0
        top = 0.9 + 0.05 * rng.standard_normal()
        margin = (0.3 if in_domain else 0.1) + 0.05 * rng.standard_normal()
        feats = [{"dense": top, "margin": margin},
                 {"dense": top - 0.3, "margin": -margin}]
        examples.append(Example(feats, [in_domain, False], [True, True]))
    _, stats = fit_locale(examples, 0.01, ["dense", "margin"])
    assert stats["stage"] == "decision"
    assert stats["rewritten_correct"] > 300 and stats["rewritten_wrong"] <= 8


def test_a_blocked_candidate_stays_below_the_allowed_one_after_the_decision_stage() -> None:
    """The decision stage sees allowed candidates only; 'allowed' keeps its ranking weight."""
    rng = np.random.default_rng(3)
    examples = []
    for i in range(600):
        right = i % 3 != 0
        margin = (0.3 if right else 0.05) + 0.05 * rng.standard_normal()
        blocked = {"dense": 0.97, "margin": 0.02, "allowed": 0.0}
        allowed = {"dense": 0.95, "margin": margin, "allowed": 1.0}
        examples.append(Example([blocked, allowed], [False, right], [False, True]))
    fitted, stats = fit_locale(examples, 0.01, ["dense", "margin", "allowed"])
    assert stats["stage"] == "decision"
    assert fitted.weights["allowed"] > 0
    assert fitted.score({"dense": 0.97, "margin": 0.3, "allowed": 0.0}) < fitted.score(
        {"dense": 0.95, "margin": 0.3, "allowed": 1.0})
