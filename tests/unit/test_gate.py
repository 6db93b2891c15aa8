"""The gate's verdict from outcomes: tolerances per locale, and which cases got worse."""

from __future__ import annotations

from normalizer.evaluation import Case, Outcome
from normalizer.gate import Tolerances, judge


def _outcome(expected: str | None, got: str | None, locale: str = "en-US",
             i: int = 0) -> Outcome:
    case = Case(f"t{i}", expected, locale, source=f"cases.jsonl:{i + 1}")
    return Outcome(case, got, got, 0.9 if got else 0.1, "none" if got else "below_threshold",
                   "", "because")


def _outcomes(answers: list[tuple[str | None, str | None]], locale: str = "en-US"
              ) -> list[Outcome]:
    return [_outcome(e, g, locale, i) for i, (e, g) in enumerate(answers)]


BASE = [("a", "a")] * 90 + [("a", None)] * 5 + [(None, None)] * 5      # 100 cases


def test_identical_outcomes_pass_even_with_zero_tolerance() -> None:
    result = judge("v2", _outcomes(BASE), Tolerances(0.0, 0.0), "v1", _outcomes(BASE))
    assert result.passed and result.worse == []


def test_one_more_wrong_in_a_hundred_exceeds_a_tenth_of_a_point() -> None:
    worse = [("a", "b"), *BASE[1:]]
    result = judge("v2", _outcomes(worse), Tolerances(0.001, 1.0), "v1", _outcomes(BASE))
    assert not result.passed
    assert result.problems == ["en-US: wrong rate rose 0.00% -> 1.00% (+1.00 points, allowed "
                               "+0.10 with --gate-max-wrong-increase)"]
    assert [(b.normalized_to, a.normalized_to) for b, a in result.worse] == [("a", "b")]
    assert judge("v2", _outcomes(worse), Tolerances(0.01, 1.0), "v1",
                 _outcomes(BASE)).passed                      # exactly at the tolerance


def test_correct_drop_beyond_tolerance_is_refused_and_named() -> None:
    fewer = [("a", None)] * 3 + BASE[3:]
    result = judge("v2", _outcomes(fewer), Tolerances(1.0, 0.02), "v1", _outcomes(BASE))
    assert not result.passed
    assert result.problems[0].startswith("en-US: correct rate fell 94.74% -> 91.58%")
    assert len(result.worse) == 3
    assert "gate: REFUSED: en-US: correct rate fell" in result.format()


def test_locales_are_judged_separately() -> None:
    zh_base = _outcomes(BASE, "zh-CN")
    zh_worse = _outcomes([("a", None)] * 10 + BASE[10:], "zh-CN")
    en = _outcomes(BASE * 9)                                  # a big, unchanged locale
    result = judge("v2", en + zh_worse, Tolerances(0.001, 0.005), "v1", en + zh_base)
    assert [p.split(":")[0] for p in result.problems] == ["zh-CN"]


def test_a_better_candidate_passes_and_lists_nothing_worse() -> None:
    better = [("a", "a")] * 95 + [(None, None)] * 5
    result = judge("v2", _outcomes(better), Tolerances(0.0, 0.0), "v1", _outcomes(BASE))
    assert result.passed and result.worse == []


def test_without_baseline_nothing_is_compared() -> None:
    result = judge("v1", _outcomes(BASE), Tolerances(0.0, 0.0), note="first build")
    assert result.passed and result.baseline is None
    assert "first build" in result.format()
