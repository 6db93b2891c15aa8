"""Index store hot reload, failed loads, and refusing a mismatched embedder."""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import CollectorRegistry

from normalizer._proto import normalizer_pb2 as pb
from normalizer._proto import normalizer_pb2_grpc as pb_grpc
from normalizer.catalog import load_catalog
from normalizer.embedding.local import MODEL_NAME
from normalizer.errors import IndexMismatchError
from normalizer.index.store import IndexStore
from normalizer.metrics import Metrics
from normalizer.service.server import create_server
from tests.conftest import EN_SMALL, ZH_SMALL, Running, write_catalog
from tests.integration.conftest import (
    EXTRA_ZH,
    ControlledEmbedder,
    build_tiny_store,
    local_embedder,
    poll_until,
    relaxed_settings,
    serve,
)

pytestmark = pytest.mark.integration

SERVICE = "normalizer.v1.QueryNormalizer"


def reloads(running, result: str) -> float:
    return running.metrics.registry.get_sample_value(
        "normalizer_index_reloads_total", {"result": result}) or 0.0


async def version_of(running) -> str:
    return (await running.stub.GetIndexInfo(pb.GetIndexInfoRequest(), timeout=10)).version


def point_current_at(store: IndexStore, name: str) -> None:
    tmp = store.root / ".CURRENT.test"
    tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(tmp, store.root / "CURRENT")


async def publish_v2(tmp_path: Path, store: IndexStore) -> str:
    catalog = write_catalog(tmp_path / "catalog-v2",
                            {"zh.yaml": ZH_SMALL + EXTRA_ZH, "en.yaml": EN_SMALL})
    _, version = await build_tiny_store(store.root, catalog)
    return version


@pytest.fixture
async def tiny(tmp_path: Path) -> tuple[IndexStore, str]:
    return await build_tiny_store(tmp_path / "store", write_catalog(tmp_path / "catalog-v1"))


async def test_new_version_is_picked_up_without_errors(tmp_path, tiny):
    store, v1 = tiny
    async with serve(store, reload_interval=0.2) as running:
        assert await version_of(running) == v1
        seen: list[str] = []
        errors: list[BaseException] = []
        stop = asyncio.Event()

        async def traffic() -> None:
            while not stop.is_set():
                for text in ("今天天气怎么样啊", "播放音乐"):
                    try:
                        resp = await running.stub.Normalize(
                            pb.NormalizeRequest(transcript=text), timeout=10)
                    except grpc.aio.AioRpcError as exc:
                        errors.append(exc)
                        continue
                    if not resp.normalized:
                        errors.append(AssertionError(f"{text}: {resp}"))
                    seen.append(resp.index_version)

        loop_task = asyncio.ensure_future(traffic())
        try:
            v2 = await publish_v2(tmp_path, store)
            assert v2 != v1
            await poll_until(lambda: _eq(running, v2), 10,
                             what="GetIndexInfo reports the new version")
            await poll_until(lambda: v2 in seen, 10, what="traffic sees the new version")
        finally:
            stop.set()
            await loop_task
        alarm = await running.stub.Normalize(
            pb.NormalizeRequest(transcript="明天早上七点叫我起床"), timeout=10)
        info = await running.stub.GetIndexInfo(pb.GetIndexInfoRequest(), timeout=10)
        registry = running.metrics.registry
        assert errors == []
        assert set(seen) <= {v1, v2} and v1 in seen
        assert alarm.normalized and alarm.canonical_id == "alarm.seven"
        assert alarm.index_version == v2
        v2_catalog = load_catalog(tmp_path / "catalog-v2")
        assert {loc.locale: loc.canonical_queries for loc in info.locales} == {
            loc: len(queries) for loc, queries in v2_catalog.locales.items()}
        assert reloads(running, "ok") == 1
        assert reloads(running, "failed") == 0
        assert registry.get_sample_value("normalizer_index_info",
                                         {"version": v2, "model": MODEL_NAME}) == 1
        assert registry.get_sample_value("normalizer_index_info",
                                         {"version": v1, "model": MODEL_NAME}) is None
        assert registry.get_sample_value("normalizer_index_entries", {"locale": "zh-CN"}) == sum(
            len(q.texts) for q in v2_catalog.locales["zh-CN"])


async def point_current_at_a_broken_version(store, running) -> None:
    """Publish a version whose manifest is not JSON and wait for the failed reload."""
    broken = store.versions / "20990101T000000Z-broken000000"
    broken.mkdir()
    (broken / "manifest.json").write_text("{ this is not json", encoding="utf-8")
    point_current_at(store, broken.name)
    await poll_until(lambda: reloads(running, "failed") >= 1, 10,
                     what="a failed reload is counted")


async def _eq(running, version: str) -> bool:
    return await version_of(running) == version


