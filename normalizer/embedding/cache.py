"""Embedding cache: vectors by what determines them - model, dimensions, text format, text.

A vector depends on the model, on how many leading dimensions are kept, and on the exact
input the model sees: the text dressed by the text format for its kind (query or
document), plus any request field the format adds (``input_type``). ``EmbeddingKeyspace``
turns exactly that into a 32-byte key, so the same key means the same vector whoever
asks: an index build (documents) and, later, the serving path (queries). With a
symmetric format (``e5-symmetric``) a catalog text and the same words spoken by a user
share one key.

Two stores hold vectors by key behind the small ``VectorCache`` protocol:

- ``MemoryVectorCache``: in-process, least-recently-used, optionally bounded;
- ``SqliteVectorCache``: a file in the index store (``STORE/embeddings.sqlite``) that
  index builds share, so a rebuild embeds only texts it has not seen. Its entries carry
  the time they were last used, and ``prune`` drops those no kept version needs.

A cache is never a source of truth: if the file cannot be read or written, the caller is
told once in the log and everything is embedded afresh (misses, never wrong vectors).

``embed_cached`` is the one place that looks keys up, embeds the misses in batches and
stores them; ``CachingEmbedder`` puts it behind the ``Embedder`` protocol.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from normalizer.embedding.base import Embedder, Kind
from normalizer.embedding.formats import TextFormat

__all__ = ["CacheStats", "CachingEmbedder", "EmbeddingKeyspace", "MemoryVectorCache",
           "SqliteVectorCache", "VectorCache", "embed_cached"]

logger = logging.getLogger(__name__)

# SQLite's default limit of bound variables per statement is 999 on old builds.
_SQL_CHUNK = 500


@dataclass(frozen=True)
class EmbeddingKeyspace:
    """What makes two embedder calls give the same vector, apart from the text."""

    model: str
    dimensions: int | None          # kept leading dimensions; None = the model's own
    text_format: TextFormat

    @classmethod
    def of(cls, embedder: Embedder, dimensions: int | None) -> EmbeddingKeyspace:
        return cls(embedder.model, dimensions, embedder.text_format)

    def key(self, text: str, kind: Kind) -> bytes:
        """SHA-256 of the model, the dimensions and the input exactly as the model sees it."""
        seen = [self.model, self.dimensions, self.text_format.render(text, kind),
                self.text_format.request_fields(kind)]
        return hashlib.sha256(json.dumps(seen, ensure_ascii=False, sort_keys=True)
                              .encode("utf-8")).digest()


class VectorCache(Protocol):
    """Vectors by key. ``get_many`` returns the keys it holds; ``put_many`` adds or replaces."""

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]: ...

    def put_many(self, items: Mapping[bytes, np.ndarray]) -> None: ...


class MemoryVectorCache:
    """In-process vectors, least recently used first out once ``max_entries`` is reached."""

    def __init__(self, max_entries: int | None = None) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found = {}
        for key in keys:
            vector = self._entries.get(key)
            if vector is not None:
                self._entries.move_to_end(key)
                found[key] = vector
        return found

    def put_many(self, items: Mapping[bytes, np.ndarray]) -> None:
        for key, vector in items.items():
            self._entries[key] = np.array(vector, dtype=np.float32)
            self._entries.move_to_end(key)
        if self.max_entries is not None:
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


class SqliteVectorCache:
    """Vectors in one SQLite file: ``key`` (32 bytes), ``vector`` (float32 bytes), ``used_at``.

    Every entry read or written is stamped with ``now`` (when the cache was opened, by
    default); ``mark_used(at, version)`` restamps every entry this object read or wrote
    and records when ``version`` was published, which a build does once it is.
    ``prune(before)`` then drops entries that no version published since ``before`` used.
    A file that cannot be opened, read or written disables the cache with one warning.
    """

    def __init__(self, path: str | Path, now: float | None = None) -> None:
        self.path = Path(path)
        self.now = time.time() if now is None else now
        self._db: sqlite3.Connection | None = None
        self._broken = False
        self._used: set[bytes] = set()

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None and not self._broken:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=30)
                db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, "
                           "vector BLOB NOT NULL, used_at REAL NOT NULL)")
                db.execute("CREATE INDEX IF NOT EXISTS vectors_used_at ON vectors (used_at)")
                db.execute("CREATE TABLE IF NOT EXISTS publications (version TEXT PRIMARY KEY, "
                           "at REAL NOT NULL)")
                db.commit()
                self._db = db
            except (sqlite3.Error, OSError) as exc:
                self._disable(exc)
        return self._db

    def _disable(self, exc: Exception) -> None:
        logger.warning("embedding cache %s unusable (%s); embedding every text afresh",
                       self.path, exc)
        self._broken = True
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection | None]:
        db = self._connect()
        if db is None:
            yield None
            return
        try:
            with db:                      # commits, or rolls back on an exception
                yield db
        except sqlite3.Error as exc:
            self._disable(exc)

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        if self._db is None and not self.path.exists():   # created by the first put_many
            return found
        with self._transaction() as db:
            if db is None:
                return found
            unique = list(dict.fromkeys(keys))
            for start in range(0, len(unique), _SQL_CHUNK):
                chunk = unique[start:start + _SQL_CHUNK]
                marks = ",".join("?" * len(chunk))
                for key, blob in db.execute(
                        f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk):
                    found[bytes(key)] = np.frombuffer(blob, dtype=np.float32)
                db.execute(f"UPDATE vectors SET used_at = ? WHERE key IN ({marks})",
                           [self.now, *chunk])
        if self._broken:
            return {}
        self._used.update(found)
        return found

    def put_many(self, items: Mapping[bytes, np.ndarray]) -> None:
        with self._transaction() as db:
            if db is not None:
                db.executemany(
                    "INSERT OR REPLACE INTO vectors (key, vector, used_at) VALUES (?, ?, ?)",
                    [(key, np.asarray(v, dtype=np.float32).tobytes(), self.now)
                     for key, v in items.items()])
                self._used.update(items)

    def mark_used(self, at: float, version: str | None = None) -> None:
        """Stamp every entry this object read or wrote as used at ``at``, and remember
        that ``version`` (the one they went into) was published then."""
        used = list(self._used)
        with self._transaction() as db:
            if db is not None:
                for start in range(0, len(used), _SQL_CHUNK):
                    chunk = used[start:start + _SQL_CHUNK]
                    db.execute(f"UPDATE vectors SET used_at = ? WHERE key IN "
                               f"({','.join('?' * len(chunk))})", [at, *chunk])
                if version is not None:
                    db.execute("INSERT OR REPLACE INTO publications (version, at) VALUES (?, ?)",
                               (version, at))

    def published_at(self, versions: Sequence[str]) -> dict[str, float]:
        """When each of ``versions`` was marked used (those this cache knows of)."""
        if self._db is None and not self.path.exists():
            return {}
        with self._transaction() as db:
            if db is not None:
                marks = ",".join("?" * len(versions))
                return {str(v): float(at) for v, at in db.execute(
                    f"SELECT version, at FROM publications WHERE version IN ({marks})",
                    list(versions))}
        return {}

    def prune(self, before: float, keep_versions: Sequence[str] = ()) -> int:
        """Drop entries last used before ``before`` (a ``time.time()`` value), and the
        publication records of versions not in ``keep_versions``; return entries dropped."""
        with self._transaction() as db:
            if db is not None:
                marks = ",".join("?" * len(keep_versions))
                db.execute(f"DELETE FROM publications WHERE version NOT IN ({marks})",
                           list(keep_versions))
                return int(db.execute("DELETE FROM vectors WHERE used_at < ?",
                                      (before,)).rowcount)
        return 0

    def __len__(self) -> int:
        with self._transaction() as db:
            if db is not None:
                return int(db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
        return 0

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


@dataclass
class CacheStats:
    """What one or more ``embed_cached`` calls took from the cache and from the embedder."""

    reused: int = 0
    embedded: int = 0


async def embed_cached(embedder: Embedder, cache: VectorCache, keyspace: EmbeddingKeyspace,
                       texts: Sequence[str], kind: Kind, *, batch_size: int = 64,
                       stats: CacheStats | None = None,
                       on_batch: Callable[[int], object] | None = None,
                       deadline: float | None = None) -> np.ndarray:
    """Vectors of ``texts`` (one row each, in order): cached ones looked up, the others
    embedded ``batch_size`` at a time and stored as each batch arrives (so a build that
    fails half-way keeps what it paid for). ``on_batch(n)`` is told of every batch;
    ``deadline`` is passed on to the embedder."""
    keys = [keyspace.key(text, kind) for text in texts]
    if not keys:
        return np.zeros((0, 0), dtype=np.float32)
    unique = dict(zip(keys, texts, strict=True))
    found = cache.get_many(keys)
    missing = {key: text for key, text in unique.items() if key not in found}
    fresh = await _embed_into(embedder, cache, missing, kind, batch_size, on_batch, deadline)
    widths = {v.shape[0] for v in (*found.values(), *fresh.values())}
    if len(widths) > 1:
        # One keyspace gives one width, unless the server behind a model name changed.
        logger.warning("cached vectors and the embedder disagree on dimensions (%s); "
                       "embedding these texts again", sorted(widths))
        found = {}
        fresh = await _embed_into(embedder, cache, unique, kind, batch_size, on_batch,
                                  deadline)
    if stats is not None:
        stats.reused += sum(1 for key in keys if key in found)
        stats.embedded += len(fresh)
    rows = [found[key] if key in found else fresh[key] for key in keys]
    return np.ascontiguousarray(np.vstack(rows), dtype=np.float32)


async def _embed_into(embedder: Embedder, cache: VectorCache, texts: Mapping[bytes, str],
                      kind: Kind, batch_size: int,
                      on_batch: Callable[[int], object] | None,
                      deadline: float | None) -> dict[bytes, np.ndarray]:
    """Embed ``texts`` (by key) in batches, storing each batch in ``cache`` as it comes."""
    fresh: dict[bytes, np.ndarray] = {}
    pending = list(texts.items())
    for start in range(0, len(pending), batch_size):
        chunk = pending[start:start + batch_size]
        vectors = await embedder.embed([text for _, text in chunk], kind, deadline)
        batch = {key: vectors[i] for i, (key, _) in enumerate(chunk)}
        cache.put_many(batch)
        fresh.update(batch)
        if on_batch is not None:
            on_batch(len(chunk))
    return fresh


class CachingEmbedder:
    """An ``Embedder`` that answers from ``cache`` what it can and embeds only the rest."""

    def __init__(self, embedder: Embedder, cache: VectorCache, dimensions: int | None) -> None:
        self.inner = embedder
        self.cache = cache
        self.keyspace = EmbeddingKeyspace.of(embedder, dimensions)
        self.model = embedder.model
        self.text_format = embedder.text_format
        self.stats = CacheStats()

    async def embed(self, texts: Sequence[str], kind: Kind,
                    deadline: float | None = None) -> np.ndarray:
        """Cached vectors, and the rest from the inner embedder in one call."""
        return await embed_cached(self.inner, self.cache, self.keyspace, texts, kind,
                                  batch_size=max(1, len(texts)), stats=self.stats,
                                  deadline=deadline)

    async def aclose(self) -> None:
        await self.inner.aclose()

