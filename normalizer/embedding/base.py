"""The Embedder protocol every backend implements, and the checks every answer passes."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Literal, Protocol

import numpy as np

from normalizer.embedding.formats import TextFormat
from normalizer.errors import EmbedderResponseError

__all__ = ["TIMEOUT_TEXTS", "Embedder", "Kind", "call_budget", "call_timeout", "unit_rows"]

Kind = Literal["query", "document"]

# An embedder timeout is for this many texts; a call with more texts gets more time.
TIMEOUT_TEXTS = 32


def call_timeout(timeout: float, texts: int) -> float:
    """The time one embedder call of ``texts`` texts may take: ``timeout`` per 32 texts."""
    return timeout * max(1, math.ceil(texts / TIMEOUT_TEXTS))


def call_budget(timeout: float, deadline: float | None) -> tuple[float, bool]:
    """Seconds a call may take: its own ``timeout``, or less when the caller's ``deadline``
    (a ``time.monotonic()`` value) comes first; and whether the deadline is the limit."""
    if deadline is None:
        return timeout, False
    left = deadline - time.monotonic()
    return (left, True) if left < timeout else (timeout, False)


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors, one row per text.

    ``kind`` says whether the texts are incoming transcripts (``"query"``) or
    catalog texts (``"document"``); the backend applies its ``text_format``.
    ``deadline`` (a ``time.monotonic()`` value) is the caller's: a backend that can
    stop a call stops it then and raises ``EmbedderDeadlineError``; the caller bounds
    its own wait in any case.
    """

    model: str          # the model name recorded in the index
    text_format: TextFormat

    async def embed(self, texts: Sequence[str], kind: Kind,
                    deadline: float | None = None) -> np.ndarray: ...

    async def aclose(self) -> None: ...


def unit_rows(matrix: np.ndarray, expected_rows: int, dimensions: int | None) -> np.ndarray:
    """Check an embedder's answer and return it as unit-length float32 rows.

    ``dimensions`` keeps only the leading N components (Matryoshka truncation)
    before re-normalising; that is correct whether or not the server truncated.
    """
    if matrix.ndim != 2 or matrix.shape[0] != expected_rows:
        raise EmbedderResponseError(
            f"expected {expected_rows} vectors, got an array of shape {matrix.shape}")
    if dimensions is not None:
        if matrix.shape[1] < dimensions:
            raise EmbedderResponseError(
                f"asked for {dimensions} dimensions but the model gives {matrix.shape[1]}")
        matrix = matrix[:, :dimensions]
    matrix = np.asarray(matrix, dtype=np.float32)
    if not np.isfinite(matrix).all():
        raise EmbedderResponseError("the embedder returned NaN or infinite values")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if (norms == 0).any():
        raise EmbedderResponseError("the embedder returned an all-zero vector")
    return np.ascontiguousarray(matrix / norms, dtype=np.float32)
