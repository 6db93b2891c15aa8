"""The evaluation gate: judge a staged index version against the current one.

``index build --gate-cases FILE`` replays labelled cases (CONTRACT.md §4) against both
versions, in-process, with the same matcher ``serve`` runs, and refuses to publish when,
in any locale, the candidate's wrong rate rises by more than ``max_wrong_increase`` or
its correct rate falls by more than ``max_correct_drop`` (both fractions: 0.001 is 0.1
points). It prints both versions' figures and every case whose answer got worse (right
-> raw or wrong, raw -> wrong).

The transcripts are embedded once: the second replay takes them from an in-memory
embedding cache. An embedder failure during a replay is an error, not a figure: a gate
that cannot evaluate publishes nothing. Without a comparable current version (the
first build, a broken current version, another embedding model) there is nothing to
compare with; the candidate's figures are printed and it is published.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry

from normalizer.config import Settings
from normalizer.embedding import Embedder
from normalizer.errors import EmbedderUnavailableError
from normalizer.evaluation import Case, Outcome, Report, replay, summarize
from normalizer.index.store import StoredIndex
from normalizer.matching.answer import MatchRequest
from normalizer.matching.matcher import Matcher, ServedIndex
from normalizer.metrics import Metrics
from normalizer.service.servicer import to_response

__all__ = ["GateResult", "Tolerances", "judge", "replay_version"]

BATCH = 32
# Replays are not on the request path: the embedder's own (patient) timeout and
# retries bound each call, not the request deadline.
REPLAY_TIMEOUT = 600.0
FAILED_EMBEDDING = {"embedder_unavailable", "deadline"}
SHOWN_WORSE = 50


@dataclass(frozen=True)
class Tolerances:
    max_wrong_increase: float
    max_correct_drop: float


@dataclass
class GateResult:
    """The gate's verdict and everything it is based on."""

    candidate_version: str
    candidate: Report
    tolerances: Tolerances
    baseline_version: str | None = None
    baseline: Report | None = None
    problems: list[str] = field(default_factory=list)
    worse: list[tuple[Outcome, Outcome]] = field(default_factory=list)   # (before, after)
    note: str = ""

    @property
    def passed(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        def figures(report: Report | None) -> dict[str, Any] | None:
            return None if report is None else {
                loc: f.as_dict() for loc, f in report.per_locale.items()}
        return {
            "passed": self.passed, "candidate_version": self.candidate_version,
            "baseline_version": self.baseline_version, "note": self.note,
            "problems": self.problems,
            "candidate": figures(self.candidate), "baseline": figures(self.baseline),
            "worse": [{"source": b.case.source, "transcript": b.case.transcript,
                       "expected_id": b.case.expected_id, "before": _answer(b),
                       "after": _answer(a), "reason": a.reason} for b, a in self.worse],
        }

    def format(self) -> str:
        tolerances = self.tolerances
        lines = [f"gate: candidate {self.candidate_version} against "
                 f"{self.baseline_version or 'nothing'}"
                 f" (allowed: wrong +{100 * tolerances.max_wrong_increase:.2f} points, "
                 f"correct -{100 * tolerances.max_correct_drop:.2f} points per locale)"]
        if self.note:
            lines.append(f"gate: {self.note}")
        lines.append(f"  {'locale':<8}{'cases':>6}  {'correct':<24}{'wrong':<24}")
        for loc, figures in self.candidate.per_locale.items():
            base = self.baseline.per_locale.get(loc) if self.baseline else None
            cells = []
            for key in ("correct", "wrong"):
                new = figures.rates()[key]
                cells.append(f"{_pct(base.rates()[key])} -> {_pct(new)}" if base else _pct(new))
            lines.append(f"  {loc:<8}{figures.cases:>6}  {cells[0]:<24}{cells[1]:<24}")
        if self.worse:
            lines.append(f"cases that got worse: {len(self.worse)}")
            for before, after in self.worse[:SHOWN_WORSE]:
                lines.append(f"  {before.case.source}: {before.case.transcript!r} (expected "
                             f"{before.case.expected_id}): {_answer(before)} -> "
                             f"{_answer(after)}; {after.reason}")
            if len(self.worse) > SHOWN_WORSE:
                lines.append(f"  ... and {len(self.worse) - SHOWN_WORSE} more")
        lines.append("gate: passed" if self.passed else
                     "gate: REFUSED: " + "; ".join(self.problems))
        return "\n".join(lines)


def _pct(rate: float) -> str:
    return "-" if math.isnan(rate) else f"{100 * rate:.2f}%"


def _answer(o: Outcome) -> str:
    return o.normalized_to if o.normalized_to is not None else f"raw ({o.fallback})"


def _rank(o: Outcome) -> int:
    """2 right (the expected id, or raw for out-of-domain), 1 raw in-domain, 0 wrong."""
    if o.normalized_to is None:
        return 1 if o.in_domain else 2
    return 2 if o.normalized_to == o.case.expected_id else 0


async def replay_version(stored: StoredIndex, embedder: Embedder, settings: Settings,
                         cases: Sequence[Case], use_alternatives: bool = True
                         ) -> list[Outcome]:
    """Answer ``cases`` with ``stored`` as ``serve`` would (same matcher and settings)."""
    matcher = Matcher.from_settings(embedder, Metrics(CollectorRegistry()),
                                    dataclasses.replace(settings, embedder_timeout=REPLAY_TIMEOUT))
    matcher.set_index(ServedIndex.from_stored(stored))
    answers = []
    for start in range(0, len(cases), BATCH):
        chunk = cases[start:start + BATCH]
        requests = [MatchRequest(c.transcript, c.locale,
                                 c.alternatives if use_alternatives else (), max_candidates=1)
                    for c in chunk]
        answers.extend(await matcher.answer(requests, time.monotonic() + REPLAY_TIMEOUT))
    outcomes = replay(cases, [to_response(a) for a in answers])
    failed = [o for o in outcomes if o.fallback in FAILED_EMBEDDING]
    if failed:
        raise EmbedderUnavailableError(
            f"the gate could not evaluate version {stored.version}: the embedder failed for "
            f"{len(failed)} of {len(cases)} cases (first: {failed[0].case.source}: "
            f"{failed[0].reason}); nothing was published")
    return outcomes


def judge(candidate_version: str, candidate: Sequence[Outcome], tolerances: Tolerances,
          baseline_version: str | None = None, baseline: Sequence[Outcome] | None = None,
          note: str = "") -> GateResult:
    """Compare the candidate's outcomes with the baseline's (same cases, same order)."""
    result = GateResult(candidate_version, summarize(candidate), tolerances, note=note)
    if baseline is None:
        return result
    result.baseline_version = baseline_version
    result.baseline = summarize(baseline)
    result.worse = [(b, a) for b, a in zip(baseline, candidate, strict=True)
                    if _rank(a) < _rank(b)]
    eps = 1e-9
    for loc, after in result.candidate.per_locale.items():
        before = result.baseline.per_locale[loc]
        old, new = before.rates(), after.rates()
        rise = new["wrong"] - old["wrong"]
        if rise > tolerances.max_wrong_increase + eps:
            result.problems.append(
                f"{loc}: wrong rate rose {_pct(old['wrong'])} -> {_pct(new['wrong'])} "
                f"(+{100 * rise:.2f} points, allowed +{100 * tolerances.max_wrong_increase:.2f}"
                " with --gate-max-wrong-increase)")
        if not (math.isnan(old["correct"]) or math.isnan(new["correct"])):
            drop = old["correct"] - new["correct"]
            if drop > tolerances.max_correct_drop + eps:
                result.problems.append(
                    f"{loc}: correct rate fell {_pct(old['correct'])} -> "
                    f"{_pct(new['correct'])} (-{100 * drop:.2f} points, allowed "
                    f"-{100 * tolerances.max_correct_drop:.2f} with --gate-max-correct-drop)")
    return result
