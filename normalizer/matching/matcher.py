"""From transcript to answer: exact match, embed, search, score, decide.

For each transcript, in order:

1. no text -> ``EMPTY_TRANSCRIPT``; a locale the index lacks -> ``UNKNOWN_LOCALE``;
2. exact match: a transcript whose surface key (NFKC, case-folded, without
   punctuation and spaces) equals a catalog text's is answered at once, no embedding;
3. every hypothesis (the 1-best and the n-best alternatives) of every pending
   transcript is embedded in one embedder call, bounded by the embedder timeout and
   the caller's deadline (-> ``EMBEDDER_UNAVAILABLE`` / ``DEADLINE``);
4. FAISS returns the top-k rows per hypothesis; rows are merged per canonical query;
5. each candidate gets a confidence; the best one must reach the threshold
   (-> ``BELOW_THRESHOLD``) and pass the difference guard (-> ``GUARD``).

A wrong rewrite is worse than no rewrite: every step that is unsure returns the raw
transcript, and says why.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from normalizer.catalog import canonical_locale
from normalizer.embedding import Embedder
from normalizer.errors import EmbedderError
from normalizer.index.store import LocaleData, StoredIndex
from normalizer.matching.answer import Answer, Fallback, MatchRequest, ScoredCandidate
from normalizer.matching.confidence import ConfidenceModel
from normalizer.matching.surface import surface_key
from normalizer.metrics import Metrics

__all__ = ["Matcher", "ServedIndex"]

logger = logging.getLogger(__name__)

# Time kept back from the caller's deadline to build and send the answer.
DEADLINE_MARGIN = 0.010


@dataclass(frozen=True)
class _LocaleView:
    data: LocaleData
    exact: dict[str, int]          # surface key -> position of the query in data.queries


@dataclass(frozen=True)
class ServedIndex:
    """A loaded index version with what matching derives from it once, at load time."""

    stored: StoredIndex
    locales: dict[str, _LocaleView]
    confidence: ConfidenceModel

    @classmethod
    def from_stored(cls, stored: StoredIndex) -> ServedIndex:
        views = {}
        for locale, data in stored.locales.items():
            pairs = zip(data.row_query, data.row_text, strict=True)
            exact = {surface_key(text): int(qi) for qi, text in pairs}
            views[locale] = _LocaleView(data, exact)
        return cls(stored, views, ConfidenceModel.from_calibration(stored.calibration))

    @property
    def version(self) -> str:
        return self.stored.version

    def resolve_locale(self, requested: str, default: str) -> str | None:
        locale = canonical_locale(requested) if requested.strip() else default
        return locale if locale in self.locales else None


@dataclass
class _Pending:
    position: int
    request: MatchRequest
    locale: str
    hypotheses: list[tuple[str, float]]    # (text, ASR score), the 1-best first


class Matcher:
    """Answers transcripts against the index it is given; the index can be swapped live."""

    def __init__(self, embedder: Embedder, metrics: Metrics, *, default_locale: str,
                 top_k: int, min_confidence: float | None, embedder_timeout: float) -> None:
        self.embedder = embedder
        self.metrics = metrics
        self.default_locale = canonical_locale(default_locale)
        self.top_k = top_k
        self.min_confidence = min_confidence
        self.embedder_timeout = embedder_timeout
        self._index: ServedIndex | None = None

    @property
    def index(self) -> ServedIndex:
        if self._index is None:
            raise RuntimeError("Matcher.set_index() was not called")
        return self._index

    def set_index(self, index: ServedIndex) -> None:
        """Serve ``index`` from the next request on; requests under way keep theirs."""
        self._index = index

    def threshold(self, locale: str, requested: float = 0.0) -> float:
        """The request's own threshold, else the operator's, else the calibrated one."""
        if requested > 0:
            return requested
        if self.min_confidence is not None:
            return self.min_confidence
        return self.index.confidence.threshold(locale)

    async def answer(self, requests: Sequence[MatchRequest], deadline: float) -> list[Answer]:
        """Answer every request; ``deadline`` is an absolute ``time.monotonic()`` value."""
        index = self.index
        answers: list[Answer | None] = [None] * len(requests)
        pending: list[_Pending] = []
        for pos, req in enumerate(requests):
            early = self._answer_without_embedding(index, req)
            if isinstance(early, Answer):
                answers[pos] = early
            else:
                hyps = [(req.transcript, 1.0)]
                seen = {req.transcript}
                for text, score in req.alternatives:
                    if text.strip() and text not in seen:
                        seen.add(text)
                        hyps.append((text, score))
                pending.append(_Pending(pos, req, early, hyps))
        if pending:
            for pos, ans in self._answer_embedded(index, pending, await self._embed(
                    index, pending, deadline)).items():
                answers[pos] = ans
        return [a for a in answers if a is not None]

    def _answer_without_embedding(self, index: ServedIndex, req: MatchRequest) -> Answer | str:
        """An answer that needs no embedding, or the resolved locale to embed for."""
        if not req.transcript.strip():
            return _fallback(req, index, Fallback.EMPTY_TRANSCRIPT, "empty transcript")
        locale = index.resolve_locale(req.locale, self.default_locale)
        if locale is None:
            return _fallback(req, index, Fallback.UNKNOWN_LOCALE,
                             f"locale {req.locale or self.default_locale!r} is not in the index; "
                             f"served: {', '.join(index.locales)}")
        view = index.locales[locale]
        hit = view.exact.get(surface_key(req.transcript))
        if hit is not None:
            query = view.data.queries[hit]
            cand = ScoredCandidate(query.id, query.text, query.text, 1.0, 1.0, req.transcript)
            return Answer(query.text, True, query.id, 1.0, Fallback.NONE, index.version,
                          (cand,)[: req.max_candidates], "exact match")
        return locale

    async def _embed(self, index: ServedIndex, pending: list[_Pending],
                     deadline: float) -> np.ndarray | Fallback:
        texts = [text for p in pending for text, _ in p.hypotheses]
        budget = deadline - time.monotonic() - DEADLINE_MARGIN
        limited_by_deadline = budget < self.embedder_timeout
        if budget <= 0:
            return Fallback.DEADLINE
        started = time.perf_counter()
        try:
            vectors = await asyncio.wait_for(self.embedder.embed(texts, "query"),
                                             min(budget, self.embedder_timeout))
        except asyncio.TimeoutError:
            reason = Fallback.DEADLINE if limited_by_deadline else Fallback.EMBEDDER_UNAVAILABLE
            logger.warning("embedder gave no answer for %d texts within %.3fs (%s)",
                           len(texts), min(budget, self.embedder_timeout), reason.label)
            return reason
        except EmbedderError as exc:
            logger.warning("embedder failed for %d texts: %s", len(texts), exc)
            return Fallback.EMBEDDER_UNAVAILABLE
        finally:
            self.metrics.embed_duration.observe(time.perf_counter() - started)
        if vectors.shape[1] != index.stored.embedding.dimensions:
            logger.error("embedder returned %d dimensions, the index has %d; was the embedding "
                         "server restarted with another model?", vectors.shape[1],
                         index.stored.embedding.dimensions)
            return Fallback.EMBEDDER_UNAVAILABLE
        return vectors

    def _answer_embedded(self, index: ServedIndex, pending: list[_Pending],
                         vectors: np.ndarray | Fallback) -> dict[int, Answer]:
        if isinstance(vectors, Fallback):
            reason = ("embedder unavailable" if vectors is Fallback.EMBEDDER_UNAVAILABLE
                      else "deadline reached before the embedder answered")
            return {p.position: _fallback(p.request, index, vectors, reason) for p in pending}
        out: dict[int, Answer] = {}
        row = 0
        for p in pending:
            count = len(p.hypotheses)
            out[p.position] = self._decide(index, p, vectors[row:row + count])
            row += count
        return out

    def _decide(self, index: ServedIndex, p: _Pending, vectors: np.ndarray) -> Answer:
        view = index.locales[p.locale]
        started = time.perf_counter()
        scores, rows = view.data.vectors.search(vectors, self.top_k)
        self.metrics.search_duration.observe(time.perf_counter() - started)
        candidates = self._candidates(index, view, p, scores, rows)
        if not candidates:
            return _fallback(p.request, index, Fallback.BELOW_THRESHOLD, "no candidates")
        best = candidates[0]
        self.metrics.confidence.observe(best.confidence)
        shown = tuple(candidates[: p.request.max_candidates])
        threshold = self.threshold(p.locale, p.request.min_confidence)
        if best.confidence < threshold:
            return _fallback(p.request, index, Fallback.BELOW_THRESHOLD,
                             f"confidence {best.confidence:.3f} < {threshold:.3f} for "
                             f"{best.canonical_id!r}", best.confidence, shown)
        return Answer(best.text, True, best.canonical_id, best.confidence, Fallback.NONE,
                      index.version, shown, f"confidence {best.confidence:.3f} >= {threshold:.3f}")

    def _candidates(self, index: ServedIndex, view: _LocaleView, p: _Pending,
                    scores: np.ndarray, rows: np.ndarray) -> list[ScoredCandidate]:
        """Merge the rows of every hypothesis per canonical query, keeping each one's best."""
        best: dict[int, tuple[float, int, int]] = {}   # query -> (dense, row, hypothesis)
        for h, (hyp_scores, hyp_rows) in enumerate(zip(scores, rows, strict=True)):
            for score, r in zip(hyp_scores, hyp_rows, strict=True):
                if r < 0:
                    continue
                qi = int(view.data.row_query[r])
                if qi not in best or score > best[qi][0]:
                    best[qi] = (float(score), int(r), h)
        ranked = sorted(best.items(), key=lambda item: -item[1][0])
        out = []
        for rank, (qi, (dense, r, h)) in enumerate(ranked):
            runner_up = ranked[rank + 1][1][0] if rank + 1 < len(ranked) else 0.0
            query = view.data.queries[qi]
            conf = index.confidence.score(p.locale, dense, dense - runner_up)
            out.append(ScoredCandidate(query.id, query.text, view.data.row_text[r], conf, dense,
                                       p.hypotheses[h][0]))
        out.sort(key=lambda c: -c.confidence)
        return out


def _fallback(req: MatchRequest, index: ServedIndex, why: Fallback, reason: str,
              confidence: float = 0.0, candidates: tuple[ScoredCandidate, ...] = ()) -> Answer:
    return Answer(req.transcript, False, "", confidence, why, index.version, candidates, reason)
