"""Patience for work off the request path: retry a failing embedder with backoff.

An index build (and its evaluation gate) is not answering a user: a busy embedding
server should make it slower, not fail it. ``RetryingEmbedder`` retries calls that
failed for a reason that can pass (timeout, refused connection, 5xx, 429), waiting
``backoff``, then twice that, and so on up to ``MAX_BACKOFF`` seconds; an answer that
can never be right (a 4xx, vectors of the wrong shape) is not retried. When it gives
up, the error names the embedder and what to check.

The request path never uses this: there a slow embedder is a fallback, at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

import numpy as np

from normalizer.embedding.base import Embedder, Kind
from normalizer.errors import EmbedderResponseError, EmbedderUnavailableError

__all__ = ["MAX_BACKOFF", "RetryingEmbedder", "backoff_delays"]

logger = logging.getLogger(__name__)

MAX_BACKOFF = 30.0


def backoff_delays(first: float, retries: int, cap: float = MAX_BACKOFF) -> list[float]:
    """Seconds to wait before each of ``retries`` retries: first, 2*first, ... at most cap."""
    return [min(cap, first * 2 ** i) for i in range(retries)]


class RetryingEmbedder:
    """An ``Embedder`` that retries transient failures of ``inner`` with backoff.

    ``where`` names the embedder in messages ("the embedder at http://.../v1/embeddings");
    ``advice`` says which settings make it more patient.
    """

    def __init__(self, inner: Embedder, *, retries: int, backoff: float, where: str,
                 advice: str = "") -> None:
        self.inner = inner
        self.model = inner.model
        self.text_format = inner.text_format
        self.delays = backoff_delays(backoff, retries)
        self.where = where
        self.advice = advice

    async def embed(self, texts: Sequence[str], kind: Kind,
                    deadline: float | None = None) -> np.ndarray:
        started = time.monotonic()
        for attempt, delay in enumerate([*self.delays, None], start=1):
            try:
                return await self.inner.embed(texts, kind, deadline)
            except EmbedderUnavailableError as exc:
                if delay is None:
                    raise EmbedderUnavailableError(
                        f"{self.where} gave no vectors for {len(texts)} texts after {attempt} "
                        f"attempt(s) over {time.monotonic() - started:.1f}s; last error: {exc}. "
                        f"Check that the embedding server is running and healthy, that its "
                        f"URL and model name are right, and that it is not overloaded"
                        + (f"; {self.advice}" if self.advice else "")) from exc
                logger.warning("%s failed (%s); retry %d of %d in %.1fs", self.where, exc,
                               attempt, len(self.delays), delay)
                await asyncio.sleep(delay)
            except EmbedderResponseError as exc:
                raise EmbedderResponseError(
                    f"{self.where} answered, but not with usable vectors: {exc}. Check that "
                    "the model name is one the server serves and that the text format suits "
                    "it") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def aclose(self) -> None:
        await self.inner.aclose()
