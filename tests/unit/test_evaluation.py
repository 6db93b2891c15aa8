"""The figures of normalizer eval, on hand-made outcomes."""

from __future__ import annotations

import math

import pytest

from normalizer.evaluation import Case, Outcome, curve, summarize


def outcome(expected: str | None, got: str | None, best: str | None = None,
            confidence: float = 0.9, fallback: str = "none", noise: str = "n") -> Outcome:
    return Outcome(Case("t", expected, "zh-CN", noise=noise), got, best or got, confidence,
                   fallback, "")


def test_rates_follow_the_contract() -> None:
    outcomes = [
        outcome("a", "a"), outcome("a", "a"), outcome("a", "b"),      # 2 right, 1 wrong id
        outcome("a", None, "a", 0.3, "below_threshold"),               # missed
        outcome(None, None, "a", 0.2, "below_threshold"),              # passed through
        outcome(None, "c"),                                            # OOD rewritten: wrong
    ]
    report = summarize(outcomes)
    fig = report.per_locale["zh-CN"]
    assert (fig.cases, fig.in_domain, fig.out_of_domain) == (6, 4, 2)
    rates = fig.rates()
    assert rates["correct"] == pytest.approx(2 / 4)
    assert rates["wrong"] == pytest.approx(2 / 6)      # of ALL cases
    assert rates["pass_through"] == pytest.approx(1 / 2)
    assert [o.normalized_to for o in report.wrong] == ["b", "c"]


def test_rates_without_out_of_domain_cases_are_nan() -> None:
    rates = summarize([outcome("a", "a")]).per_locale["zh-CN"].rates()
    assert rates["correct"] == 1.0 and math.isnan(rates["pass_through"])


def test_curve_replays_the_threshold_but_keeps_guard_decisions() -> None:
    outcomes = [
        outcome("a", "a", confidence=0.9),
        outcome("a", None, "a", 0.6, "below_threshold"),
        outcome(None, None, "b", 0.7, "below_threshold"),
        outcome(None, None, "b", 0.99, "guard"),          # never rewritten at any threshold
    ]
    low, mid, high = curve(outcomes, [0.5, 0.65, 0.95])
    assert (low["correct"], low["wrong"], low["pass_through"]) == (1.0, 0.25, 0.5)
    assert (mid["correct"], mid["wrong"], mid["pass_through"]) == (0.5, 0.25, 0.5)
    assert (high["correct"], high["wrong"], high["pass_through"]) == (0.0, 0.0, 1.0)
