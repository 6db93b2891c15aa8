"""Fit the confidence model and pick each locale's threshold on labelled cases.

``normalizer calibrate`` runs the matcher in-process over development cases and
collects, for every case, the features of its top candidates. Per locale:

1. a logistic regression (Newton's method, L2-regularised, on standardised features)
   learns P(candidate is the expected canonical query | features); out-of-domain
   cases contribute only negatives;
2. every case is decided as the server would (best candidate by the new confidence,
   guard applied, exact matches always rewritten), and the threshold is the lowest
   confidence at which wrong rewrites stay within ``max_wrong_rate`` of all cases,
   both as counted on the cases and as expected from the fitted probabilities
   (the sum of 1 - confidence over the rewrites): the highest coverage that meets the
   target. The second bound keeps the threshold from sliding down to the last case
   seen when the development cases happen to contain no wrong rewrite near it.

The result is the ``calibration`` block of an index manifest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from normalizer.matching.confidence import FEATURES, LocaleCalibration

__all__ = ["Example", "choose_threshold", "fit_locale", "fit_logistic"]

# Candidates per case that teach the model: those that get phonetic scoring.
TRAINING_CANDIDATES = 5


@dataclass(frozen=True)
class Example:
    """One case's candidates: features, whether each is the expected query, guard verdicts."""

    features: Sequence[dict[str, float]]
    correct: Sequence[bool]
    allowed: Sequence[bool]
    exact: bool = False           # answered by exact match: rewritten, never wrong by itself
    exact_correct: bool = True


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0,
                 iterations: int = 100) -> tuple[np.ndarray, float]:
    """Weights and bias in the original feature units."""
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std[std < 1e-9] = 1.0
    z = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -35, 35)))
        gradient = z.T @ (p - y) + penalty * w
        hessian = z.T @ (z * (p * (1 - p))[:, None]) + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-9:
            break
    weights = w[:-1] / std
    bias = float(w[-1] - np.sum(w[:-1] * mean / std))
    return weights, bias


def _decisions(examples: Sequence[Example], model: LocaleCalibration
               ) -> list[tuple[float, bool | None]]:
    """(confidence, correct?) of what each case would be rewritten to; None = cannot be."""
    out: list[tuple[float, bool | None]] = []
    for ex in examples:
        if ex.exact:
            out.append((1.0, ex.exact_correct))
            continue
        if not ex.features:
            out.append((0.0, None))
            continue
        confidences = [model.score(f) for f in ex.features]
        best = int(np.argmax(confidences))
        out.append((confidences[best], ex.correct[best] if ex.allowed[best] else None))
    return out


def choose_threshold(decisions: Sequence[tuple[float, bool | None]],
                     max_wrong_rate: float) -> tuple[float, dict[str, float]]:
    """The lowest threshold whose wrong rewrites are within ``max_wrong_rate`` of all cases."""
    total = len(decisions)
    allowed_wrong = math.floor(max_wrong_rate * total + 1e-9)
    ranked = sorted(((c, ok) for c, ok in decisions if ok is not None), key=lambda d: -d[0])
    wrong, correct, expected = 0, 0, 0.0
    best = (1.0 + 1e-9, 0, 0, 0.0)
    i = 0
    while i < len(ranked):
        level = ranked[i][0]
        while i < len(ranked) and ranked[i][0] == level:
            correct += ranked[i][1] is True
            wrong += ranked[i][1] is False
            expected += 1.0 - ranked[i][0]
            i += 1
        if wrong > allowed_wrong or expected > max_wrong_rate * total:
            break
        best = (level, correct, wrong, expected)
    threshold, correct, wrong, expected = best
    return min(threshold, 1.0), {"cases": total, "rewritten_correct": correct,
                                 "rewritten_wrong": wrong,
                                 "wrong_rate": wrong / total if total else 0.0,
                                 "expected_wrong_rate": expected / total if total else 0.0}


