"""Malformed requests get INVALID_ARGUMENT naming the field; nothing is truncated."""

from __future__ import annotations

import grpc
import pytest

from normalizer._proto import normalizer_pb2 as pb
from tests.integration.conftest import serve

pytestmark = pytest.mark.integration

LIMITS = {"max_transcript_chars": 20, "max_alternatives": 2, "max_batch": 3}
NAN = float("nan")


def hyp(text: str = "今天天气怎么样", score: float = 0.5) -> pb.Hypothesis:
    return pb.Hypothesis(text=text, score=score)


MALFORMED = {
    "transcript too long": (pb.NormalizeRequest(transcript="x" * 21), "transcript"),
    "too many alternatives": (
        pb.NormalizeRequest(transcript="hi", alternatives=[hyp(), hyp(), hyp()]), "alternatives"),
    "alternative text too long": (
        pb.NormalizeRequest(transcript="hi", alternatives=[hyp(), hyp("y" * 21)]),
        "alternatives[1].text"),
    "NaN score": (pb.NormalizeRequest(transcript="hi", alternatives=[hyp(score=NAN)]),
                  "alternatives[0].score"),
    "score above 1": (pb.NormalizeRequest(transcript="hi", alternatives=[hyp(score=1.5)]),
                      "alternatives[0].score"),
    "negative score": (pb.NormalizeRequest(transcript="hi", alternatives=[hyp(score=-0.1)]),
                       "alternatives[0].score"),
    "infinite score": (
        pb.NormalizeRequest(transcript="hi", alternatives=[hyp(), hyp(score=float("inf"))]),
        "alternatives[1].score"),
    "min_confidence NaN": (pb.NormalizeRequest(transcript="hi", min_confidence=NAN),
                           "min_confidence"),
    "min_confidence above 1": (pb.NormalizeRequest(transcript="hi", min_confidence=1.01),
                               "min_confidence"),
    "min_confidence negative": (pb.NormalizeRequest(transcript="hi", min_confidence=-0.2),
                                "min_confidence"),
    "max_candidates over 100": (pb.NormalizeRequest(transcript="hi", max_candidates=101),
                                "max_candidates"),
    "request_id too long": (pb.NormalizeRequest(transcript="hi", request_id="r" * 129),
                            "request_id"),
    "malformed locale": (pb.NormalizeRequest(transcript="hi", locale="!!"), "locale"),
    "locale with spaces": (pb.NormalizeRequest(transcript="hi", locale="zh CN"), "locale"),
}


async def expect_invalid(call, field: str) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, info.value.details()
    details = info.value.details()
    assert details.startswith(field + ": "), details
    return details


@pytest.mark.parametrize("name", list(MALFORMED))
async def test_malformed_normalize_request(shipped_store, name):
    request, field = MALFORMED[name]
    async with serve(shipped_store, **LIMITS) as running:
        await expect_invalid(running.stub.Normalize(request, timeout=10), field)


async def test_limits_themselves_are_accepted(shipped_store):
    request = pb.NormalizeRequest(
        transcript="今天天汽怎么样" + "啊" * 13,          # exactly 20 characters
        alternatives=[hyp("今天天气怎么样", 0.0), hyp("z" * 20, 1.0)],
        min_confidence=1.0, max_candidates=100, request_id="r" * 128, locale="zh-CN")
    assert len(request.transcript) == 20
    async with serve(shipped_store, **LIMITS) as running:
        resp = await running.stub.Normalize(request, timeout=10)
    assert resp.text == request.transcript   # min_confidence 1.0: not normalized, not cut
    assert resp.fallback == pb.FALLBACK_BELOW_THRESHOLD
    assert 1 <= len(resp.candidates) <= 100


async def test_multibyte_length_is_counted_in_characters(shipped_store):
    async with serve(shipped_store, **LIMITS) as running:
        ok = await running.stub.Normalize(pb.NormalizeRequest(transcript="天" * 20), timeout=10)
        await expect_invalid(
            running.stub.Normalize(pb.NormalizeRequest(transcript="天" * 21), timeout=10),
            "transcript")
    assert ok.text == "天" * 20


async def test_batch_too_large(shipped_store):
    requests = [pb.NormalizeRequest(transcript="hi")] * 4
    async with serve(shipped_store, **LIMITS) as running:
        details = await expect_invalid(
            running.stub.NormalizeBatch(pb.NormalizeBatchRequest(requests=requests), timeout=10),
            "requests")
        ok = await running.stub.NormalizeBatch(
            pb.NormalizeBatchRequest(requests=requests[:3]), timeout=10)
    assert "4" in details and "3" in details
    assert len(ok.responses) == 3


@pytest.mark.parametrize("name", ["transcript too long", "NaN score", "alternative text too long",
                                  "min_confidence above 1", "malformed locale"])
async def test_batch_names_the_malformed_entry(shipped_store, name):
    bad, field = MALFORMED[name]
    requests = [pb.NormalizeRequest(transcript="今天的天气怎么样"),
                pb.NormalizeRequest(transcript="hello", locale="en-US"), bad]
    async with serve(shipped_store, **LIMITS) as running:
        await expect_invalid(
            running.stub.NormalizeBatch(pb.NormalizeBatchRequest(requests=requests), timeout=10),
            f"requests[2].{field}")