async def test_corrupt_version_keeps_the_old_one(tmp_path, tiny):
    store, v1 = tiny
    async with serve(store, reload_interval=0.2) as running:
        await point_current_at_a_broken_version(store, running)
        assert reloads(running, "failed") == 1
        assert await version_of(running) == v1
        resp = await running.stub.Normalize(pb.NormalizeRequest(transcript="播放音乐"), timeout=10)
        assert resp.normalized and resp.index_version == v1
        assert running.metrics.registry.get_sample_value(
            "normalizer_index_info", {"version": v1, "model": MODEL_NAME}) == 1
        # a forced reload (SIGHUP) retries the version that failed
        running.server.request_reload()
        await poll_until(lambda: reloads(running, "failed") >= 2, 10,
                         what="request_reload retries the broken version")
        assert await version_of(running) == v1
        assert reloads(running, "ok") == 0


async def test_good_version_published_after_a_corrupt_one_is_picked_up(tmp_path, tiny):
    """The operator's fix for a corrupt current version is to build again."""
    store, _ = tiny
    async with serve(store, reload_interval=0.2) as running:
        await point_current_at_a_broken_version(store, running)
        v2 = await publish_v2(tmp_path, store)
        await poll_until(lambda: _eq(running, v2), 10, what="the next good version is served")
        assert reloads(running, "ok") == 1


async def test_version_with_incomplete_manifest_is_a_failed_reload(tmp_path, tiny):
    """Valid JSON with a key missing (e.g. written by another tool) is as corrupt as bad JSON:
    the failed reload is counted, the watcher keeps watching, and stop() stays clean."""
    store, v1 = tiny
    broken = store.versions / "20990101T000000Z-nokeys000000"
    broken.mkdir()
    (broken / "manifest.json").write_text(json.dumps({"format_version": 1, "files": {}}),
                                          encoding="utf-8")
    (broken / "catalog.json").write_text("{}", encoding="utf-8")
    metrics = Metrics(CollectorRegistry())
    server = create_server(relaxed_settings(reload_interval=0.2), local_embedder(), store,
                           metrics)
    await server.start()
    await asyncio.wait_for(server.ready.wait(), 30)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    running = Running(server, channel, pb_grpc.QueryNormalizerStub(channel), metrics)
    try:
        point_current_at(store, broken.name)
        await poll_until(lambda: reloads(running, "failed") >= 1, 5,
                         what="a failed reload is counted")
        assert await version_of(running) == v1
        v2 = await publish_v2(tmp_path, store)
        await poll_until(lambda: _eq(running, v2), 10, what="the next good version is served")
        await server.stop(0.5)      # must not raise
    finally:
        await channel.close()
        # stop() may have raised before stopping gRPC: make sure nothing leaks
        await server.grpc.stop(None)
        await server.embedder.aclose()


async def test_request_reload_switches_at_once(tmp_path, tiny):
    store, v1 = tiny
    async with serve(store, reload_interval=3600) as running:
        v2 = await publish_v2(tmp_path, store)
        assert store.current_version() == v2
        assert await version_of(running) == v1          # the watcher sleeps for an hour
        running.server.request_reload()
        await poll_until(lambda: _eq(running, v2), 10, what="request_reload switches")
        assert reloads(running, "ok") == 1


async def test_refuses_index_built_with_another_model(shipped_store):
    embedder = ControlledEmbedder(local_embedder(), model="someone/other-embedder")
    server = create_server(relaxed_settings(), embedder, shipped_store,
                           Metrics(CollectorRegistry()))
    try:
        with pytest.raises(IndexMismatchError) as info:
            await server.start()
    finally:
        await server.stop(0)
    message = str(info.value)
    assert MODEL_NAME in message and "someone/other-embedder" in message
    # and it says which is which: the index's model is the one named with the index
    assert re.search(r"index[^']*'" + re.escape(MODEL_NAME) + "'", message), message
    assert server.port == 0


async def test_embedder_of_another_dimension_is_fatal(shipped_store):
    embedder = ControlledEmbedder(local_embedder(), dimensions=128)
    async with serve(shipped_store, embedder) as running:
        fatal = running.server.fatal
        health = health_pb2_grpc.HealthStub(running.channel)
        statuses = [(await health.Check(health_pb2.HealthCheckRequest(service=s),
                                        timeout=5)).status for s in ("", SERVICE)]
        resp = await running.stub.Normalize(pb.NormalizeRequest(transcript="今天天汽怎么样"),
                                            timeout=10)
    assert isinstance(fatal, IndexMismatchError)
    assert statuses == [health_pb2.HealthCheckResponse.NOT_SERVING] * 2
    message = str(fatal)
    assert "384" in message and "128" in message
    # the index is the 384-dimensional one, the embedder gives 128
    assert re.search(r"index[^0-9]*384", message), message
    # requests still get an answer: the raw text
    assert resp.text == "今天天汽怎么样" and not resp.normalized
    assert resp.fallback == pb.FALLBACK_EMBEDDER_UNAVAILABLE
