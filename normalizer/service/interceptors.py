"""Cross-cutting work for the QueryNormalizer RPCs: metrics, request-id logs, error mapping.

Errors raised by the servicer are mapped to gRPC status codes by ``errors.GRPC_STATUS``
and sent with an awaited ``context.abort``. Each transcript answered counts once in
``normalizer_requests_total`` (a batch counts each entry).

Requests are parsed here rather than by gRPC, so that bytes that are not a valid
message (bad UTF-8 in a string field, a corrupt wire format) get INVALID_ARGUMENT
instead of gRPC's UNKNOWN. Log lines name transcripts only through the
``TranscriptRedactor`` (a salted hash unless ``--log-transcripts``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from normalizer._proto import normalizer_pb2 as pb
from normalizer.errors import InvalidRequestError, NormalizerError, UserError, grpc_status_for
from normalizer.matching.answer import Fallback
from normalizer.metrics import Metrics
from normalizer.service.redaction import TranscriptRedactor

__all__ = ["SERVICE_PREFIX", "ObservingInterceptor"]

logger = logging.getLogger(__name__)

SERVICE_PREFIX = "/normalizer.v1.QueryNormalizer/"


def _answers(response: Any) -> list[pb.NormalizeResponse]:
    if isinstance(response, pb.NormalizeResponse):
        return [response]
    if isinstance(response, pb.NormalizeBatchResponse):
        return list(response.responses)
    return []


def _parse(deserializer: Callable[[bytes], Any] | None, raw: Any) -> Any:
    if deserializer is None or not isinstance(raw, bytes):
        return raw
    try:
        return deserializer(raw)
    except DecodeError as exc:
        raise InvalidRequestError(
            "request", f"not a valid protobuf message of this method ({exc}); send a "
                       "serialized request whose string fields hold UTF-8 text") from exc


def _request_id(request: Any, context: grpc.aio.ServicerContext) -> str:
    if isinstance(request, pb.NormalizeRequest) and request.request_id:
        return request.request_id
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id":
            return str(value)
    return "-"


class ObservingInterceptor(grpc.aio.ServerInterceptor):
    """Times, counts, logs and maps errors for every QueryNormalizer RPC."""

    def __init__(self, metrics: Metrics, redactor: TranscriptRedactor | None = None) -> None:
        self.metrics = metrics
        self.redactor = redactor or TranscriptRedactor()

    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method_path = handler_call_details.method
        if handler is None or handler.unary_unary is None or not method_path.startswith(
                SERVICE_PREFIX):
            return handler
        method = method_path[len(SERVICE_PREFIX):]
        inner = handler.unary_unary
        deserializer = handler.request_deserializer
        metrics = self.metrics
        redactor = self.redactor

        def who(request: Any, context: grpc.aio.ServicerContext) -> str:
            """The request id, and the transcript as it may be logged."""
            said = f"request_id={_request_id(request, context)}"
            if isinstance(request, pb.NormalizeRequest):
                said += f" transcript={redactor.transcript(request.transcript)}"
            elif isinstance(request, pb.NormalizeBatchRequest):
                said += f" transcripts={len(request.requests)}"
            return said

        async def observed(raw: Any, context: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            metrics.inflight.inc()
            outcome = "error"
            request: Any = None
            try:
                request = _parse(deserializer, raw)
                response = await inner(request, context)
                answers = _answers(response)
                for answer in answers:
                    kind = "normalized" if answer.normalized else "fallback"
                    metrics.requests.labels(outcome=kind).inc()
                    if not answer.normalized:
                        metrics.fallbacks.labels(reason=Fallback(answer.fallback).label).inc()
                if method == "Normalize":
                    outcome = "normalized" if answers[0].normalized else "fallback"
                else:
                    outcome = "ok"
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug("%s %s outcome=%s %.2fms", method, who(request, context),
                                 outcome, (time.perf_counter() - started) * 1e3)
                return response
            except NormalizerError as exc:
                metrics.requests.labels(outcome="error").inc()
                log = logger.info if isinstance(exc, UserError) else logger.error
                log("%s %s failed: %s", method, who(request, context), exc)
                await context.abort(grpc_status_for(exc), str(exc))
                raise  # unreachable: abort raises
            except Exception as exc:
                metrics.requests.labels(outcome="error").inc()
                logger.error("%s %s failed:\n%s", method, who(request, context),
                             redactor.exception(exc))
                await context.abort(grpc.StatusCode.INTERNAL, "internal error; see server logs")
                raise
            finally:
                metrics.inflight.dec()
                metrics.request_duration.labels(method=method, outcome=outcome).observe(
                    time.perf_counter() - started)

        return grpc.unary_unary_rpc_method_handler(
            observed, request_deserializer=None,   # parsed in ``observed``
            response_serializer=handler.response_serializer)
