"""Request validation: a malformed request gets INVALID_ARGUMENT naming the field.

Nothing is silently truncated or clamped.
"""

from __future__ import annotations

import math
import re

from normalizer._proto import normalizer_pb2 as pb
from normalizer.config import Settings
from normalizer.errors import InvalidRequestError
from normalizer.matching.answer import MatchRequest

__all__ = ["MAX_CANDIDATES", "MAX_REQUEST_ID_CHARS", "to_match_request", "to_match_requests"]

MAX_CANDIDATES = 100
MAX_REQUEST_ID_CHARS = 128
_LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


def _check_text(field: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise InvalidRequestError(
            field, f"{len(text)} characters is over the limit of {limit}; send one utterance "
                   "(the server's --max-transcript-chars sets the limit)")


def _check_score(field: str, value: float, what: str) -> None:
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise InvalidRequestError(field, f"{value!r} is not a {what} in [0, 1]")


def to_match_request(msg: pb.NormalizeRequest, settings: Settings,
                     prefix: str = "") -> MatchRequest:
    """Check one NormalizeRequest against the server's limits and turn it into a MatchRequest."""
    _check_text(prefix + "transcript", msg.transcript, settings.max_transcript_chars)
    if msg.locale and not _LOCALE.match(msg.locale):
        raise InvalidRequestError(
            prefix + "locale", f"{msg.locale[:40]!r} is not a BCP-47 tag like 'zh-CN' or 'en-US'")
    if len(msg.alternatives) > settings.max_alternatives:
        raise InvalidRequestError(
            prefix + "alternatives",
            f"{len(msg.alternatives)} entries is over the limit of {settings.max_alternatives}; "
            "send the top of the n-best list")
    alternatives = []
    for i, hyp in enumerate(msg.alternatives):
        field = f"{prefix}alternatives[{i}]"
        _check_text(field + ".text", hyp.text, settings.max_transcript_chars)
        _check_score(field + ".score", hyp.score, "probability")
        alternatives.append((hyp.text, float(hyp.score)))
    _check_score(prefix + "min_confidence", msg.min_confidence, "confidence (0 = server default)")
    if msg.max_candidates > MAX_CANDIDATES:
        raise InvalidRequestError(prefix + "max_candidates",
                                  f"{msg.max_candidates} is over the limit of {MAX_CANDIDATES}")
    if len(msg.request_id) > MAX_REQUEST_ID_CHARS:
        raise InvalidRequestError(prefix + "request_id",
                                  f"{len(msg.request_id)} characters is over the limit of "
                                  f"{MAX_REQUEST_ID_CHARS}")
    return MatchRequest(msg.transcript, msg.locale, tuple(alternatives),
                        float(msg.min_confidence), int(msg.max_candidates), msg.request_id)


def to_match_requests(msg: pb.NormalizeBatchRequest, settings: Settings) -> list[MatchRequest]:
    """Check a whole batch; the first malformed entry names itself as ``requests[i].field``."""
    if len(msg.requests) > settings.max_batch:
        raise InvalidRequestError(
            "requests", f"{len(msg.requests)} entries is over the limit of {settings.max_batch}; "
                        "split the batch")
    return [to_match_request(r, settings, f"requests[{i}].") for i, r in enumerate(msg.requests)]
