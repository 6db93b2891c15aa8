"""A damaged index version is refused on reload without disturbing service, and at
start-up with a message naming the file. Each file of the new version is damaged in
turn while requests keep coming."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from prometheus_client import CollectorRegistry

from normalizer._proto import normalizer_pb2 as pb
from normalizer.errors import IndexStoreError
from normalizer.metrics import Metrics
from normalizer.service.server import create_server
from tests.conftest import EN_SMALL, ZH_SMALL, write_catalog
from tests.integration.conftest import (
    EXTRA_ZH,
    build_tiny_store,
    local_embedder,
    poll_until,
    relaxed_settings,
    serve,
)

pytestmark = pytest.mark.integration


def reloads(running, result: str) -> float:
    return running.metrics.registry.get_sample_value(
        "normalizer_index_reloads_total", {"result": result}) or 0.0


def flip(path: Path, position: int) -> bytes:
    """Flip the low bit of one byte of ``path``; return the original content."""
    original = path.read_bytes()
    damaged = bytearray(original)
    damaged[position % len(damaged)] ^= 0x01
    path.write_bytes(bytes(damaged))
    return original


async def test_each_damaged_file_is_refused_on_reload_while_serving(tmp_path):
    store, v1 = await build_tiny_store(tmp_path / "store", write_catalog(tmp_path / "c1"))
    async with serve(store, reload_interval=3600) as running:
        errors: list[BaseException] = []
        answers: list[pb.NormalizeResponse] = []
        stop = asyncio.Event()

        async def traffic() -> None:
            while not stop.is_set():
                try:
                    answers.append(await running.stub.Normalize(
                        pb.NormalizeRequest(transcript="今天天气怎么样啊"), timeout=10))
                except grpc.aio.AioRpcError as exc:
                    errors.append(exc)

        load = asyncio.ensure_future(traffic())
        try:
            # v2 is published (current) but the server has not looked yet (interval 1 h)
            _, v2 = await build_tiny_store(store.root, write_catalog(
                tmp_path / "c2", {"zh.yaml": ZH_SMALL + EXTRA_ZH, "en.yaml": EN_SMALL}))
            folder = store.versions / v2
            names = sorted(p.name for p in folder.iterdir())
            assert {"manifest.json", "catalog.json", "zh-CN.faiss", "en-US.faiss"} <= set(names)
            for i, name in enumerate(names):
                original = flip(folder / name, len((folder / name).read_bytes()) // 2)
                before = len(answers)
                running.server.request_reload()
                await poll_until(lambda i=i: reloads(running, "failed") >= i + 1, 10,
                                 what=f"the reload of v2 with {name} damaged to fail")
                await poll_until(lambda before=before: len(answers) > before + 3, 10,
                                 what="requests answered after the failed reload")
                assert running.server.matcher.index.version == v1
                (folder / name).write_bytes(original)
            running.server.request_reload()                 # repaired: now it loads
            await poll_until(lambda: running.server.matcher.index.version == v2, 10,
                             what="the repaired version is served")
        finally:
            stop.set()
            await load
    assert errors == []
    assert {a.index_version for a in answers} <= {v1, v2}
    assert all(a.normalized for a in answers)
    assert reloads(running, "failed") == len(names) and reloads(running, "ok") == 1


async def test_a_damaged_current_version_is_refused_at_start_up(tmp_path):
    store, version = await build_tiny_store(tmp_path / "store", write_catalog(tmp_path / "c"))
    flip(store.versions / version / "zh-CN.faiss", 100)
    server = create_server(relaxed_settings(), local_embedder(), store,
                           Metrics(CollectorRegistry()))
    try:
        with pytest.raises(IndexStoreError, match=r"zh-CN\.faiss: checksum mismatch; the "
                                                  "version is corrupt, rebuild the index"):
            await server.start()
    finally:
        await server.stop(0)
    assert server.port == 0
