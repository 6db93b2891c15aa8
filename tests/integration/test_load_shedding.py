"""Load shedding: past what the embedder can do before the deadline, OVERLOADED at once."""

from __future__ import annotations

import asyncio

import pytest

from normalizer._proto import normalizer_pb2 as pb
from tests.integration.conftest import ControlledEmbedder, local_embedder, poll_until, serve

pytestmark = pytest.mark.integration

WORDS = ["天气", "音量", "闹钟", "音乐", "灯", "空调", "导航", "电话", "新闻", "时间"]


def transcript(i: int) -> str:
    return f"帮我看看{WORDS[i % len(WORDS)]}第{i}次"


@pytest.mark.parametrize("shedding", [True, False])
async def test_requests_the_queue_cannot_serve_in_time_are_answered_overloaded_at_once(
        shipped_store, shedding):
    controlled = ControlledEmbedder(local_embedder())
    async with serve(shipped_store, controlled, answer_cache_entries=0,
                     embedding_cache_entries=0, embed_max_batch=1, embed_max_inflight=1,
                     load_shedding=shedding) as running:
        controlled.delay = 0.02      # the embedder's throughput: at most 50 texts/s
        for i in range(12):          # the queue measures it
            await running.stub.Normalize(pb.NormalizeRequest(transcript=transcript(i)))
        controlled.gate = asyncio.Event()        # the embedder now holds every call
        calls = [asyncio.ensure_future(running.stub.Normalize(
            pb.NormalizeRequest(transcript=transcript(100 + i)), timeout=1.0))
            for i in range(60)]
        # With the embedder held, 60 texts at <= 50 texts/s cannot all make a 1 s deadline:
        # those that cannot are answered now, the gate still closed.
        if shedding:
            await poll_until(lambda: sum(c.done() for c in calls) >= 10, timeout=20,
                             what="10 requests answered while the embedder is held")
            shed = [c.result() for c in calls if c.done()]
            assert {r.fallback for r in shed} == {pb.FALLBACK_OVERLOADED}
            assert "queued" in shed[0].reason
        else:
            await asyncio.sleep(0.3)
            assert not any(c.done() for c in calls)
        controlled.gate.set()
        answers = await asyncio.gather(*calls, return_exceptions=True)
    statuses = [a.fallback for a in answers if isinstance(a, pb.NormalizeResponse)]
    assert pb.FALLBACK_EMBEDDER_UNAVAILABLE not in statuses
    if shedding:
        assert len(statuses) == 60
        assert statuses.count(pb.FALLBACK_OVERLOADED) >= 10
    else:
        assert pb.FALLBACK_OVERLOADED not in statuses
