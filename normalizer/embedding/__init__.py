"""Embedding backends behind one small protocol, picked by name from a closed registry."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from normalizer.config import Settings
from normalizer.embedding.base import Embedder, Kind
from normalizer.embedding.formats import FORMATS, TextFormat, get_format

__all__ = ["BACKENDS", "FORMATS", "Embedder", "Kind", "TextFormat", "create_build_embedder",
           "create_embedder", "get_format"]


def _local(settings: Settings) -> Embedder:
    from normalizer.embedding.local import LocalEmbedder

    return LocalEmbedder.from_settings(settings)


def _openai(settings: Settings) -> Embedder:
    from normalizer.embedding.openai import OpenAIEmbedder

    return OpenAIEmbedder.from_settings(settings)


BACKENDS: dict[str, Callable[[Settings], Embedder]] = {"local": _local, "openai": _openai}


def create_embedder(settings: Settings) -> Embedder:
    """The backend ``settings.embedder`` names (already checked against BACKENDS' keys)."""
    return BACKENDS[settings.embedder](settings)


def create_build_embedder(settings: Settings) -> Embedder:
    """The embedder of an index build, which is not on the request path: its calls get
    ``build_embedder_timeout`` (not ``embedder_timeout``) and are retried with backoff."""
    from normalizer.embedding.openai import embeddings_url
    from normalizer.embedding.retry import RetryingEmbedder

    patient = dataclasses.replace(settings, embedder_timeout=settings.build_embedder_timeout)
    where = (f"the embedder at {embeddings_url(settings.embedder_url)}"
             if settings.embedder == "openai" and settings.embedder_url
             else f"the {settings.embedder} embedder")
    advice = (f"this build waited {settings.build_embedder_timeout:g}s per 32 texts and retried "
              f"{settings.build_retries} times: raise --build-embedder-timeout or "
              "--build-retries for a slow server")
    return RetryingEmbedder(create_embedder(patient), retries=settings.build_retries,
                            backoff=settings.build_retry_backoff, where=where, advice=advice)
