"""How long embedder calls take: a small window of recent successful calls, by batch size.

The matcher asks it whether the time a request has left can cover an embedder call
(its 99th percentile); admission control can read the same figures. Calls are
grouped by size class (1 text, 2, 3-4, 5-8, ...), because a call of 64 texts takes
far longer than a call of one. Samples older than ``max_age`` seconds are forgotten,
so an estimate made during a slow spell does not outlive it; with fewer than
``min_samples`` recent calls of a class there is no estimate (``None``), and callers
must then not refuse work on its account.
"""

from __future__ import annotations

import math
import time
from collections import deque

__all__ = ["EmbedLatency"]


def size_class(texts: int) -> int:
    """0 for 1 text, 1 for 2, 2 for 3-4, 3 for 5-8, ..."""
    return max(0, texts - 1).bit_length()


class EmbedLatency:
    """Recent successful embedder call durations, per size class."""

    def __init__(self, window: int = 256, max_age: float = 30.0, min_samples: int = 20,
                 quantile: float = 0.99) -> None:
        self.window = window
        self.max_age = max_age
        self.min_samples = min_samples
        self.quantile = quantile
        self._samples: dict[int, deque[tuple[float, float]]] = {}   # class -> (when, seconds)

    def observe(self, texts: int, seconds: float, now: float | None = None) -> None:
        """Record one successful call of ``texts`` texts that took ``seconds``."""
        samples = self._samples.setdefault(size_class(texts), deque(maxlen=self.window))
        samples.append((time.monotonic() if now is None else now, seconds))

    def _recent(self, texts: int, now: float | None) -> list[float]:
        samples = self._samples.get(size_class(texts))
        if not samples:
            return []
        oldest = (time.monotonic() if now is None else now) - self.max_age
        while samples and samples[0][0] < oldest:
            samples.popleft()
        return [seconds for _, seconds in samples]

    def estimate(self, texts: int, now: float | None = None) -> float | None:
        """The ``quantile`` of recent call durations for ``texts`` texts, or None if too few."""
        recent = self._recent(texts, now)
        if len(recent) < self.min_samples:
            return None
        recent.sort()
        # Nearest-rank quantile: the smallest value with at least q of the samples at or below.
        return recent[min(len(recent) - 1, math.ceil(self.quantile * len(recent)) - 1)]

    def count(self, texts: int, now: float | None = None) -> int:
        """How many recent calls of this size class the estimate rests on."""
        return len(self._recent(texts, now))
