"""Answers of repeated transcripts, kept per index version.

Voice traffic is dominated by a head of repeated requests. A transcript whose surface
key (NFKC, case-folded, no punctuation or spaces), locale, n-best alternatives and
answer-changing fields (``min_confidence``, ``max_candidates``) were answered before
under the same index version gets the same answer again, without embedding, search or
guard. Only answers that depend on nothing but the request and the index are kept:
never an embedder failure, a deadline or an overload.

The cache is least-recently-used and bounded both in entries and in (approximate)
bytes. It belongs to one index version: the first request after a reload empties it,
and an answer computed against the previous version is not stored.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from dataclasses import replace

from normalizer.catalog import surface_key
from normalizer.matching.answer import Answer, Fallback, MatchRequest
from normalizer.metrics import Metrics

__all__ = ["AnswerCache", "CacheKey"]

CacheKey = tuple[str, str, tuple[tuple[str, float], ...], float, int]

# Fallbacks that are a property of the request and the index, not of the moment.
_LASTING = frozenset({Fallback.NONE, Fallback.BELOW_THRESHOLD, Fallback.GUARD,
                      Fallback.EMPTY_TRANSCRIPT, Fallback.UNKNOWN_LOCALE})
# What an entry costs beyond its strings: the key and answer tuples, the dict slot.
_ENTRY_OVERHEAD = 400
_CANDIDATE_OVERHEAD = 120


def _size(key: CacheKey, answer: Answer) -> int:
    strings = [key[0], key[1], *(t for t, _ in key[2]), answer.text, answer.canonical_id,
               answer.index_version, answer.reason]
    for c in answer.candidates:
        strings += (c.canonical_id, c.text, c.matched_text)
    return (_ENTRY_OVERHEAD + _CANDIDATE_OVERHEAD * len(answer.candidates)
            + sum(sys.getsizeof(s) for s in strings))


class AnswerCache:
    """Answers by request, for one index version at a time; 0 entries or bytes: off."""

    def __init__(self, max_entries: int, max_bytes: int, metrics: Metrics) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.metrics = metrics
        self.version = ""
        self.bytes = 0
        self._entries: OrderedDict[CacheKey, tuple[Answer, int]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0 and self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def key(request: MatchRequest, locale: str) -> CacheKey:
        """``locale`` is the one the request resolves to (its own text if unknown)."""
        return (surface_key(request.transcript), locale, request.alternatives,
                request.min_confidence, request.max_candidates)

    def _follow(self, version: str) -> None:
        if version != self.version:
            self._entries.clear()
            self.bytes = 0
            self.version = version

    def get(self, version: str, key: CacheKey, request: MatchRequest) -> Answer | None:
        """The answer kept for ``key`` under ``version``, given as ``request``'s own."""
        if not self.enabled:
            return None
        self._follow(version)
        entry = self._entries.get(key)
        if entry is None:
            self.metrics.cache_misses.inc()
            return None
        self._entries.move_to_end(key)
        self.metrics.cache_hits.inc()
        answer = entry[0]
        # A raw-text answer is the caller's own text, punctuation and all.
        return answer if answer.normalized else replace(answer, text=request.transcript)

    def put(self, key: CacheKey, answer: Answer) -> None:
        if (not self.enabled or answer.fallback not in _LASTING
                or answer.index_version != self.version):
            return
        size = _size(key, answer)
        if size > self.max_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        self._entries[key] = (answer, size)
        self.bytes += size
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self.bytes -= dropped
