"""NormalizeBatch: order, mixed locales and kinds, one embedder call per batch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from normalizer._proto import normalizer_pb2 as pb
from tests.integration.conftest import local_embedder, serve

pytestmark = pytest.mark.integration


class CountingEmbedder:
    """The real local embedder underneath; records every call it gets."""

    def __init__(self) -> None:
        self.inner = local_embedder()
        self.model = self.inner.model
        self.text_format = self.inner.text_format
        self.calls: list[list[str]] = []

    async def embed(self, texts: Sequence[str], kind: str,
                    deadline: float | None = None) -> np.ndarray:
        self.calls.append(list(texts))
        return await self.inner.embed(texts, kind, deadline)

    async def aclose(self) -> None:
        await self.inner.aclose()


MIXED = [
    pb.NormalizeRequest(transcript="今天天汽怎么样", locale="zh-CN"),                 # embedded
    # exact match
    pb.NormalizeRequest(transcript="  Turn ON the living room lights!!", locale="en-US"),
    pb.NormalizeRequest(transcript="", locale="en-US"),                              # empty
    pb.NormalizeRequest(transcript="quel temps fait-il", locale="fr-FR"),            # unknown
    pb.NormalizeRequest(transcript="turn on the livin room light please", locale="en-US"),
    pb.NormalizeRequest(transcript="珠穆朗玛峰有多高"),   # default locale
]


async def test_batch_mixed_kinds_answers_in_order_with_one_embed_call(shipped_store):
    counting = CountingEmbedder()
    async with serve(shipped_store, counting) as running:
        counting.calls.clear()          # forget the warm-up call
        batch = await running.stub.NormalizeBatch(pb.NormalizeBatchRequest(requests=MIXED))
    r = batch.responses
    assert len(r) == len(MIXED)
    assert [x.text for x in r] == [
        "今天的天气怎么样", "turn on the living room lights", "", "quel temps fait-il",
        "turn on the living room lights", "珠穆朗玛峰有多高"]
    assert [x.fallback for x in r] == [
        pb.FALLBACK_NONE, pb.FALLBACK_NONE, pb.FALLBACK_EMPTY_TRANSCRIPT,
        pb.FALLBACK_UNKNOWN_LOCALE, pb.FALLBACK_NONE, pb.FALLBACK_BELOW_THRESHOLD]
    assert [x.canonical_id for x in r] == [
        "weather.today", "lights.living_room.on", "", "", "lights.living_room.on", ""]
    assert [x.normalized for x in r] == [True, True, False, False, True, False]
    assert r[1].confidence == 1.0
    assert len({x.index_version for x in r}) == 1 and r[0].index_version != ""
    # exactly one embedder call, holding only the transcripts that needed embedding
    assert counting.calls == [
        ["今天天汽怎么样", "turn on the livin room light please", "珠穆朗玛峰有多高"]]


async def test_batch_embeds_alternatives_in_the_same_call(shipped_store):
    counting = CountingEmbedder()
    requests = [
        pb.NormalizeRequest(transcript="金天舔起怎么样",
                            alternatives=[pb.Hypothesis(text="今天天气怎么样", score=0.4)]),
        pb.NormalizeRequest(transcript="声音大点儿吧"),
        pb.NormalizeRequest(transcript="turn the volume up a little", locale="en-US"),
    ]
    async with serve(shipped_store, counting) as running:
        counting.calls.clear()
        batch = await running.stub.NormalizeBatch(pb.NormalizeBatchRequest(requests=requests))
    assert len(counting.calls) == 1
    assert counting.calls[0] == ["金天舔起怎么样", "今天天气怎么样", "声音大点儿吧",
                                 "turn the volume up a little"]
    assert batch.responses[0].canonical_id == "weather.today"
    assert len(batch.responses) == 3


async def test_batch_without_pending_transcripts_makes_no_embed_call(shipped_store):
    counting = CountingEmbedder()
    requests = [pb.NormalizeRequest(transcript="今天的天气怎么样"),
                pb.NormalizeRequest(transcript="   "),
                pb.NormalizeRequest(transcript="hola", locale="es-ES")]
    async with serve(shipped_store, counting) as running:
        counting.calls.clear()
        batch = await running.stub.NormalizeBatch(pb.NormalizeBatchRequest(requests=requests))
    assert counting.calls == []
    assert [x.fallback for x in batch.responses] == [
        pb.FALLBACK_NONE, pb.FALLBACK_EMPTY_TRANSCRIPT, pb.FALLBACK_UNKNOWN_LOCALE]


async def test_batch_agrees_with_single_calls_in_either_order(shipped_store):
    requests = [pb.NormalizeRequest(transcript=t, locale=loc) for t, loc in [
        ("今天天汽怎么样", "zh-CN"), ("turn on the livin room light please", "en-US"),
        ("珠穆朗玛峰有多高", "zh-CN"), ("what's the weather like today", "en-US"),
        ("明天会下雨吗", "zh-CN")]]
    async with serve(shipped_store) as running:
        singles = [await running.stub.Normalize(r) for r in requests]
        forward = await running.stub.NormalizeBatch(pb.NormalizeBatchRequest(requests=requests))
        backward = await running.stub.NormalizeBatch(
            pb.NormalizeBatchRequest(requests=list(reversed(requests))))

    def key(resp: pb.NormalizeResponse) -> tuple:
        return (resp.text, resp.normalized, resp.canonical_id, resp.fallback)

    assert [key(x) for x in forward.responses] == [key(x) for x in singles]
    assert [key(x) for x in backward.responses] == [key(x) for x in reversed(singles)]
    for one, many in zip(singles, forward.responses, strict=True):
        assert many.confidence == pytest.approx(one.confidence, abs=1e-4)


async def test_empty_batch_gets_empty_answer(shipped_store):
    async with serve(shipped_store) as running:
        batch = await running.stub.NormalizeBatch(pb.NormalizeBatchRequest())
    assert len(batch.responses) == 0
