"""Deadlines end to end: the caller's deadline reaches the embedder call, and a request
whose time left cannot cover an embedder call at its measured p99 is answered at once."""

from __future__ import annotations

import asyncio
import time

import pytest

from normalizer._proto import normalizer_pb2 as pb
from tests.integration.conftest import serve

pytestmark = pytest.mark.integration

HOMOPHONE = "今天天汽怎么样"


async def test_the_callers_deadline_is_passed_to_the_embedder(shipped_store, controlled):
    async with serve(shipped_store, controlled, default_deadline=3.0) as running:
        sent = time.monotonic()
        await running.stub.Normalize(pb.NormalizeRequest(transcript=HOMOPHONE), timeout=2.0)
        with_deadline = controlled.deadlines[-1]
        sent_without = time.monotonic()
        await running.stub.Normalize(pb.NormalizeRequest(transcript="打开书房的等"))
        without = controlled.deadlines[-1]
    assert with_deadline is not None and without is not None
    # the gRPC deadline, less the margin kept for answering (and the time to get here)
    assert 1.5 < with_deadline - sent < 2.0
    # no gRPC deadline: the server's default-deadline
    assert 2.5 < without - sent_without < 3.0


async def test_no_embedder_call_when_the_time_left_is_below_its_p99(shipped_store, controlled):
    async with serve(shipped_store, controlled) as running:
        controlled.delay = 0.2            # every embedder call takes at least 200 ms
        # enough calls for a p99 (EmbedLatency.min_samples), all at once
        warm = await asyncio.gather(*(running.stub.Normalize(
            pb.NormalizeRequest(transcript=f"{HOMOPHONE}{i}"), timeout=10) for i in range(25)))
        assert all(answer.fallback != pb.FALLBACK_DEADLINE for answer in warm)
        estimate = running.server.matcher.embed_latency.estimate(1)
        assert estimate is not None and estimate >= 0.2

        calls = len(controlled.calls)
        answers = []
        for _ in range(5):                # 100 ms left: less than the p99 of 200+ ms
            started = time.monotonic()
            answer = await running.stub.Normalize(
                pb.NormalizeRequest(transcript="打开书房的等"), timeout=0.1)
            answers.append((answer, time.monotonic() - started))
        started_calls = len(controlled.calls) - calls

        # A caller with time enough is still served.
        served = await running.stub.Normalize(pb.NormalizeRequest(transcript=HOMOPHONE),
                                              timeout=10)
    assert all(a.fallback == pb.FALLBACK_DEADLINE and a.text == "打开书房的等"
               for a, _ in answers)
    # One call a second is tried anyway (so that the estimate can come down); the
    # others were answered without starting one.
    assert started_calls == 1
    assert served.normalized
