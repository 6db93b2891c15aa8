"""The answer cache and the query-vector cache on the serving path, over real gRPC."""

from __future__ import annotations

from pathlib import Path

import pytest

from normalizer._proto import normalizer_pb2 as pb
from tests.conftest import write_catalog
from tests.integration.conftest import ControlledEmbedder, build_tiny_store, local_embedder, serve
from tests.integration.test_reload import publish_v2

pytestmark = pytest.mark.integration

NOISY = "今天天汽怎么样"


def counted(running, name: str) -> float:
    return running.metrics.registry.get_sample_value(name) or 0.0


async def test_a_repeated_transcript_is_answered_from_the_cache_without_the_embedder(
        shipped_store):
    controlled = ControlledEmbedder(local_embedder())
    async with serve(shipped_store, controlled, embedding_cache_entries=0) as running:
        first = await running.stub.Normalize(pb.NormalizeRequest(transcript=NOISY))
        calls = len(controlled.calls)
        # The same surface key: punctuation, width and spaces do not matter.
        again = await running.stub.Normalize(pb.NormalizeRequest(transcript=f" {NOISY}？"))
        assert len(controlled.calls) == calls
        assert (again.text, again.canonical_id, again.confidence, again.fallback) == \
            (first.text, first.canonical_id, first.confidence, first.fallback)
        assert first.normalized and first.canonical_id == "weather.today"
        assert counted(running, "normalizer_cache_hits_total") == 1
        assert counted(running, "normalizer_cache_misses_total") == 1
        # A field that changes the answer is part of the key.
        shown = await running.stub.Normalize(
            pb.NormalizeRequest(transcript=NOISY, max_candidates=2))
        assert len(controlled.calls) == calls + 1 and len(shown.candidates) == 2
        # A kept raw-text answer is given back as the caller's own text.
        out = "珠穆朗玛峰有多高"
        raw = await running.stub.Normalize(pb.NormalizeRequest(transcript=out))
        calls = len(controlled.calls)
        raw_again = await running.stub.Normalize(pb.NormalizeRequest(transcript=out + "!"))
        assert len(controlled.calls) == calls
        assert raw.fallback == raw_again.fallback == pb.FALLBACK_BELOW_THRESHOLD
        assert raw_again.text == out + "!"


async def test_an_embedder_failure_is_not_kept(shipped_store):
    controlled = ControlledEmbedder(local_embedder())
    async with serve(shipped_store, controlled, embedding_cache_entries=0,
                     breaker_failures=100) as running:
        controlled.fail = True
        failed = await running.stub.Normalize(pb.NormalizeRequest(transcript=NOISY))
        assert failed.fallback == pb.FALLBACK_EMBEDDER_UNAVAILABLE
        controlled.fail = False
        answered = await running.stub.Normalize(pb.NormalizeRequest(transcript=NOISY))
        assert answered.normalized


async def test_a_reload_starts_an_empty_cache(tmp_path: Path):
    catalog = write_catalog(tmp_path / "catalog")
    store, v1 = await build_tiny_store(tmp_path / "store", catalog)
    controlled = ControlledEmbedder(local_embedder())
    async with serve(store, controlled, embedding_cache_entries=0) as running:
        first = await running.stub.Normalize(pb.NormalizeRequest(transcript=NOISY))
        assert first.index_version == v1
        v2 = await publish_v2(tmp_path, store)
        assert await running.server.reload()
        calls = len(controlled.calls)
        second = await running.stub.Normalize(pb.NormalizeRequest(transcript=NOISY))
        assert second.index_version == v2
        assert len(controlled.calls) == calls + 1       # embedded again, for the new version
        assert counted(running, "normalizer_cache_hits_total") == 0
        third = await running.stub.Normalize(pb.NormalizeRequest(transcript=NOISY))
        assert third.index_version == v2 and len(controlled.calls) == calls + 1


async def test_the_answer_cache_off_leaves_the_vector_cache_to_spare_the_embedder(
        shipped_store):
    controlled = ControlledEmbedder(local_embedder())
    async with serve(shipped_store, controlled, answer_cache_entries=0) as running:
        first = await running.stub.Normalize(pb.NormalizeRequest(transcript=NOISY))
        calls = len(controlled.calls)
        again = await running.stub.Normalize(pb.NormalizeRequest(transcript=NOISY))
        assert len(controlled.calls) == calls
        assert again.confidence == first.confidence
        assert counted(running, "normalizer_cache_misses_total") == 0   # the cache is off
