"""A circuit breaker around any Embedder: stop calling an embedder that keeps failing.

::

    CLOSED ──(``failures`` consecutive failures)──▶ OPEN ──(wait)──▶ HALF_OPEN
      ▲                                              ▲                 │ one probe
      └──────────────── probe answered ──────────────┼─────────────────┤
                                                     └── probe failed ─┘ (wait doubles)

- CLOSED: calls go through, each bounded by the embedder timeout (per 32 texts) and
  the caller's deadline. A failure is an ``EmbedderError``, no answer within the
  embedder timeout, or vectors of another dimension than the index's; a success
  resets the count. A call cut short by the *caller's* deadline says nothing about
  the embedder and counts neither way.
- OPEN and HALF_OPEN: every call raises ``CircuitOpenError`` at once, without touching
  the embedder, so requests fall back in microseconds instead of each waiting for a
  timeout. A background task probes the embedder with one small call after
  ``probe_interval`` seconds (HALF_OPEN while it runs), doubling the wait after each
  failed probe up to ``probe_max``; the first probe answered closes the circuit.
  Probing does not wait for traffic, and no request ever pays for a probe.

``on_change`` is told every state change (metrics, health).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from collections.abc import Callable, Sequence

import numpy as np

from normalizer.embedding.base import Embedder, Kind, call_budget, call_timeout
from normalizer.embedding.formats import TextFormat
from normalizer.errors import (
    CircuitOpenError,
    EmbedderDeadlineError,
    EmbedderError,
    EmbedderInputError,
    EmbedderResponseError,
    EmbedderUnavailableError,
)

__all__ = ["CircuitBreaker", "CircuitState"]

logger = logging.getLogger(__name__)

PROBE_TEXT = "probe"


class CircuitState(enum.IntEnum):
    """The values of ``normalizer_circuit_state``."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitBreaker:
    """Wraps ``inner``; is an Embedder itself."""

    def __init__(self, inner: Embedder, *, timeout: float, failures: int = 5,
                 probe_interval: float = 0.5, probe_max: float = 10.0,
                 on_change: Callable[[CircuitState], None] | None = None) -> None:
        self.inner = inner
        self.model: str = inner.model
        self.text_format: TextFormat = inner.text_format
        self.timeout = timeout
        self.failures = failures
        self.probe_interval = probe_interval
        self.probe_max = probe_max
        self.on_change = on_change
        self.dimensions: int | None = None    # the index's; set by whoever serves one
        self._state = CircuitState.CLOSED
        self._consecutive = 0
        self._last_error: BaseException | None = None
        self._wait = probe_interval
        self._next_probe = 0.0
        self._prober: asyncio.Task[None] | None = None

    @property
    def state(self) -> CircuitState:
        return self._state

    async def embed(self, texts: Sequence[str], kind: Kind,
                    deadline: float | None = None) -> np.ndarray:
        if self._state is not CircuitState.CLOSED:
            raise CircuitOpenError(
                f"embedder circuit {self._state.name.lower()} after {self._consecutive} "
                f"consecutive failures (last: {self._last_error}); next probe in "
                f"{max(0.0, self._next_probe - time.monotonic()):.1f}s")
        try:
            vectors = await self._call(texts, kind, deadline)
        except (EmbedderDeadlineError, EmbedderInputError):
            raise                          # the caller's deadline or text: not the embedder
        except EmbedderError as exc:
            self._failed(exc)
            raise
        self._consecutive = 0
        return vectors

    async def _call(self, texts: Sequence[str], kind: Kind,
                    deadline: float | None) -> np.ndarray:
        """One bounded call of the inner embedder, its answer checked against the index."""
        budget, by_deadline = call_budget(call_timeout(self.timeout, len(texts)), deadline)
        if budget <= 0:
            raise EmbedderDeadlineError("the caller's deadline passed before the embedder call")
        try:
            vectors = await asyncio.wait_for(self.inner.embed(texts, kind, deadline), budget)
        except asyncio.TimeoutError as exc:
            if by_deadline:
                raise EmbedderDeadlineError(
                    f"no answer before the caller's deadline ({budget:.3f}s)") from exc
            raise EmbedderUnavailableError(f"no answer within {budget:.3f}s") from exc
        if self.dimensions is not None and vectors.shape[1] != self.dimensions:
            raise EmbedderResponseError(
                f"the embedder returned {vectors.shape[1]} dimensions, the index has "
                f"{self.dimensions}; was the embedding server restarted with another model?")
        return vectors

    def _failed(self, exc: BaseException) -> None:
        self._consecutive += 1
        self._last_error = exc
        if self._state is CircuitState.CLOSED and self._consecutive >= self.failures:
            self._wait = self.probe_interval
            self._next_probe = time.monotonic() + self._wait
            logger.warning("embedder circuit open after %d consecutive failures (last: %s); "
                           "answering without the embedder, first probe in %.1fs",
                           self._consecutive, exc, self._wait)
            self._set(CircuitState.OPEN)
            if self._prober is None or self._prober.done():
                self._prober = asyncio.get_running_loop().create_task(
                    self._probe_until_closed(), name="embedder-probe")

    def _set(self, state: CircuitState) -> None:
        if state is not self._state:
            self._state = state
            if self.on_change is not None:
                self.on_change(state)

    async def _probe_until_closed(self) -> None:
        while True:
            await asyncio.sleep(max(0.0, self._next_probe - time.monotonic()))
            self._set(CircuitState.HALF_OPEN)
            try:
                await self._call([PROBE_TEXT], "query", None)
            except Exception as exc:  # a probe must never end the prober: any failure counts
                self._last_error = exc
                self._wait = min(self._wait * 2, self.probe_max)
                self._next_probe = time.monotonic() + self._wait
                logger.warning("embedder probe failed (%s); next probe in %.1fs", exc, self._wait)
                self._set(CircuitState.OPEN)
                continue
            logger.info("embedder answered a probe; circuit closed")
            self._consecutive = 0
            self._last_error = None
            self._wait = self.probe_interval
            self._set(CircuitState.CLOSED)
            return

    async def aclose(self) -> None:
        if self._prober is not None:
            self._prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prober
        await self.inner.aclose()
