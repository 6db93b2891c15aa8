"""The circuit breaker in a real server: fallbacks at once while open, health and metrics.

The embedder underneath is the real local one, behind ``ControlledEmbedder`` so that a
test can take it down and bring it back.
"""

from __future__ import annotations

import itertools
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from normalizer._proto import normalizer_pb2 as pb
from normalizer.embedding.breaker import PROBE_TEXT, CircuitState
from normalizer.service.server import EMBEDDER_HEALTH_SERVICE
from tests.integration.conftest import poll_until, serve

pytestmark = pytest.mark.integration

HOMOPHONE = "今天天汽怎么样"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def health(channel: grpc.aio.Channel, service: str) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    return (await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)).status


def gauge(running, name: str) -> float | None:
    return running.metrics.registry.get_sample_value(name)


def request_calls(controlled) -> int:
    """Calls the embedder got from requests (not the warm-up or the breaker's probes)."""
    return sum(1 for texts, _ in controlled.calls if texts not in (["warm-up"], [PROBE_TEXT]))


async def test_open_circuit_falls_back_at_once_and_closes_when_the_embedder_returns(
        shipped_store, controlled):
    async with serve(shipped_store, controlled, embedder_timeout=1.0, breaker_failures=3,
                     breaker_probe_interval=0.05, breaker_probe_max=0.2) as running:
        channel = running.channel
        assert await health(channel, EMBEDDER_HEALTH_SERVICE) == SERVING
        assert gauge(running, "normalizer_embedder_up") == 1
        assert gauge(running, "normalizer_circuit_state") == 0

        controlled.hang = True            # each call now waits out the 1 s timeout
        for _ in range(3):
            slow = await running.stub.Normalize(pb.NormalizeRequest(transcript=HOMOPHONE),
                                                timeout=10)
            assert slow.fallback == pb.FALLBACK_EMBEDDER_UNAVAILABLE
        assert running.server.breaker.state is not CircuitState.CLOSED
        await poll_until(lambda: gauge(running, "normalizer_embedder_up") == 0,
                         what="embedder_up to drop")
        assert gauge(running, "normalizer_circuit_state") in (1, 2)

        # Open: answered without the embedder. A correct breaker answers in about a
        # millisecond; the bound only has to stay clear of the 1 s timeout.
        calls = request_calls(controlled)
        for _ in range(20):
            started = time.monotonic()
            fast = await running.stub.Normalize(pb.NormalizeRequest(transcript=HOMOPHONE),
                                                timeout=10)
            assert time.monotonic() - started < 0.5
            assert fast.fallback == pb.FALLBACK_EMBEDDER_UNAVAILABLE
            assert fast.text == HOMOPHONE and not fast.normalized
        assert request_calls(controlled) == calls
        # The replica still answers: only the embedder's health name says it is down.
        assert await health(channel, EMBEDDER_HEALTH_SERVICE) == NOT_SERVING
        assert await health(channel, "") == SERVING
        assert await health(channel, "normalizer.v1.QueryNormalizer") == SERVING
        # Exact matches need no embedder and are still normalized.
        exact = await running.stub.Normalize(pb.NormalizeRequest(transcript="今天的天气怎么样"))
        assert exact.normalized

        controlled.hang = False           # the embedder is back: a probe closes the circuit
        await poll_until(lambda: running.server.breaker.state is CircuitState.CLOSED,
                         timeout=15, what="the circuit to close")
        assert await health(channel, EMBEDDER_HEALTH_SERVICE) == SERVING
        assert gauge(running, "normalizer_embedder_up") == 1
        assert gauge(running, "normalizer_circuit_state") == 0
        back = await running.stub.Normalize(pb.NormalizeRequest(transcript=HOMOPHONE),
                                            timeout=10)
        assert back.normalized and back.canonical_id == "weather.today"


async def test_failing_embedder_opens_the_circuit_and_probes_grow(shipped_store, controlled):
    async with serve(shipped_store, controlled, breaker_failures=2,
                     breaker_probe_interval=0.05, breaker_probe_max=0.4) as running:
        controlled.fail = True
        for _ in range(2):
            await running.stub.Normalize(pb.NormalizeRequest(transcript=HOMOPHONE))
        assert running.server.breaker.state is not CircuitState.CLOSED

        def probe_times() -> list[float]:
            return [t for (texts, _), t in zip(controlled.calls, controlled.call_times,
                                               strict=True) if texts == [PROBE_TEXT]]
        await poll_until(lambda: len(probe_times()) >= 4, timeout=15, what="four probes")
        times = probe_times()
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # 0.1, 0.2, 0.4 s between probes (doubling from 0.05, capped at 0.4)
        assert gaps[0] >= 0.09 and gaps[1] >= 0.18 and gaps[2] >= 0.36, gaps
        controlled.fail = False
        await poll_until(lambda: running.server.breaker.state is CircuitState.CLOSED,
                         timeout=15, what="the circuit to close")
        text = (await running.stub.Normalize(pb.NormalizeRequest(transcript=HOMOPHONE))).text
        assert text == "今天的天气怎么样"


async def test_embedder_health_is_not_serving_before_the_warm_up(shipped_store, controlled):
    import asyncio

    controlled.gate = asyncio.Event()
    async with serve(shipped_store, controlled, wait_ready=False) as running:
        await asyncio.wait_for(controlled.entered.wait(), 10)
        assert await health(running.channel, EMBEDDER_HEALTH_SERVICE) == NOT_SERVING
        assert gauge(running, "normalizer_embedder_up") == 0
        controlled.gate.set()
        await asyncio.wait_for(running.server.ready.wait(), 30)
        await poll_until(lambda: gauge(running, "normalizer_embedder_up") == 1,
                         what="embedder_up after the warm-up")
        assert await health(running.channel, EMBEDDER_HEALTH_SERVICE) == SERVING