def fit_locale(examples: Sequence[Example], max_wrong_rate: float,
               features: Sequence[str] = FEATURES) -> tuple[LocaleCalibration, dict[str, Any]]:
    """Fit one locale: the logistic model, then the threshold that meets the target."""
    rows, labels = [], []
    for ex in examples:
        for feats, ok in list(zip(ex.features, ex.correct, strict=True))[:TRAINING_CANDIDATES]:
            rows.append([feats[name] for name in features])
            labels.append(1.0 if ok else 0.0)
    if not rows or len(set(labels)) < 2:
        raise ValueError("calibration needs cases with both right and wrong candidates")
    weights, bias = fit_logistic(np.array(rows), np.array(labels))
    ranking = LocaleCalibration(dict(zip(features, map(float, weights), strict=True)), bias, 1.0)
    threshold, figures = choose_threshold(_decisions(examples, ranking), max_wrong_rate)
    fitted = LocaleCalibration(ranking.weights, ranking.bias, threshold)
    stats = {"training_candidates": len(rows), "positives": int(sum(labels)), "stage": "ranking"}
    # Stage 2, the decision: refit on the one candidate per case that the ranking model
    # would rewrite to (its best allowed one), so that the model learns to tell a right
    # rewrite from a wrong one rather than the right candidate from the easy runners-up
    # of its own case; kept only if it rewrites more at the same wrong-rate target.
    top_rows, top_labels = [], []
    for ex in examples:
        allowed = [i for i, ok in enumerate(ex.allowed) if ok]
        if ex.exact or not allowed:
            continue
        best = max(allowed, key=lambda i: ranking.score(ex.features[i]))
        top_rows.append([ex.features[best][name] for name in features])
        top_labels.append(1.0 if ex.correct[best] else 0.0)
    if len(set(top_labels)) == 2:
        x2 = np.array(top_rows)
        w2, b2 = fit_logistic(x2, np.array(top_labels))
        # A feature constant over these rows ('allowed' is 1 on every one) teaches nothing
        # here: it keeps its ranking weight, the bias keeping these rows' scores, so that a
        # blocked candidate still ranks below the allowed ones.
        for k in map(int, np.flatnonzero(x2.std(axis=0) < 1e-9)):
            b2 -= (ranking.weights[features[k]] - w2[k]) * float(x2[0, k])
            w2[k] = ranking.weights[features[k]]
        decision = LocaleCalibration(dict(zip(features, map(float, w2), strict=True)), b2, 1.0)
        t2, f2 = choose_threshold(_decisions(examples, decision), max_wrong_rate)
        if f2["rewritten_correct"] > figures["rewritten_correct"]:
            fitted, figures = LocaleCalibration(decision.weights, decision.bias, t2), f2
            stats.update(stage="decision", decision_examples=len(top_rows))
    return fitted, {**stats, **figures}


async def collect_examples(matcher: Any, requests: Sequence[Any], expected: Sequence[str | None],
                           locales: Sequence[str], batch: int = 64,
                           hidden: Sequence[int] | None = None) -> dict[str, list[Example]]:
    """Run ``matcher.score_all`` over the cases and gather examples per resolved locale.

    Cases whose locale the index lacks, or whose transcript is empty, teach nothing and
    are skipped. ``hidden[i]``: a catalog row case i is scored without (held-out texts).
    """
    from normalizer.matching.answer import Answer, Fallback

    index = matcher.index
    out: dict[str, list[Example]] = {}
    for start in range(0, len(requests), batch):
        chunk = requests[start:start + batch]
        results = await matcher.score_all(
            chunk, hidden[start:start + batch] if hidden is not None else None)
        for offset, result in enumerate(results):
            i = start + offset
            locale = index.resolve_locale(locales[i], matcher.default_locale)
            if locale is None:
                continue
            if isinstance(result, Answer):
                if result.fallback is Fallback.NONE:
                    out.setdefault(locale, []).append(Example(
                        (), (), (), exact=True, exact_correct=result.canonical_id == expected[i]))
                continue
            queries = index.locales[locale].data.queries
            out.setdefault(locale, []).append(Example(
                features=[c.features.as_dict() for c in result],
                correct=[queries[c.query_pos].id == expected[i] for c in result],
                allowed=[c.verdict is None or c.verdict.allowed for c in result]))
    return out


async def calibrate_store(store: Any, matcher: Any, cases: Sequence[Any], max_wrong_rate: float,
                          sources: Sequence[str], features: Sequence[str] = FEATURES,
                          use_alternatives: bool = True) -> tuple[str, dict[str, Any]]:
    """Fit every locale of the store's current version on ``cases``; publish the result.

    ``matcher`` must serve that version. Returns the new version and its calibration.
    """
    from datetime import datetime, timezone

    from normalizer.matching.answer import MatchRequest

    requests = [MatchRequest(c.transcript, c.locale, c.alternatives if use_alternatives else ())
                for c in cases]
    examples = await collect_examples(matcher, requests, [c.expected_id for c in cases],
                                      [c.locale for c in cases])
    locales: dict[str, Any] = {}
    for locale, items in sorted(examples.items()):
        model, figures = fit_locale(items, max_wrong_rate, features)
        locales[locale] = {"weights": dict(model.weights), "bias": model.bias,
                           "threshold": model.threshold, "dev": figures}
    calibration = {
        "method": "logistic",
        "source": "labelled",
        "features": list(features),
        "max_wrong_rate": max_wrong_rate,
        "fitted_on": list(sources),
        "fitted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "locales": locales,
    }
    version = store.recalibrate(matcher.index.version, calibration)
    return version, calibration
