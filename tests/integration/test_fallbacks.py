"""Every fallback reason: the raw transcript comes back unchanged, with the reason."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from normalizer._proto import normalizer_pb2 as pb
from tests.integration.conftest import serve

pytestmark = pytest.mark.integration

HOMOPHONE = "今天天汽怎么样"


def assert_raw(resp: pb.NormalizeResponse, transcript: str, fallback: int) -> None:
    assert resp.fallback == fallback, pb.Fallback.Name(resp.fallback)
    assert resp.text == transcript
    assert resp.normalized is False
    assert resp.canonical_id == ""
    assert resp.index_version != ""


@pytest.mark.parametrize("transcript", ["", "   ", " \t\n ", "\u3000"])
async def test_empty_transcript(shipped_store, controlled, transcript):
    async with serve(shipped_store, controlled) as running:
        before = len(controlled.calls)
        resp = await running.stub.Normalize(pb.NormalizeRequest(transcript=transcript))
    assert_raw(resp, transcript, pb.FALLBACK_EMPTY_TRANSCRIPT)
    assert resp.confidence == 0.0
    assert len(controlled.calls) == before


@pytest.mark.parametrize("locale", ["fr-FR", "de", "zh-TW", "en-GB"])
async def test_unknown_locale(shipped_store, controlled, locale):
    transcript = "turn on the living room lights"  # exact in en-US: must not leak across
    async with serve(shipped_store, controlled) as running:
        before = len(controlled.calls)
        resp = await running.stub.Normalize(
            pb.NormalizeRequest(transcript=transcript, locale=locale))
    assert_raw(resp, transcript, pb.FALLBACK_UNKNOWN_LOCALE)
    assert len(controlled.calls) == before


async def test_unknown_default_locale(shipped_store):
    async with serve(shipped_store, default_locale="ja-JP") as running:
        resp = await running.stub.Normalize(pb.NormalizeRequest(transcript="今天的天气怎么样"))
        named = await running.stub.Normalize(
            pb.NormalizeRequest(transcript="今天的天气怎么样", locale="zh-CN"))
    assert_raw(resp, "今天的天气怎么样", pb.FALLBACK_UNKNOWN_LOCALE)
    assert named.normalized is True


async def test_below_threshold(shipped_store):
    async with serve(shipped_store) as running:
        resp = await running.stub.Normalize(pb.NormalizeRequest(transcript="珠穆朗玛峰有多高"))
    assert_raw(resp, "珠穆朗玛峰有多高", pb.FALLBACK_BELOW_THRESHOLD)


async def test_embedder_raising_gives_embedder_unavailable(shipped_store, controlled):
    async with serve(shipped_store, controlled) as running:
        controlled.fail = True
        resp = await running.stub.Normalize(pb.NormalizeRequest(transcript=HOMOPHONE),
                                            timeout=10)
        exact = await running.stub.Normalize(pb.NormalizeRequest(transcript="今天的天气怎么样"))
        batch = await running.stub.NormalizeBatch(pb.NormalizeBatchRequest(requests=[
            pb.NormalizeRequest(transcript=HOMOPHONE),
            pb.NormalizeRequest(transcript="今天的天气怎么样")]))
        controlled.fail = False
        recovered = await running.stub.Normalize(pb.NormalizeRequest(transcript=HOMOPHONE))
    assert_raw(resp, HOMOPHONE, pb.FALLBACK_EMBEDDER_UNAVAILABLE)
    # exact matches need no embedder
    assert exact.normalized is True and exact.confidence == 1.0
    assert_raw(batch.responses[0], HOMOPHONE, pb.FALLBACK_EMBEDDER_UNAVAILABLE)
    assert batch.responses[1].normalized is True
    assert recovered.normalized is True and recovered.canonical_id == "weather.today"


async def test_hanging_embedder_gives_embedder_unavailable_after_its_timeout(
        shipped_store, controlled):
    async with serve(shipped_store, controlled, embedder_timeout=0.3) as running:
        controlled.hang = True
        started = time.monotonic()
        resp = await running.stub.Normalize(pb.NormalizeRequest(transcript=HOMOPHONE),
                                            timeout=8)
        elapsed = time.monotonic() - started
    assert_raw(resp, HOMOPHONE, pb.FALLBACK_EMBEDDER_UNAVAILABLE)
    assert 0.25 <= elapsed < 1.5


async def test_deadline_shorter_than_embedder_timeout_answers_deadline(
        shipped_store, controlled):
    async with serve(shipped_store, controlled, embedder_timeout=2.0) as running:
        controlled.hang = True
        started = time.monotonic()
        try:
            resp = await running.stub.Normalize(pb.NormalizeRequest(transcript=HOMOPHONE),
                                                timeout=0.5)
        except grpc.aio.AioRpcError as exc:
            pytest.fail(f"expected a FALLBACK_DEADLINE answer, got status {exc.code()} after "
                        f"{time.monotonic() - started:.3f}s")
        elapsed = time.monotonic() - started
    assert_raw(resp, HOMOPHONE, pb.FALLBACK_DEADLINE)
    assert 0.3 <= elapsed < 0.5


async def test_overloaded_answers_extra_request_at_once(shipped_store, controlled):
    async with serve(shipped_store, controlled, max_inflight=1) as running:
        controlled.gate = asyncio.Event()
        controlled.entered.clear()
        first = asyncio.ensure_future(running.stub.Normalize(
            pb.NormalizeRequest(transcript=HOMOPHONE), timeout=10))
        await asyncio.wait_for(controlled.entered.wait(), 10)
        started = time.monotonic()
        extra = await running.stub.Normalize(
            pb.NormalizeRequest(transcript="turn on the livin room light please",
                                locale="en-US"), timeout=10)
        elapsed = time.monotonic() - started
        still_waiting = not first.done()
        extra_batch = await running.stub.NormalizeBatch(pb.NormalizeBatchRequest(requests=[
            pb.NormalizeRequest(transcript="珠穆朗玛峰有多高")]), timeout=10)
        controlled.gate.set()
        first_resp = await first
        after = await running.stub.Normalize(
            pb.NormalizeRequest(transcript="珠穆朗玛峰有多高"), timeout=10)
    assert still_waiting
    assert_raw(extra, "turn on the livin room light please", pb.FALLBACK_OVERLOADED)
    assert elapsed < 0.5
    assert_raw(extra_batch.responses[0], "珠穆朗玛峰有多高", pb.FALLBACK_OVERLOADED)
    assert first_resp.normalized is True and first_resp.canonical_id == "weather.today"
    # the slot is free again
    assert_raw(after, "珠穆朗玛峰有多高", pb.FALLBACK_BELOW_THRESHOLD)
