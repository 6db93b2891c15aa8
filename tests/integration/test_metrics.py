"""Prometheus metrics after real traffic, read from the server's own registry."""

from __future__ import annotations

import asyncio
import re
import urllib.request

import grpc
import pytest
from prometheus_client import generate_latest, start_http_server

from normalizer._proto import normalizer_pb2 as pb
from normalizer.embedding.local import MODEL_NAME
from tests.integration.conftest import serve

pytestmark = pytest.mark.integration


def value(running, name: str, **labels: str) -> float:
    got = running.metrics.registry.get_sample_value(name, labels)
    return 0.0 if got is None else got


async def send_traffic(running) -> None:
    stub = running.stub
    # Normalize: 2 normalized (1 exact, 1 embedded), 3 fallbacks, 1 error
    await stub.Normalize(pb.NormalizeRequest(transcript="今天的天气怎么样"), timeout=10)
    await stub.Normalize(pb.NormalizeRequest(transcript="今天天汽怎么样"), timeout=10)
    await stub.Normalize(pb.NormalizeRequest(transcript="珠穆朗玛峰有多高"), timeout=10)
    await stub.Normalize(pb.NormalizeRequest(transcript=""), timeout=10)
    await stub.Normalize(pb.NormalizeRequest(transcript="bonjour", locale="fr-FR"), timeout=10)
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.Normalize(pb.NormalizeRequest(transcript="hi", min_confidence=2.0),
                             timeout=10)
    # NormalizeBatch: 4 entries: 2 normalized (1 embedded), 2 fallbacks (1 embedded)
    await stub.NormalizeBatch(pb.NormalizeBatchRequest(requests=[
        pb.NormalizeRequest(transcript="turn on the livin room light please", locale="en-US"),
        pb.NormalizeRequest(transcript="Turn on the living room lights", locale="en-US"),
        pb.NormalizeRequest(transcript="   "),
        pb.NormalizeRequest(transcript="珠穆朗玛峰有多高"),
    ]), timeout=10)
    await stub.GetIndexInfo(pb.GetIndexInfoRequest(), timeout=10)


async def test_request_and_fallback_counters(shipped_store):
    async with serve(shipped_store) as running:
        await send_traffic(running)
        assert value(running, "normalizer_requests_total", outcome="normalized") == 4
        assert value(running, "normalizer_requests_total", outcome="fallback") == 5
        assert value(running, "normalizer_requests_total", outcome="error") == 1
        fallbacks = {reason: value(running, "normalizer_fallbacks_total", reason=reason)
                     for reason in ("below_threshold", "empty_transcript", "unknown_locale",
                                    "embedder_unavailable", "deadline", "overloaded")}
        assert fallbacks == {"below_threshold": 2, "empty_transcript": 2, "unknown_locale": 1,
                             "embedder_unavailable": 0, "deadline": 0, "overloaded": 0}
        text = generate_latest(running.metrics.registry).decode()
    assert 'normalizer_fallbacks_total{reason="below_threshold"} 2.0' in text
    assert "FALLBACK_" not in text
    assert not re.search(r'reason="[^"]*[A-Z]', text)


async def test_request_duration_by_method_and_outcome(shipped_store):
    async with serve(shipped_store) as running:
        await send_traffic(running)
        count = "normalizer_request_duration_seconds_count"
        assert value(running, count, method="Normalize", outcome="normalized") == 2
        assert value(running, count, method="Normalize", outcome="fallback") == 3
        assert value(running, count, method="Normalize", outcome="error") == 1
        assert value(running, count, method="NormalizeBatch", outcome="ok") == 1
        assert value(running, count, method="GetIndexInfo", outcome="ok") == 1
        total = value(running, "normalizer_request_duration_seconds_sum",
                      method="Normalize", outcome="normalized")
        assert 0.0 < total < 20.0


