"""``normalizer eval``: replay labelled cases against a server and report the figures.

Every case is sent once with ``max_candidates=1`` and the server's own threshold. The
answer gives the best candidate and its confidence even when the server fell back, so
one pass yields both the figures at the operating point and the whole curve of
correct / wrong / pass-through against the threshold.

Figures (CONTRACT.md §4), per locale; per noise label (how noisy the transcript is: a noise
kind, a level, a WER band); per ``phrasing`` (how the request was worded: ``catalog``,
``paraphrase``, ``slot_change``, ``out_of_domain``) and per phrasing and noise; and over
the *recoverable* cases, those whose noise leaves the request understandable to a person
(every label but ``UNRECOVERABLE``):

- correct: in-domain cases normalized to the expected id / in-domain cases
- wrong: cases normalized to another id, plus out-of-domain cases normalized / all cases
- pass-through: out-of-domain cases left raw / out-of-domain cases
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from normalizer._proto import normalizer_pb2 as pb
from normalizer.errors import CasesError
from normalizer.matching.answer import Fallback

__all__ = ["Case", "Outcome", "Report", "load_cases", "replay", "summarize", "write_plot"]

CASE_KEYS = {"transcript", "expected_id", "locale", "alternatives", "noise", "phrasing"}
# Noise labels past what a listener could still understand: a third of the characters
# changed (zh ``heavy``), more words wrong than right (``wer>0.5``), the generated
# ``garbled`` kind. The targets count correct rewrites of the other, recoverable cases.
UNRECOVERABLE = frozenset(("heavy", "wer>0.5", "garbled"))


@dataclass(frozen=True)
class Case:
    transcript: str
    expected_id: str | None
    locale: str
    alternatives: tuple[tuple[str, float], ...] = ()
    noise: str = "unlabelled"
    source: str = ""
    phrasing: str = ""

    @property
    def recoverable(self) -> bool:
        return self.noise not in UNRECOVERABLE


@dataclass(frozen=True)
class Outcome:
    """A case and what the server answered for it."""

    case: Case
    normalized_to: str | None      # canonical id, or None when left raw
    best_id: str | None            # best candidate, even when the server fell back
    confidence: float
    fallback: str
    matched_text: str
    reason: str = ""

    @property
    def in_domain(self) -> bool:
        return self.case.expected_id is not None

    def rewrite_at(self, threshold: float) -> str | None:
        """What the server would have rewritten to at ``threshold`` (guard decisions kept)."""
        if self.fallback in {"none", "below_threshold"} and self.best_id is not None:
            return self.best_id if self.confidence >= threshold else None
        return None


def load_cases(path: str | Path) -> list[Case]:
    """Read a JSON Lines cases file; every problem names ``file:line``."""
    cases = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CasesError(f"{path}: cannot read: {exc.strerror}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CasesError(f"{where}: not valid JSON: {exc.msg}") from exc
        if not isinstance(raw, dict):
            raise CasesError(f"{where}: each line must be a JSON object")
        unknown = set(raw) - CASE_KEYS
        if unknown:
            raise CasesError(f"{where}: unknown keys {sorted(unknown)}; "
                             f"allowed: {sorted(CASE_KEYS)}")
        for key in ("transcript", "locale"):
            if not isinstance(raw.get(key), str):
                raise CasesError(f"{where}: {key!r} must be a string")
        if "expected_id" not in raw or not (raw["expected_id"] is None
                                            or isinstance(raw["expected_id"], str)):
            raise CasesError(f"{where}: 'expected_id' must be a canonical id or null")
        alternatives = []
        for i, alt in enumerate(raw.get("alternatives") or []):
            if not (isinstance(alt, dict) and isinstance(alt.get("text"), str)
                    and isinstance(alt.get("score"), (int, float))):
                raise CasesError(f"{where}: alternatives[{i}] must be {{'text': str, "
                                 "'score': number}")
            alternatives.append((alt["text"], float(alt["score"])))
        cases.append(Case(raw["transcript"], raw["expected_id"], raw["locale"],
                          tuple(alternatives), str(raw.get("noise", "unlabelled")), where,
                          str(raw.get("phrasing") or "")))
    if not cases:
        raise CasesError(f"{path}: no cases")
    return cases


def to_request(case: Case, use_alternatives: bool = True) -> pb.NormalizeRequest:
    return pb.NormalizeRequest(
        transcript=case.transcript, locale=case.locale, max_candidates=1,
        alternatives=[pb.Hypothesis(text=t, score=s) for t, s in case.alternatives]
        if use_alternatives else [])


def replay(cases: Sequence[Case], responses: Sequence[pb.NormalizeResponse]) -> list[Outcome]:
    """Pair cases with the server's answers."""
    out = []
    for case, resp in zip(cases, responses, strict=True):
        best = resp.candidates[0] if resp.candidates else None
        out.append(Outcome(
            case=case,
            normalized_to=resp.canonical_id if resp.normalized else None,
            best_id=best.canonical_id if best else None,
            confidence=float(resp.confidence),
            fallback=Fallback(resp.fallback).label,
            matched_text=best.matched_text if best else "",
            reason=resp.reason,
        ))
    return out


