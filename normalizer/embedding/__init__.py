"""Embedding backends behind one small protocol, picked by name from a closed registry."""

from __future__ import annotations

from collections.abc import Callable

from normalizer.config import Settings
from normalizer.embedding.base import Embedder, Kind
from normalizer.embedding.formats import FORMATS, TextFormat, get_format

__all__ = ["BACKENDS", "FORMATS", "Embedder", "Kind", "TextFormat", "create_embedder",
           "get_format"]


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
