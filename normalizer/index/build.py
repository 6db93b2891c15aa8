"""Embed a catalog and publish it as a new index version.

Embeddings go through an embedding cache when one is given (``index build`` uses the
store's own, ``STORE/embeddings.sqlite``): a text whose key - model, dimensions, text
format and the text itself - was embedded before is not embedded again, so a one-line
change to a large catalog embeds one text.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from normalizer.catalog import Catalog
from normalizer.embedding import Embedder
from normalizer.embedding.cache import (
    CacheStats,
    EmbeddingKeyspace,
    MemoryVectorCache,
    VectorCache,
    embed_cached,
)
from normalizer.errors import IndexStoreError
from normalizer.index.store import EmbeddingSpec, IndexStore

__all__ = ["BuiltVersion", "build_version", "carried_calibration", "embed_catalog"]

logger = logging.getLogger(__name__)


async def embed_catalog(catalog: Catalog, embedder: Embedder, batch_size: int,
                        progress: bool = True, *, cache: VectorCache | None = None,
                        dimensions: int | None = None,
                        stats: CacheStats | None = None) -> dict[str, np.ndarray]:
    """Vectors of every canonical text and variant, per locale, in catalog order.

    Texts found in ``cache`` (keyed with ``dimensions``, the embedder's Matryoshka
    setting) are reused; the others are embedded ``batch_size`` at a time and added
    to it. Without a cache, a text that occurs twice is still embedded once.
    """
    cache = cache if cache is not None else MemoryVectorCache()
    keyspace = EmbeddingKeyspace.of(embedder, dimensions)
    stats = stats if stats is not None else CacheStats()
    texts = {locale: [text for q in queries for text in q.texts]
             for locale, queries in catalog.locales.items()}
    everything = [text for locale_texts in texts.values() for text in locale_texts]
    with tqdm(unit="text", desc="embedding", disable=not progress, file=sys.stderr) as bar:
        matrix = await embed_cached(embedder, cache, keyspace, everything, "document",
                                    batch_size=batch_size, stats=stats, on_batch=bar.update)
    out: dict[str, np.ndarray] = {}
    row = 0
    for locale, locale_texts in texts.items():
        out[locale] = matrix[row:row + len(locale_texts)]
        row += len(locale_texts)
    return out


def carried_calibration(store: IndexStore, spec: EmbeddingSpec) -> dict[str, Any] | None:
    """The current version's calibration, if it was fitted for the same embedding.

    Confidence depends on the model and formats, not on which queries are in the
    catalog, so a rebuilt catalog keeps the calibrated meaning of its confidence.
    """
    current = store.current_version()
    if current is None:
        return None
    try:
        manifest = store.manifest(current)
    except IndexStoreError as exc:  # a broken current version must not block its repair
        logger.warning("not carrying over a calibration: %s", exc)
        return None
    try:
        same = EmbeddingSpec.from_manifest(manifest["embedding"]) == spec
    except (KeyError, TypeError, ValueError):
        same = False
    calibration = manifest.get("calibration") if same else None
    return dict(calibration) if calibration else None


@dataclass(frozen=True)
class BuiltVersion:
    """A version written by ``build_version``, and what building it took."""

    version: str
    spec: EmbeddingSpec
    embedded: int           # texts sent to the embedder
    reused: int             # texts whose vectors came from the cache


async def build_version(catalog: Catalog, embedder: Embedder, store: IndexStore, *,
                        batch_size: int = 64, progress: bool = True,
                        calibration: Callable[[EmbeddingSpec], dict[str, Any] | None]
                        | None = None,
                        cache: VectorCache | None = None, dimensions: int | None = None,
                        make_current: bool = True) -> BuiltVersion:
    """Embed ``catalog`` and write it into ``store`` as a new version.

    ``calibration`` says, once the embedding is known, which calibration the version gets
    (none: uncalibrated). ``make_current=False`` only stages the version (for a gate, or
    self-calibration, to judge it first).
    """
    stats = CacheStats()
    vectors = await embed_catalog(catalog, embedder, batch_size, progress, cache=cache,
                                  dimensions=dimensions, stats=stats)
    dimensions_out = next(iter(vectors.values())).shape[1]
    spec = EmbeddingSpec.of(embedder, dimensions_out)
    chosen = calibration(spec) if calibration is not None else None
    version = store.publish(catalog, vectors, spec, chosen, make_current=make_current)
    logger.info("%s index version %s (%d queries, model %s, %d dimensions; %d texts embedded, "
                "%d reused)", "published" if make_current else "staged", version, len(catalog),
                embedder.model, dimensions_out, stats.embedded, stats.reused)
    return BuiltVersion(version, spec, stats.embedded, stats.reused)
