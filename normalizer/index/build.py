"""Embed a catalog and publish it as a new index version."""

from __future__ import annotations

import logging
import sys
from typing import Any

import numpy as np
from tqdm import tqdm

from normalizer.catalog import Catalog
from normalizer.embedding import Embedder
from normalizer.errors import IndexStoreError
from normalizer.index.store import EmbeddingSpec, IndexStore
from normalizer.matching.confidence import shipped_calibration

__all__ = ["build_index", "carried_calibration", "embed_catalog"]

logger = logging.getLogger(__name__)


async def embed_catalog(catalog: Catalog, embedder: Embedder, batch_size: int,
                        progress: bool = True) -> dict[str, np.ndarray]:
    """Vectors of every canonical text and variant, per locale, in catalog order."""
    total = sum(len(q.texts) for qs in catalog.locales.values() for q in qs)
    out: dict[str, np.ndarray] = {}
    with tqdm(total=total, unit="text", desc="embedding", disable=not progress,
              file=sys.stderr) as bar:
        for locale, queries in catalog.locales.items():
            texts = [text for q in queries for text in q.texts]
            parts = []
            for start in range(0, len(texts), batch_size):
                chunk = texts[start:start + batch_size]
                parts.append(await embedder.embed(chunk, "document"))
                bar.update(len(chunk))
            out[locale] = np.vstack(parts)
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


async def build_index(catalog: Catalog, embedder: Embedder, store: IndexStore, *,
                      batch_size: int = 64, progress: bool = True,
                      calibrated: bool = True) -> str:
    """Embed ``catalog`` and publish it into ``store``; return the new version's name.

    The current version's calibration is carried over when the embedding is the same;
    otherwise the package's own calibration for this embedding is used, if it has one.
    ``calibrated=False`` publishes with none (the uncalibrated default model).
    """
    vectors = await embed_catalog(catalog, embedder, batch_size, progress)
    dimensions = next(iter(vectors.values())).shape[1]
    spec = EmbeddingSpec.of(embedder, dimensions)
    calibration = carried_calibration(store, spec) if calibrated else None
    if not calibrated:
        logger.info("publishing without calibration")
    elif calibration:
        logger.info("carrying over the calibration of the current version")
    else:
        calibration = shipped_calibration(spec.model, spec.dimensions, spec.text_format["name"])
        if calibration:
            logger.info("using the calibration shipped for %s", spec.model)
    version = store.publish(catalog, vectors, spec, calibration)
    logger.info("published index version %s (%d queries, model %s, %d dimensions)",
                version, len(catalog), embedder.model, dimensions)
    return version
