"""The QueryNormalizer servicer: wire format in, matching, wire format out.

Cross-cutting work (metrics, request-id logging, error-to-status mapping) lives in
``interceptors``; this module translates, answers repeated transcripts from the answer
cache, and applies back-pressure (``Admission``) to the rest before they reach the
matcher.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import grpc

from normalizer._proto import normalizer_pb2 as pb
from normalizer._proto import normalizer_pb2_grpc as pb_grpc
from normalizer.config import Settings
from normalizer.embedding.base import call_timeout
from normalizer.embedding.batching import BatchingEmbedder
from normalizer.matching.answer import Answer, Fallback, MatchRequest
from normalizer.matching.confidence import calibration_source
from normalizer.matching.matcher import DEADLINE_MARGIN, Matcher
from normalizer.service.answer_cache import AnswerCache
from normalizer.service.validation import to_match_request, to_match_requests

__all__ = ["Admission", "QueryNormalizerServicer", "to_response"]


class Admission:
    """Whether transcripts are taken on, decided before any embedding.

    Past ``limit`` transcripts in flight, new ones are answered OVERLOADED at once. With
    the batching ``queue`` given, so are those whose texts, behind everything queued and
    under way at the embedder's measured throughput, would not be embedded before their
    deadline or the embedder ``timeout`` (per 32 texts; the matcher waits no longer,
    queue included): they would wait and fall back anyway.
    """

    def __init__(self, limit: int, queue: BatchingEmbedder | None = None,
                 timeout: float = math.inf) -> None:
        self.limit = limit
        self.inflight = 0
        self.queue = queue
        self.timeout = timeout

    def try_acquire(self, count: int) -> bool:
        # An idle server takes any batch (validation bounds its size).
        if self.inflight and self.inflight + count > self.limit:
            return False
        self.inflight += count
        return True

    def release(self, count: int) -> None:
        self.inflight -= count

    def too_slow(self, texts: int, deadline: float) -> str | None:
        """Why ``texts`` texts cannot be embedded before ``deadline``, or None if they can
        (or nothing is measured yet)."""
        if self.queue is None:
            return None
        wait = self.queue.expected_wait(texts)
        if wait is None:
            return None
        left = min(deadline - time.monotonic() - DEADLINE_MARGIN,
                   call_timeout(self.timeout, texts))
        if wait <= left:
            return None
        return (f"the embedder would take about {wait * 1000:.0f} ms for the "
                f"{self.queue.queued_texts} texts queued and these {texts}; "
                f"{max(left, 0.0) * 1000:.0f} ms left before the deadline or the embedder "
                "timeout")


def _texts(request: MatchRequest) -> int:
    """Texts a request may need embedded: its transcript and distinct alternatives."""
    return 1 + len({t for t, _ in request.alternatives if t.strip() and t != request.transcript})


def to_response(answer: Answer) -> pb.NormalizeResponse:
    return pb.NormalizeResponse(
        text=answer.text,
        normalized=answer.normalized,
        canonical_id=answer.canonical_id,
        confidence=answer.confidence,
        fallback=int(answer.fallback),  # type: ignore[arg-type]
        candidates=[pb.Candidate(canonical_id=c.canonical_id, text=c.text, score=c.confidence,
                                 matched_text=c.matched_text) for c in answer.candidates],
        index_version=answer.index_version,
        reason=answer.reason,
    )


class QueryNormalizerServicer(pb_grpc.QueryNormalizerServicer):
    def __init__(self, matcher: Matcher, settings: Settings, admission: Admission,
                 cache: AnswerCache) -> None:
        self.matcher = matcher
        self.settings = settings
        self.admission = admission
        self.cache = cache

    def _deadline(self, context: grpc.aio.ServicerContext) -> float:
        remaining = context.time_remaining()
        if remaining is None:
            remaining = self.settings.default_deadline
        return time.monotonic() + remaining

    async def _answer(self, requests: Sequence[MatchRequest],
                      context: grpc.aio.ServicerContext) -> list[Answer]:
        index = self.matcher.index
        answers: list[Answer | None] = [None] * len(requests)
        keys = []
        for i, request in enumerate(requests):
            key = self.cache.key(request, index.resolve_locale(
                request.locale, self.matcher.default_locale) or request.locale)
            answers[i] = self.cache.get(index.version, key, request)
            keys.append(key)
        misses = [i for i, a in enumerate(answers) if a is None]
        if misses:
            computed = await self._compute([requests[i] for i in misses], index.version,
                                           self._deadline(context))
            for i, answer in zip(misses, computed, strict=True):
                answers[i] = answer
                self.cache.put(keys[i], answer)
        return [a for a in answers if a is not None]

    async def _compute(self, requests: Sequence[MatchRequest], version: str,
                       deadline: float) -> list[Answer]:
        """The matcher's answers, or OVERLOADED for all when admission says no."""
        why = None
        if not self.admission.try_acquire(len(requests)):
            why = f"over {self.admission.limit} transcripts in flight"
        elif self.settings.load_shedding:
            why = self.admission.too_slow(sum(map(_texts, requests)), deadline)
            if why is not None:
                self.admission.release(len(requests))
        if why is not None:
            return [Answer(r.transcript, False, "", 0.0, Fallback.OVERLOADED, version,
                           reason=why) for r in requests]
        try:
            return await self.matcher.answer(requests, deadline)
        finally:
            self.admission.release(len(requests))

    async def Normalize(self, request: pb.NormalizeRequest,
                        context: grpc.aio.ServicerContext) -> pb.NormalizeResponse:
        match_request = to_match_request(request, self.settings)
        (answer,) = await self._answer([match_request], context)
        return to_response(answer)

    async def NormalizeBatch(self, request: pb.NormalizeBatchRequest,
                             context: grpc.aio.ServicerContext) -> pb.NormalizeBatchResponse:
        answers = await self._answer(to_match_requests(request, self.settings), context)
        return pb.NormalizeBatchResponse(responses=[to_response(a) for a in answers])

    async def GetIndexInfo(self, request: pb.GetIndexInfoRequest,
                           context: grpc.aio.ServicerContext) -> pb.IndexInfo:
        stored = self.matcher.index.stored
        return pb.IndexInfo(
            version=stored.version,
            embedding_model=stored.embedding.model,
            dimensions=stored.embedding.dimensions,
            built_at=stored.built_at,
            locales=[pb.LocaleInfo(locale=loc, canonical_queries=len(data.queries),
                                   indexed_texts=len(data.row_text),
                                   threshold=self.matcher.threshold(loc),
                                   calibrated=loc in self.matcher.index.confidence.locales,
                                   calibration_source=calibration_source(stored.calibration)
                                   if loc in self.matcher.index.confidence.locales else "none")
                     for loc, data in stored.locales.items()],
        )