@dataclass
class Figures:
    cases: int = 0
    in_domain: int = 0
    out_of_domain: int = 0
    correct: int = 0
    wrong: int = 0
    passed_through: int = 0

    def add(self, in_domain: bool, rewritten: str | None, expected: str | None) -> None:
        self.cases += 1
        if in_domain:
            self.in_domain += 1
            if rewritten is not None and rewritten == expected:
                self.correct += 1
            elif rewritten is not None:
                self.wrong += 1
        else:
            self.out_of_domain += 1
            if rewritten is None:
                self.passed_through += 1
            else:
                self.wrong += 1

    def rates(self) -> dict[str, float]:
        def rate(n: int, d: int) -> float:
            return n / d if d else math.nan
        return {"correct": rate(self.correct, self.in_domain),
                "wrong": rate(self.wrong, self.cases),
                "pass_through": rate(self.passed_through, self.out_of_domain)}

    def as_dict(self) -> dict[str, Any]:
        return {"cases": self.cases, "in_domain": self.in_domain,
                "out_of_domain": self.out_of_domain, **self.rates()}


@dataclass
class Report:
    per_locale: dict[str, Figures] = field(default_factory=dict)
    per_noise: dict[tuple[str, str], Figures] = field(default_factory=dict)
    recoverable: dict[str, Figures] = field(default_factory=dict)
    per_phrasing: dict[tuple[str, str], Figures] = field(default_factory=dict)
    per_phrasing_noise: dict[tuple[str, str, str], Figures] = field(default_factory=dict)
    wrong: list[Outcome] = field(default_factory=list)
    fallbacks: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "locales": {loc: f.as_dict() for loc, f in self.per_locale.items()},
            "noise": {f"{loc}/{noise}": f.as_dict()
                      for (loc, noise), f in sorted(self.per_noise.items())},
            "recoverable": {loc: f.as_dict() for loc, f in self.recoverable.items()},
            "phrasing": {f"{loc}/{p}": f.as_dict()
                         for (loc, p), f in sorted(self.per_phrasing.items())},
            "phrasing_noise": {f"{loc}/{p}/{noise}": f.as_dict()
                               for (loc, p, noise), f in sorted(self.per_phrasing_noise.items())},
            "fallbacks": self.fallbacks,
            "wrong_rewrites": [{"source": o.case.source, "transcript": o.case.transcript,
                                "expected_id": o.case.expected_id, "got": o.normalized_to,
                                "matched_text": o.matched_text,
                                "confidence": round(o.confidence, 4), "noise": o.case.noise,
                                "reason": o.reason}
                               for o in self.wrong],
        }


