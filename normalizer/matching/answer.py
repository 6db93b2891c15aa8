"""What matching is asked and what it answers, independent of the wire format."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Answer", "Fallback", "MatchRequest", "ScoredCandidate"]


class Fallback(enum.IntEnum):
    """Why the raw text was returned; numbers and names mirror ``normalizer.v1.Fallback``."""

    NONE = 0
    BELOW_THRESHOLD = 1
    EMPTY_TRANSCRIPT = 2
    UNKNOWN_LOCALE = 3
    EMBEDDER_UNAVAILABLE = 4
    DEADLINE = 5
    OVERLOADED = 6
    GUARD = 7

    @property
    def label(self) -> str:
        """The ``reason`` label of ``normalizer_fallbacks_total``."""
        return self.name.lower()


@dataclass(frozen=True)
class MatchRequest:
    """One transcript to answer, already validated."""

    transcript: str
    locale: str = ""                                   # "" = the server's default
    alternatives: tuple[tuple[str, float], ...] = ()   # ASR n-best (text, score)
    min_confidence: float = 0.0                        # 0 = the calibrated threshold
    max_candidates: int = 0
    request_id: str = ""


@dataclass(frozen=True)
class ScoredCandidate:
    """A canonical query considered for a transcript."""

    canonical_id: str
    text: str               # the canonical text
    matched_text: str       # the indexed text (canonical or variant) it matched through
    confidence: float       # calibrated, in [0, 1]


@dataclass(frozen=True)
class Answer:
    """The answer for one transcript: a canonical phrasing, or the raw text and why."""

    text: str
    normalized: bool
    canonical_id: str
    confidence: float
    fallback: Fallback
    index_version: str
    candidates: tuple[ScoredCandidate, ...] = ()
    reason: str = ""        # why this answer (NormalizeResponse.reason)
