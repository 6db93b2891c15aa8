"""Micro-batching: concurrent requests share embedder calls, each caller gets its own rows.

The real local embedder is underneath; ``ControlledEmbedder`` only adds what a test
injects (a refused text, a hung call, a gate to hold calls) and records the calls.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from normalizer._proto import normalizer_pb2 as pb
from normalizer.embedding.batching import BatchingEmbedder
from normalizer.errors import EmbedderInputError, EmbedderUnavailableError
from normalizer.metrics import Metrics
from tests.integration.conftest import ControlledEmbedder, local_embedder, serve

pytestmark = pytest.mark.integration

TEXTS = ["今天天气怎么样", "把音量调大一点", "turn the volume up", "播放音乐",
         "what's the weather like today", "设一个早上七点的闹钟", "make it louder",
         "wake me up at seven in the morning", "放首歌", "声音大一点", "今天天气如何",
         "how is the weather today"]


def controlled() -> ControlledEmbedder:
    inner = ControlledEmbedder(local_embedder())
    inner.refuse, inner.hang_on = "REFUSED", "HANGS"
    return inner


def texts_of(inner: ControlledEmbedder) -> list[list[str]]:
    return [texts for texts, _ in inner.calls]


def batching(inner: ControlledEmbedder, **overrides: float
             ) -> tuple[BatchingEmbedder, Metrics]:
    metrics = Metrics(CollectorRegistry())
    options: dict[str, float] = {"max_batch": 32, "max_wait": 0.0, "max_inflight": 1,
                                 "timeout": 10.0, **overrides}
    return BatchingEmbedder(inner, metrics, max_batch=int(options["max_batch"]),
                            max_wait=options["max_wait"],
                            max_inflight=int(options["max_inflight"]),
                            timeout=options["timeout"]), metrics


def sample(metrics: Metrics, name: str) -> float:
    value = metrics.registry.get_sample_value(name)
    assert value is not None, name
    return value


async def held_back(inner: ControlledEmbedder, embedder: BatchingEmbedder,
                    requests: list[list[str]]) -> list[np.ndarray | BaseException]:
    """Send ``requests`` concurrently while the first call is held at the gate, so the
    rest queue behind it; then open the gate and gather every answer."""
    inner.gate = asyncio.Event()
    first = asyncio.ensure_future(embedder.embed(["播放音乐"], "query"))
    while not inner.calls:
        await asyncio.sleep(0.001)
    rest = [asyncio.ensure_future(embedder.embed(texts, "query")) for texts in requests]
    await asyncio.sleep(0.01)          # every request queued behind the held call
    inner.gate.set()
    await first
    return list(await asyncio.gather(*rest, return_exceptions=True))


async def test_concurrent_callers_share_calls_and_each_gets_its_own_rows_in_order():
    inner = controlled()
    embedder, metrics = batching(inner, max_batch=8)
    try:
        expected = await inner.inner.embed(TEXTS, "query")
        inner.calls.clear()
        # Requests of one and of several texts (a transcript and its n-best).
        requests = [[t] for t in TEXTS[:6]] + [TEXTS[6:9], TEXTS[9:]]
        answers = await held_back(inner, embedder, requests)
        row = 0
        for texts, answer in zip(requests, answers, strict=True):
            assert isinstance(answer, np.ndarray)
            np.testing.assert_allclose(answer, expected[row:row + len(texts)], atol=1e-5)
            row += len(texts)
        # The held call, then the queued 12 texts in calls of at most 8, requests whole.
        assert texts_of(inner)[0] == ["播放音乐"]
        assert [len(c) for c in texts_of(inner)[1:]] == [6, 6]
        assert sample(metrics, "normalizer_embed_requests_total") == 3
        assert sample(metrics, "normalizer_embed_batch_size_count") == 3
        assert sample(metrics, "normalizer_embed_batch_size_sum") == 13
        assert sample(metrics, "normalizer_embed_queue_depth") == 0
    finally:
        await embedder.aclose()


async def test_a_refused_text_fails_only_its_own_request():
    inner = controlled()
    embedder, _ = batching(inner)
    try:
        requests = [[TEXTS[0]], [TEXTS[1], "REFUSED"], [TEXTS[2]], [TEXTS[3]], [TEXTS[4]]]
        answers = await held_back(inner, embedder, requests)
        expected = await inner.inner.embed([TEXTS[i] for i in (0, 2, 3, 4)], "query")
        assert isinstance(answers[1], EmbedderInputError)
        good = [a for i, a in enumerate(answers) if i != 1]
        for answer, row in zip(good, expected, strict=True):
            assert isinstance(answer, np.ndarray)
            np.testing.assert_allclose(answer[0], row, atol=1e-5)
    finally:
        await embedder.aclose()


async def test_a_hung_call_is_cut_off_and_the_other_slot_goes_on():
    inner = controlled()
    embedder, _ = batching(inner, max_inflight=2, timeout=0.3)
    try:
        hung = asyncio.ensure_future(embedder.embed(["HANGS"], "query"))
        while not inner.calls:
            await asyncio.sleep(0.001)
        # The other slot answers while the first call hangs.
        answer = await asyncio.wait_for(embedder.embed([TEXTS[0]], "query"), 5)
        assert answer.shape[0] == 1 and not hung.done()
        with pytest.raises(EmbedderUnavailableError, match="abandoned"):
            await asyncio.wait_for(hung, 5)
        # Its slot is free again: the next call goes through.
        assert (await asyncio.wait_for(embedder.embed([TEXTS[1]], "query"), 5)).shape[0] == 1
    finally:
        await embedder.aclose()


async def test_a_caller_that_gives_up_is_dropped_from_the_queue():
    inner = controlled()
    embedder, metrics = batching(inner)
    try:
        inner.gate = asyncio.Event()
        first = asyncio.ensure_future(embedder.embed([TEXTS[0]], "query"))
        while not inner.calls:
            await asyncio.sleep(0.001)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(embedder.embed([TEXTS[1]], "query"), 0.02)
        kept = asyncio.ensure_future(embedder.embed([TEXTS[2]], "query"))
        await asyncio.sleep(0.01)
        inner.gate.set()
        await first
        assert (await kept).shape[0] == 1
        assert texts_of(inner)[1] == [TEXTS[2]]     # the abandoned text was never sent
        assert sample(metrics, "normalizer_embed_queue_depth") == 0
    finally:
        await embedder.aclose()


async def test_concurrent_normalize_calls_are_coalesced_and_answered_each_their_own(
        shipped_store):
    recording = ControlledEmbedder(local_embedder())
    transcripts = ["今天天汽怎么样", "把音亮调大一点", "turn the volum up",
                   "wat's the wether like today", "播放音乐吧", "设一个早上七点的闹钟吧",
                   "make it louder please", "珠穆朗玛峰有多高"]
    locales = ["zh-CN", "zh-CN", "en-US", "en-US", "zh-CN", "zh-CN", "en-US", "zh-CN"]
    requests = [pb.NormalizeRequest(transcript=t, locale=loc)
                for t, loc in zip(transcripts, locales, strict=True)]
    async with serve(shipped_store, recording, answer_cache_entries=0,
                     embedding_cache_entries=0, embed_max_inflight=1) as running:
        alone = [await running.stub.Normalize(r) for r in requests]
        recording.calls.clear()
        recording.gate = asyncio.Event()
        together = [asyncio.ensure_future(running.stub.Normalize(r)) for r in requests]
        while len(recording.calls) < 1:
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.1)      # the other RPCs arrive and queue behind the held call
        recording.gate.set()
        answers = await asyncio.gather(*together)
    assert [(a.text, a.fallback, a.canonical_id) for a in answers] == \
        [(a.text, a.fallback, a.canonical_id) for a in alone]
    assert len(recording.calls) < len(requests)
    assert sum(len(texts) for texts, _ in recording.calls) == len(requests)
