"""From transcript to answer: exact match, embed, search, score, guard, decide.

For each transcript, in order:

1. no text -> ``EMPTY_TRANSCRIPT``; a locale the index lacks -> ``UNKNOWN_LOCALE``;
2. exact match: a transcript whose surface key (NFKC, case-folded, without
   punctuation and spaces) equals a catalog text's is answered at once, no embedding;
3. every hypothesis (the 1-best and the n-best alternatives) of every pending
   transcript is embedded in one embedder call, bounded by the embedder timeout and
   the caller's deadline (-> ``EMBEDDER_UNAVAILABLE`` / ``DEADLINE``);
4. FAISS returns the top-k rows per hypothesis; rows are merged per canonical query,
   and each candidate gets its features (``Features``): dense similarity, phonetic
   similarity to the text it matched, margin to the runner-up, n-best agreement;
5. the calibrated confidence model turns the features into the probability that the
   rewrite is right; the best candidate must reach the threshold
   (-> ``BELOW_THRESHOLD``) and pass the difference guard, which refuses a rewrite
   whose differing words are not explained by ASR confusions or fillers (-> ``GUARD``).

A wrong rewrite is worse than no rewrite: every step that is unsure returns the raw
transcript, and says why.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from normalizer.catalog import canonical_locale, surface_key
from normalizer.config import Settings
from normalizer.embedding import Embedder
from normalizer.embedding.base import call_timeout
from normalizer.embedding.latency import EmbedLatency
from normalizer.errors import CircuitOpenError, EmbedderDeadlineError, EmbedderError
from normalizer.index.store import LocaleData, StoredIndex
from normalizer.matching import features as scoring
from normalizer.matching.answer import Answer, Fallback, MatchRequest, ScoredCandidate
from normalizer.matching.confidence import ConfidenceModel, Features
from normalizer.matching.guard import Verdict, judge
from normalizer.matching.lang import for_locale
from normalizer.matching.slots import Heard, SlotIndex
from normalizer.matching.utterance import Utterance, prepare
from normalizer.metrics import Metrics

__all__ = ["Matcher", "Scored", "ServedIndex"]

logger = logging.getLogger(__name__)

# Time kept back from the caller's deadline to build and send the answer. 10 ms was too
# little on a loaded 2-core CI machine: a DEADLINE fallback reached the client 0.4 ms after a
# 300 ms deadline (tests/e2e/test_embedder_faults.py); 25 ms leaves room for a busy loop.
DEADLINE_MARGIN = 0.025
# Canonical queries per hypothesis, best by dense similarity first, that get the guard and
# the sound features: of the in-domain dev cases whose expected query is retrieved at all
# (top_k rows), it is among the first 5 for 97.3% (zh-CN users, noised) and 99.6% (en-US);
# among the first 3 for 92.0% and 99.0%.
SCORED_QUERIES = 5


# (hypothesis, row) pairs per canonical query, nearest first, that get the guard and the
# sound features. With every confidence accepted (the guard alone deciding), zh-CN users dev
# normalizes 66.0% of recoverable in-domain cases with 3 rows, the same with 10, 65.5% with 1.
ROWS_PER_QUERY = 3

# While calls are refused for want of time at the embedder's p99, one is tried anyway
# this often (seconds), so that the estimate can come down.
DEADLINE_TRIAL_INTERVAL = 1.0


@dataclass(frozen=True)
class _LocaleView:
    data: LocaleData
    exact: dict[str, int]                     # surface key -> row of that text
    prepared: tuple[Utterance, ...]           # row -> the row's text, prepared
    slots: SlotIndex
    vocabulary: frozenset[str]                # every token surface of the catalog texts
    topics: scoring.Topics                    # which queries use each sound key


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
            language = for_locale(locale)
            exact = {surface_key(text): row for row, text in enumerate(data.row_text)}
            prepared = tuple(prepare(text, language) for text in data.row_text)
            declared = [(slot.name, [prepare(v, language) for v in slot.values])
                        for slot in data.slots]
            rows = [(int(q), u) for q, u in zip(data.row_query, prepared, strict=True)]
            slots = SlotIndex.derive(rows, language, declared)
            vocabulary = frozenset(t.surface for u in prepared for t in u.tokens)
            views[locale] = _LocaleView(data, exact, prepared, slots, vocabulary,
                                        scoring.Topics(rows))
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
    hidden: int = -1                       # a row left out of the search (score_all)


@dataclass(frozen=True)
class Scored:
    """A candidate with everything known about it: what calibration learns from."""

    query_pos: int
    row: int
    hypothesis: int
    features: Features
    verdict: Verdict | None            # None when the guard is off
    confidence: float


class Matcher:
    """Answers transcripts against the index it is given; the index can be swapped live."""

    def __init__(self, embedder: Embedder, metrics: Metrics, *, default_locale: str,
                 top_k: int, min_confidence: float | None, embedder_timeout: float,
                 phonetic: bool = True, use_guard: bool = True) -> None:
        self.embedder = embedder
        self.metrics = metrics
        self.default_locale = canonical_locale(default_locale)
        self.top_k = top_k
        self.min_confidence = min_confidence
        self.embedder_timeout = embedder_timeout
        self.phonetic = phonetic
        self.use_guard = use_guard
        self._index: ServedIndex | None = None
        self.embed_latency = EmbedLatency()   # successful calls' durations, for deadlines
        self._deadline_trial = float("-inf")

    @classmethod
    def from_settings(cls, embedder: Embedder, metrics: Metrics, settings: Settings) -> Matcher:
        return cls(embedder, metrics, default_locale=settings.default_locale,
                   top_k=settings.top_k, min_confidence=settings.min_confidence,
                   embedder_timeout=settings.embedder_timeout, phonetic=settings.phonetic,
                   use_guard=settings.guard)

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
        pending = self._triage(index, requests, answers)
        if pending:
            vectors = await self._embed(index, pending, deadline)
            row = 0
            for p in pending:
                count = len(p.hypotheses)
                if isinstance(vectors, Fallback):
                    answers[p.position] = _fallback(p.request, index, vectors, _WHY[vectors])
                else:
                    answers[p.position] = self._decide(
                        index, p, self.score(index, p, vectors[row:row + count]))
                row += count
        return [a for a in answers if a is not None]

    async def score_all(self, requests: Sequence[MatchRequest],
                        hidden: Sequence[int] | None = None) -> list[list[Scored] | Answer]:
        """Every candidate of every request with its features (for calibration), or the
        answer given without embedding. Embedder failures raise. ``hidden[i]`` (a row, or
        -1) is left out of request i's search and exact match: a catalog text scored as if
        the catalog did not hold it (self-calibration holds each variant out in turn)."""
        index = self.index
        answers: list[Answer | None] = [None] * len(requests)
        pending = self._triage(index, requests, answers, hidden)
        out: list[list[Scored] | Answer] = []
        texts = [text for p in pending for text, _ in p.hypotheses]
        vectors = await self.embedder.embed(texts, "query") if texts else np.zeros((0, 0))
        scored: dict[int, list[Scored]] = {}
        row = 0
        for p in pending:
            count = len(p.hypotheses)
            scored[p.position] = self.score(index, p, vectors[row:row + count])
            row += count
        for pos in range(len(requests)):
            early = answers[pos]
            out.append(early if early is not None else scored[pos])
        return out

    def _triage(self, index: ServedIndex, requests: Sequence[MatchRequest],
                answers: list[Answer | None], hidden: Sequence[int] | None = None
                ) -> list[_Pending]:
        """Answer what needs no embedding; return the rest with their hypotheses."""
        pending = []
        for pos, req in enumerate(requests):
            hide = hidden[pos] if hidden is not None else -1
            early = self._answer_without_embedding(index, req, hide)
            if isinstance(early, Answer):
                answers[pos] = early
                continue
            hyps = [(req.transcript, 1.0)]
            seen = {req.transcript}
            for text, score in req.alternatives:
                if text.strip() and text not in seen:
                    seen.add(text)
                    hyps.append((text, score))
            pending.append(_Pending(pos, req, early, hyps, hide))
        return pending

    def _answer_without_embedding(self, index: ServedIndex, req: MatchRequest,
                                  hidden: int = -1) -> Answer | str:
        """An answer that needs no embedding, or the resolved locale to embed for."""
        if not req.transcript.strip():
            return _fallback(req, index, Fallback.EMPTY_TRANSCRIPT, "empty transcript")
        locale = index.resolve_locale(req.locale, self.default_locale)
        if locale is None:
            return _fallback(req, index, Fallback.UNKNOWN_LOCALE,
                             f"locale {req.locale or self.default_locale!r} is not in the index; "
                             f"served: {', '.join(index.locales)}")
        view = index.locales[locale]
        row = view.exact.get(surface_key(req.transcript))
        if row is not None and row != hidden:
            query = view.data.queries[view.data.row_query[row]]
            cand = ScoredCandidate(query.id, query.text, view.data.row_text[row], 1.0)
            return Answer(query.text, True, query.id, 1.0, Fallback.NONE, index.version,
                          (cand,)[: req.max_candidates], "exact match")
        return locale

    async def _embed(self, index: ServedIndex, pending: list[_Pending],
                     deadline: float) -> np.ndarray | Fallback:
        texts = [text for p in pending for text, _ in p.hypotheses]
        now = time.monotonic()
        budget = deadline - now - DEADLINE_MARGIN
        # A batch is one call, and a healthy embedder takes longer for more texts.
        timeout = call_timeout(self.embedder_timeout, len(texts))
        limited_by_deadline = budget < timeout
        if budget <= 0:
            return Fallback.DEADLINE
        # Not enough time left for a call at its measured p99: say so now rather than
        # after the deadline. Once a second a call is tried anyway, so that the estimate
        # follows an embedder that got faster.
        needed = self.embed_latency.estimate(len(texts))
        if needed is not None and budget < needed:
            if now - self._deadline_trial < DEADLINE_TRIAL_INTERVAL:
                return Fallback.DEADLINE
            self._deadline_trial = now
        started = time.perf_counter()
        try:
            # The backend is given the caller's deadline and stops there; the wait is
            # bounded here too, for backends that cannot stop a call under way.
            vectors = await asyncio.wait_for(
                self.embedder.embed(texts, "query", deadline=now + budget),
                min(budget, timeout) + DEADLINE_MARGIN / 2)
        except CircuitOpenError:
            return Fallback.EMBEDDER_UNAVAILABLE   # at once, no call made; the breaker logs
        except (asyncio.TimeoutError, EmbedderDeadlineError) as exc:
            elapsed = time.perf_counter() - started
            self.metrics.embed_duration.observe(elapsed)
            deadline_first = limited_by_deadline or isinstance(exc, EmbedderDeadlineError)
            reason = Fallback.DEADLINE if deadline_first else Fallback.EMBEDDER_UNAVAILABLE
            if deadline_first:   # a call takes at least this long: what the estimate needs
                self.embed_latency.observe(len(texts), elapsed)
            logger.warning("embedder gave no answer for %d texts within %.3fs (%s)",
                           len(texts), min(budget, timeout), reason.label)
            return reason
        except EmbedderError as exc:
            self.metrics.embed_duration.observe(time.perf_counter() - started)
            logger.warning("embedder failed for %d texts: %s", len(texts), exc)
            return Fallback.EMBEDDER_UNAVAILABLE
        elapsed = time.perf_counter() - started
        self.metrics.embed_duration.observe(elapsed)
        self.embed_latency.observe(len(texts), elapsed)
        if vectors.shape[1] != index.stored.embedding.dimensions:
            logger.error("embedder returned %d dimensions, the index has %d; was the embedding "
                         "server restarted with another model?", vectors.shape[1],
                         index.stored.embedding.dimensions)
            return Fallback.EMBEDDER_UNAVAILABLE
        return vectors

    def score(self, index: ServedIndex, p: _Pending, vectors: np.ndarray) -> list[Scored]:
        """Search, merge rows per canonical query, judge, compute features and confidence."""
        view = index.locales[p.locale]
        started = time.perf_counter()
        scores, rows = view.data.vectors.search(vectors, self.top_k)
        self.metrics.search_duration.observe(time.perf_counter() - started)
        # Every (hypothesis, row) pair seen, grouped by canonical query.
        pairs: dict[int, list[tuple[float, int, int]]] = {}
        top_of_hypothesis: list[int] = []
        for h, (hyp_scores, hyp_rows) in enumerate(zip(scores, rows, strict=True)):
            valid = [(float(s), int(r)) for s, r in zip(hyp_scores, hyp_rows, strict=True)
                     if r >= 0 and r != p.hidden]
            for s, r in valid:
                pairs.setdefault(int(view.data.row_query[r]), []).append((s, r, h))
            top_of_hypothesis.append(int(view.data.row_query[valid[0][1]]) if valid else -1)
        if not pairs:
            return []
        dense = {qi: max(s for s, _, _ in ps) for qi, ps in pairs.items()}
        ranked = sorted(dense, key=lambda qi: -dense[qi])[:SCORED_QUERIES]
        weights = [max(score, 1e-6) for _, score in p.hypotheses]
        total_weight = sum(weights)
        hypotheses: dict[int, tuple[Utterance, list[Heard], float, dict]] = {}
        out = []
        judged_queries = []
        for qi in ranked:
            agreement = sum(w for w, top in zip(weights, top_of_hypothesis, strict=True)
                            if top == qi) / total_weight
            judged = []
            for s, r, h in sorted(pairs[qi], reverse=True)[:ROWS_PER_QUERY]:
                verdict, sound = None, None
                if self.use_guard or self.phonetic:
                    if h not in hypotheses:
                        u = prepare(p.hypotheses[h][0], view.slots.language)
                        hypotheses[h] = (u, view.slots.heard(u),
                                         scoring.oov(u, view.vocabulary), {})
                    u, heard, _, memo = hypotheses[h]
                    if self.use_guard:
                        verdict = judge(u, heard, view.prepared[r], r, qi, view.slots, memo)
                    if self.phonetic:
                        sound = scoring.sound_features(u, view.prepared[r])
                judged.append((verdict is None or verdict.allowed,
                               sound.phonetic if sound else s, s, r, h, verdict, sound))
            # the pair that best explains the candidate: allowed first, then by sound
            judged_queries.append((qi, agreement, max(judged, key=lambda j: j[:3])))
        # The margin is to the nearest other query the guard leaves standing: a blocked
        # neighbour ('turn on the bedroom lights' for "turn of the bed room lights") is no
        # rival. Queries beyond the judged ones count as standing.
        blocked = {qi for qi, _, best in judged_queries if not best[0]}
        standing = [(d, q) for q, d in dense.items() if q not in blocked]
        for qi, agreement, (_, _, _, row, h, verdict, sound) in judged_queries:
            runner_up = max((d for d, q in standing if q != qi), default=0.0)
            known = hypotheses.get(h)
            features = scoring.features(
                dense[qi], dense[qi] - runner_up, agreement, verdict, sound,
                known[2] if known else 0.0,
                view.topics.shares(known[0], qi) if known else (0.0, 0.0))
            out.append(Scored(qi, row, h, features, verdict,
                              index.confidence.score(p.locale, features)))
        out.sort(key=lambda c: -c.confidence)
        return out

    def _decide(self, index: ServedIndex, p: _Pending, scored: list[Scored]) -> Answer:
        view = index.locales[p.locale]
        candidates = tuple(
            ScoredCandidate(view.data.queries[c.query_pos].id, view.data.queries[c.query_pos].text,
                            view.data.row_text[c.row], c.confidence)
            for c in scored[: max(p.request.max_candidates, 1)])
        if not scored:
            return _fallback(p.request, index, Fallback.BELOW_THRESHOLD, "no candidates")
        best, shown = scored[0], candidates[: p.request.max_candidates]
        self.metrics.confidence.observe(best.confidence)
        threshold = self.threshold(p.locale, p.request.min_confidence)
        top = candidates[0]
        if best.verdict is not None and not best.verdict.allowed:
            # GUARD when the guard changed the outcome: the candidate would have been rewritten
            # but for what it would change; otherwise it was simply not close enough.
            unblocked = index.confidence.score(p.locale, replace(best.features, allowed=1.0))
            if unblocked >= threshold:
                self.metrics.guard_blocks.inc()
                return _fallback(p.request, index, Fallback.GUARD,
                                 f"{top.canonical_id!r} would change the request: "
                                 f"{best.verdict.reason}", best.confidence, shown)
            return _fallback(p.request, index, Fallback.BELOW_THRESHOLD,
                             f"nearest {top.canonical_id!r} is another request "
                             f"(confidence {unblocked:.3f} < {threshold:.3f} even unblocked): "
                             f"{best.verdict.reason}", best.confidence, shown)
        if best.confidence < threshold:
            return _fallback(p.request, index, Fallback.BELOW_THRESHOLD,
                             f"confidence {best.confidence:.3f} < {threshold:.3f} for "
                             f"{top.canonical_id!r}", best.confidence, shown)
        why = f"confidence {best.confidence:.3f} >= {threshold:.3f}"
        if best.verdict is not None:
            why += f"; guard: {best.verdict.reason}"
        return Answer(top.text, True, top.canonical_id, best.confidence, Fallback.NONE,
                      index.version, shown, why)


_WHY = {Fallback.EMBEDDER_UNAVAILABLE: "embedder unavailable",
        Fallback.DEADLINE: "deadline reached before the embedder answered"}


def _fallback(req: MatchRequest, index: ServedIndex, why: Fallback, reason: str,
              confidence: float = 0.0, candidates: tuple[ScoredCandidate, ...] = ()) -> Answer:
    return Answer(req.transcript, False, "", confidence, why, index.version, candidates, reason)
