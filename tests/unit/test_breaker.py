"""The circuit breaker's state machine, around a scripted embedder (fault injection).

The same breaker runs in front of the real embedders in tests/integration/test_breaker.py
and tests/e2e/test_embedder_faults.py; here each transition is driven one by one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import numpy as np
import pytest

from normalizer.embedding.breaker import CircuitBreaker, CircuitState
from normalizer.embedding.formats import get_format
from normalizer.errors import (
    CircuitOpenError,
    EmbedderDeadlineError,
    EmbedderResponseError,
    EmbedderUnavailableError,
)

DIMS = 4


class Scripted:
    """An embedder whose next behaviour a test sets: answer, fail, hang or misbehave."""

    model = "scripted"
    text_format = get_format("plain", "")

    def __init__(self) -> None:
        self.mode = "ok"
        self.calls = 0
        self.closed = False
        self.deadlines: list[float | None] = []

    async def embed(self, texts: Sequence[str], kind: str,
                    deadline: float | None = None) -> np.ndarray:
        self.calls += 1
        self.deadlines.append(deadline)
        if self.mode == "fail":
            raise EmbedderUnavailableError("scripted failure")
        if self.mode == "hang":
            await asyncio.Event().wait()
        if self.mode == "bug":
            raise RuntimeError("a bug in the backend")
        dims = DIMS + 1 if self.mode == "wrong-dimension" else DIMS
        vectors = np.ones((len(texts), dims), dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    async def aclose(self) -> None:
        self.closed = True


async def until(condition, what: str, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout}s")
        await asyncio.sleep(0.002)


def breaker(inner: Scripted, **kw: float) -> tuple[CircuitBreaker, list[CircuitState]]:
    changes: list[CircuitState] = []
    options = {"timeout": 0.2, "failures": 3, "probe_interval": 0.02, "probe_max": 0.08, **kw}
    b = CircuitBreaker(inner, timeout=options["timeout"], failures=int(options["failures"]),
                       probe_interval=options["probe_interval"], probe_max=options["probe_max"],
                       on_change=changes.append)
    b.dimensions = DIMS
    return b, changes


async def fail(b: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        with pytest.raises(EmbedderUnavailableError):
            await b.embed(["x"], "query")


async def test_opens_after_consecutive_failures_only() -> None:
    inner = Scripted()
    b, changes = breaker(inner)
    inner.mode = "fail"
    await fail(b, 2)
    inner.mode = "ok"
    await b.embed(["x"], "query")       # a success resets the count
    inner.mode = "fail"
    await fail(b, 2)
    assert b.state is CircuitState.CLOSED and changes == []
    await fail(b, 1)
    assert b.state is CircuitState.OPEN and changes == [CircuitState.OPEN]
    await b.aclose()


async def test_open_circuit_answers_without_calling_the_embedder() -> None:
    inner = Scripted()
    b, _ = breaker(inner, probe_interval=30, probe_max=30)
    inner.mode = "fail"
    await fail(b, 3)
    calls = inner.calls
    inner.mode = "hang"                 # were it called, the call would take 0.2 s
    for _ in range(100):
        with pytest.raises(CircuitOpenError, match="circuit open after 3 consecutive"):
            await b.embed(["x"], "query")
    assert inner.calls == calls
    await b.aclose()


async def test_probes_at_growing_intervals_and_closes_when_answered() -> None:
    inner = Scripted()
    b, changes = breaker(inner)
    inner.mode = "fail"
    await fail(b, 3)
    probe_times: list[float] = []
    opened = time.monotonic()

    def record(state: CircuitState) -> None:
        changes.append(state)
        if state is CircuitState.HALF_OPEN:
            probe_times.append(time.monotonic() - opened)
    b.on_change = record
    await until(lambda: len(probe_times) >= 4, "four failed probes")
    inner.mode = "ok"
    await until(lambda: b.state is CircuitState.CLOSED, "the circuit to close")
    # waits of 0.02, 0.04, 0.08, 0.08 (capped) s: each gap at least the one before
    gaps = np.diff([0.0, *probe_times[:4]])
    assert gaps[1] >= 0.04 * 0.9 and gaps[2] >= 0.08 * 0.9 and gaps[3] >= 0.08 * 0.9, gaps
    assert changes[:2] == [CircuitState.OPEN, CircuitState.HALF_OPEN]
    assert changes[-1] is CircuitState.CLOSED
    assert await b.embed(["x"], "query") is not None
    await b.aclose()


async def test_half_open_lets_only_the_probe_through() -> None:
    inner = Scripted()
    b, _ = breaker(inner)
    inner.mode = "fail"
    await fail(b, 3)
    inner.mode = "hang"                 # the probe hangs until its timeout
    await until(lambda: b.state is CircuitState.HALF_OPEN, "the probe to start")
    calls = inner.calls
    for _ in range(20):
        with pytest.raises(CircuitOpenError, match="half_open"):
            await b.embed(["x"], "query")
    assert inner.calls == calls
    await until(lambda: b.state is CircuitState.OPEN, "the probe to time out")
    await b.aclose()


async def test_a_call_cut_by_the_callers_deadline_does_not_count() -> None:
    inner = Scripted()
    b, _ = breaker(inner, failures=1)
    inner.mode = "hang"
    with pytest.raises(EmbedderDeadlineError):
        await b.embed(["x"], "query", deadline=time.monotonic() + 0.01)
    assert b.state is CircuitState.CLOSED
    with pytest.raises(EmbedderDeadlineError):   # no time left at all: not even tried
        await b.embed(["x"], "query", deadline=time.monotonic() - 1)
    assert b.state is CircuitState.CLOSED
    with pytest.raises(EmbedderUnavailableError, match=r"no answer within 0\.200s"):
        await b.embed(["x"], "query")         # its own timeout: the embedder's fault
    assert b.state is CircuitState.OPEN
    await b.aclose()


async def test_the_deadline_is_passed_to_the_embedder() -> None:
    inner = Scripted()
    b, _ = breaker(inner)
    deadline = time.monotonic() + 0.15
    await b.embed(["x"], "query", deadline=deadline)
    await b.embed(["x"], "query")
    assert inner.deadlines == [deadline, None]
    await b.aclose()


async def test_wrong_dimension_counts_as_a_failure() -> None:
    inner = Scripted()
    b, _ = breaker(inner, failures=2)
    inner.mode = "wrong-dimension"
    for _ in range(2):
        with pytest.raises(EmbedderResponseError, match="5 dimensions, the index has 4"):
            await b.embed(["x"], "query")
    assert b.state is CircuitState.OPEN
    await b.aclose()


async def test_a_probe_that_raises_anything_keeps_the_prober_alive() -> None:
    inner = Scripted()
    b, changes = breaker(inner)
    inner.mode = "fail"
    await fail(b, 3)
    inner.mode = "bug"
    await until(lambda: changes.count(CircuitState.HALF_OPEN) >= 2, "two probes")
    inner.mode = "ok"
    await until(lambda: b.state is CircuitState.CLOSED, "the circuit to close")
    await b.aclose()


async def test_aclose_stops_the_prober_and_closes_the_embedder() -> None:
    inner = Scripted()
    b, changes = breaker(inner, probe_interval=0.01, probe_max=0.01)
    inner.mode = "fail"
    await fail(b, 3)
    await b.aclose()
    assert inner.closed
    seen = len(changes)
    await asyncio.sleep(0.05)
    assert len(changes) == seen      # no probe after close