def summarize(outcomes: Iterable[Outcome]) -> Report:
    report = Report()
    for o in outcomes:
        loc = o.case.locale
        report.per_locale.setdefault(loc, Figures()).add(o.in_domain, o.normalized_to,
                                                         o.case.expected_id)
        figures = [report.per_noise.setdefault((loc, o.case.noise), Figures())]
        if o.case.recoverable:
            figures.append(report.recoverable.setdefault(loc, Figures()))
        if o.case.phrasing:
            figures.append(report.per_phrasing.setdefault((loc, o.case.phrasing), Figures()))
            figures.append(report.per_phrasing_noise.setdefault(
                (loc, o.case.phrasing, o.case.noise), Figures()))
        for f in figures:
            f.add(o.in_domain, o.normalized_to, o.case.expected_id)
        counts = report.fallbacks.setdefault(loc, defaultdict(int))
        counts[o.fallback] += 1
        if o.normalized_to is not None and o.normalized_to != o.case.expected_id:
            report.wrong.append(o)
    report.fallbacks = {loc: dict(c) for loc, c in report.fallbacks.items()}
    return report


def curve(outcomes: Sequence[Outcome], thresholds: Sequence[float]) -> list[dict[str, float]]:
    """Correct / wrong / pass-through rates at each threshold."""
    points = []
    for t in thresholds:
        fig = Figures()
        for o in outcomes:
            fig.add(o.in_domain, o.rewrite_at(t), o.case.expected_id)
        points.append({"threshold": t, **fig.rates()})
    return points


def format_report(report: Report) -> str:
    lines = [f"{'locale':<10}{'cases':<18}{'cases':>6}{'in-dom':>8}{'out':>6}"
             f"{'correct':>9}{'wrong':>8}{'pass-thru':>11}"]

    def row(loc: str, noise: str, f: Figures) -> str:
        r = f.rates()
        cells = [f"{100 * r[k]:.1f}%" if not math.isnan(r[k]) else "-"
                 for k in ("correct", "wrong", "pass_through")]
        return (f"{loc:<10}{noise:<18}{f.cases:>6}{f.in_domain:>8}{f.out_of_domain:>6}"
                f"{cells[0]:>9}{cells[1]:>8}{cells[2]:>11}")

    for loc, f in report.per_locale.items():
        lines.append(row(loc, "ALL", f))
        if loc in report.recoverable:
            lines.append(row("", "recoverable", report.recoverable[loc]))
        for (nloc, noise), nf in sorted(report.per_noise.items()):
            if nloc == loc:
                lines.append(row("", noise, nf))
        for (ploc, phrasing), pf in sorted(report.per_phrasing.items()):
            if ploc == loc:
                lines.append(row("", phrasing, pf))
                for (qloc, p, noise), qf in sorted(report.per_phrasing_noise.items()):
                    if qloc == loc and p == phrasing:
                        lines.append(row("", f"  {noise}", qf))
    lines.append("")
    for loc, counts in report.fallbacks.items():
        lines.append(f"answers {loc}: " + ", ".join(
            f"{name} {n}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1])))
    lines.append(f"wrong rewrites: {len(report.wrong)}")
    for o in report.wrong:
        lines.append(f"  {o.case.source}: {o.case.transcript!r} -> {o.normalized_to} via "
                     f"{o.matched_text!r} (expected {o.case.expected_id}, noise "
                     f"{o.case.noise}); passed because: {o.reason}")
    return "\n".join(lines)


def write_plot(outcomes: Sequence[Outcome], thresholds_by_locale: dict[str, float],
               path: str | Path) -> None:
    """PNG of correct / wrong / pass-through against the threshold, one panel per locale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    locales = sorted({o.case.locale for o in outcomes})
    grid = [i / 200 for i in range(201)]
    fig, axes = plt.subplots(1, len(locales), figsize=(6 * len(locales), 4.5), squeeze=False)
    for ax, loc in zip(axes[0], locales, strict=True):
        points = curve([o for o in outcomes if o.case.locale == loc], grid)
        for key, colour in (("correct", "tab:green"), ("wrong", "tab:red"),
                            ("pass_through", "tab:blue")):
            ax.plot(grid, [p[key] for p in points], label=key.replace("_", "-"), color=colour)
        op = thresholds_by_locale.get(loc)
        if op is not None:
            ax.axvline(op, color="black", linestyle="--", label=f"operating point {op:.2f}")
        ax.set_title(loc)
        ax.set_xlabel("confidence threshold")
        ax.set_ylabel("rate")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(loc="center left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
