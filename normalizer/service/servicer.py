"""The QueryNormalizer servicer: wire format in, matching, wire format out.

Cross-cutting work (metrics, request-id logging, error-to-status mapping) lives in
``interceptors``; this module only translates and applies back-pressure.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import grpc

from normalizer._proto import normalizer_pb2 as pb
from normalizer._proto import normalizer_pb2_grpc as pb_grpc
from normalizer.config import Settings
from normalizer.matching.answer import Answer, Fallback, MatchRequest
from normalizer.matching.confidence import calibration_source
from normalizer.matching.matcher import Matcher
from normalizer.service.validation import to_match_request, to_match_requests

__all__ = ["Admission", "QueryNormalizerServicer", "to_response"]


class Admission:
    """Counts transcripts in flight; past the limit new ones are answered OVERLOADED at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.inflight = 0

    def try_acquire(self, count: int) -> bool:
        # An idle server takes any batch (validation bounds its size).
        if self.inflight and self.inflight + count > self.limit:
            return False
        self.inflight += count
        return True

    def release(self, count: int) -> None:
        self.inflight -= count


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
    def __init__(self, matcher: Matcher, settings: Settings, admission: Admission) -> None:
        self.matcher = matcher
        self.settings = settings
        self.admission = admission

    def _deadline(self, context: grpc.aio.ServicerContext) -> float:
        remaining = context.time_remaining()
        if remaining is None:
            remaining = self.settings.default_deadline
        return time.monotonic() + remaining

    async def _answer(self, requests: Sequence[MatchRequest],
                      context: grpc.aio.ServicerContext) -> list[Answer]:
        if not self.admission.try_acquire(len(requests)):
            version = self.matcher.index.version
            return [Answer(r.transcript, False, "", 0.0, Fallback.OVERLOADED, version,
                           reason=f"over {self.admission.limit} transcripts in flight")
                    for r in requests]
        try:
            return await self.matcher.answer(requests, self._deadline(context))
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