async def test_embed_and_search_durations_grow(shipped_store):
    async with serve(shipped_store) as running:
        embeds0 = value(running, "normalizer_embed_duration_seconds_count")
        searches0 = value(running, "normalizer_search_duration_seconds_count")
        await running.stub.Normalize(pb.NormalizeRequest(transcript="今天天汽怎么样"), timeout=10)
        assert value(running, "normalizer_embed_duration_seconds_count") == embeds0 + 1
        assert value(running, "normalizer_search_duration_seconds_count") == searches0 + 1
        # exact match: neither embed nor search
        await running.stub.Normalize(pb.NormalizeRequest(transcript="今天的天气怎么样"),
                                     timeout=10)
        assert value(running, "normalizer_embed_duration_seconds_count") == embeds0 + 1
        # a batch of 3 pending transcripts: one embed call, three searches
        await running.stub.NormalizeBatch(pb.NormalizeBatchRequest(requests=[
            pb.NormalizeRequest(transcript=t)
            for t in ("明天会下雨不", "声音大点儿吧", "放首歌吧")]), timeout=10)
        assert value(running, "normalizer_embed_duration_seconds_count") == embeds0 + 2
        assert value(running, "normalizer_search_duration_seconds_count") == searches0 + 4
        assert value(running, "normalizer_embed_duration_seconds_sum") > 0
        assert value(running, "normalizer_confidence_count") == 4


async def test_index_gauges_and_inflight(shipped_store):
    async with serve(shipped_store) as running:
        info = await running.stub.GetIndexInfo(pb.GetIndexInfoRequest(), timeout=10)
        await send_traffic(running)
        for loc in info.locales:
            assert value(running, "normalizer_index_entries", locale=loc.locale) == \
                loc.indexed_texts
        assert len(info.locales) == 2
        assert running.metrics.registry.get_sample_value(
            "normalizer_index_info", {"version": info.version, "model": MODEL_NAME}) == 1
        assert value(running, "normalizer_inflight_requests") == 0
        text = generate_latest(running.metrics.registry).decode()
    info_lines = [line for line in text.splitlines() if line.startswith("normalizer_index_info{")]
    assert len(info_lines) == 1


async def test_inflight_counts_requests_under_way(shipped_store, controlled):
    async with serve(shipped_store, controlled) as running:
        controlled.gate = asyncio.Event()
        controlled.entered.clear()
        pending = asyncio.ensure_future(running.stub.Normalize(
            pb.NormalizeRequest(transcript="今天天汽怎么样"), timeout=10))
        await asyncio.wait_for(controlled.entered.wait(), 10)
        during = value(running, "normalizer_inflight_requests")
        controlled.gate.set()
        await pending
        after = value(running, "normalizer_inflight_requests")
    assert (during, after) == (1, 0)


async def test_latency_buckets_resolve_sub_millisecond(shipped_store):
    async with serve(shipped_store) as running:
        await send_traffic(running)
        text = generate_latest(running.metrics.registry).decode()
    for name in ("normalizer_request_duration_seconds", "normalizer_embed_duration_seconds",
                 "normalizer_search_duration_seconds"):
        bounds = {float(b) for b in re.findall(name + r'_bucket\{[^}]*le="([^"]+)"', text)
                  if b != "+Inf"}
        below_ms = sorted(b for b in bounds if b < 0.001)
        assert len(below_ms) >= 3, (name, sorted(bounds))
        assert min(bounds) <= 0.0001, name
    assert re.search(r'normalizer_request_duration_seconds_bucket\{le="0.0001",'
                     r'method="Normalize",outcome="normalized"\}', text)


async def test_metrics_scraped_over_http(shipped_store):
    async with serve(shipped_store) as running:
        await send_traffic(running)
        http_server, thread = start_http_server(0, addr="127.0.0.1",
                                                registry=running.metrics.registry)
        try:
            url = f"http://127.0.0.1:{http_server.server_port}/metrics"

            def scrape() -> tuple[int, str, str]:
                with urllib.request.urlopen(url, timeout=5) as reply:
                    return reply.status, reply.headers["Content-Type"], reply.read().decode()

            status, ctype, body = await asyncio.to_thread(scrape)
        finally:
            http_server.shutdown()
            http_server.server_close()
            thread.join(5)
    assert status == 200
    assert ctype.startswith("text/plain")
    assert 'normalizer_requests_total{outcome="normalized"} 4.0' in body
    assert 'normalizer_requests_total{outcome="error"} 1.0' in body
    assert "# TYPE normalizer_request_duration_seconds histogram" in body
    assert "# TYPE normalizer_index_entries gauge" in body
    assert "normalizer_inflight_requests 0.0" in body
