"""Micro-batching with bounded in-flight calls, around any Embedder.

Concurrent ``embed()`` calls are queued; whenever one of ``max_inflight`` call slots
is free, the queue is drained into one call of the inner embedder of at most
``max_batch`` texts (a request is never split; one larger than ``max_batch`` goes
alone), and each caller gets its own rows back, in its own order::

    embed(a) ─┐                        ┌─▶ a's rows
    embed(b) ─┼─▶ queue ─▶ slot ─▶ inner.embed(a + b + c) ─┼─▶ b's rows
    embed(c) ─┘   (max_wait)  (≤ max_inflight)        └─▶ c's rows

- ``max_wait`` (seconds, fractions of a millisecond are meaningful) is how long a free
  slot waits for a batch to fill; 0 sends whatever is queued when the slot frees, so
  requests batch up exactly while the embedder is busy, and an idle one answers a
  lone request at once.
- The inner embedder never sees more than ``max_inflight`` calls at once: servers
  that stall past their own limit (SGLang's ``max_running_requests``) are not pushed
  there; the queue absorbs the rest.
- Every call is cut off after its timeout (``timeout`` per 32 texts, or the latest
  deadline of the requests in it, plus ``CUTOFF_GRACE``), so a hung call frees its slot
  and fails only its own requests, while the other slots go on.
- A text the inner embedder refuses (``EmbedderInputError``) fails only its own
  request: the batch is split in halves and retried until the refused request is alone.
- A caller that stops waiting (its deadline) is dropped from the queue; if its call is
  already under way, its rows are discarded.

The queue also measures the inner embedder's throughput (texts per second while at
least one call is in flight) so that admission can tell, from the texts queued ahead
of a request, whether it would be embedded before its deadline (``expected_wait``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from normalizer.embedding.base import Embedder, Kind, call_budget, call_timeout
from normalizer.embedding.formats import TextFormat
from normalizer.errors import (
    EmbedderDeadlineError,
    EmbedderError,
    EmbedderInputError,
    EmbedderResponseError,
    EmbedderUnavailableError,
)
from normalizer.metrics import Metrics

__all__ = ["BatchingEmbedder", "Throughput"]

logger = logging.getLogger(__name__)

# A call is abandoned this long after its timeout: an inner embedder that bounds its own
# calls (the circuit breaker) reports first, and counts the failure; this is the backstop.
CUTOFF_GRACE = 0.05


@dataclass(eq=False)
class _Request:
    texts: list[str]
    kind: Kind
    deadline: float | None
    future: asyncio.Future[np.ndarray]


class Throughput:
    """Texts per second the inner embedder gets through while it is busy.

    Busy time is the time at least one call is in flight, so idle spells do not dilute
    the rate and overlapping calls are counted once: under load this is the embedder's
    capacity, with any number of slots. The last ``window`` calls count; with fewer
    than ``min_calls`` there is no figure (``None``).
    """

    def __init__(self, window: int = 32, min_calls: int = 4) -> None:
        self.min_calls = min_calls
        self._calls: deque[tuple[int, float]] = deque(maxlen=window)   # (texts, busy s)
        self._running = 0
        self._mark = 0.0           # when busy time was last added up
        self._busy = 0.0           # busy seconds since the last call ended

    def _add_busy(self, now: float) -> None:
        if self._running:
            self._busy += now - self._mark
        self._mark = now

    def started(self, now: float) -> None:
        self._add_busy(now)
        self._running += 1

    def ended(self, texts: int, now: float, ok: bool) -> None:
        """A call of ``texts`` texts ended; only answered calls say how fast it goes."""
        self._add_busy(now)
        self._running -= 1
        if ok:
            self._calls.append((texts, self._busy))
        self._busy = 0.0      # a failed call's time says nothing of the throughput

    def rate(self) -> float | None:
        if len(self._calls) < self.min_calls:
            return None
        texts = sum(n for n, _ in self._calls)
        busy = sum(s for _, s in self._calls)
        return texts / busy if busy > 0 else None


class BatchingEmbedder:
    """Wraps ``inner``; is an Embedder itself. Build and use it on one event loop."""

    def __init__(self, inner: Embedder, metrics: Metrics, *, max_batch: int, max_wait: float,
                 max_inflight: int, timeout: float) -> None:
        self.inner = inner
        self.model: str = inner.model
        self.text_format: TextFormat = inner.text_format
        self.metrics = metrics
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.max_inflight = max_inflight
        self.timeout = timeout
        self.throughput = Throughput()
        self._queue: deque[_Request] = deque()
        self._queued_texts = 0
        self._running_texts = 0
        self._slots = asyncio.Semaphore(max_inflight)
        self._work = asyncio.Event()
        self._dispatcher: asyncio.Task[None] | None = None
        self._calls: set[asyncio.Task[None]] = set()
        self._closed = False

    # -- what admission reads ----------------------------------------------------------------

    @property
    def queued_texts(self) -> int:
        """Texts waiting for a slot (requests whose caller gave up are dropped lazily)."""
        return self._queued_texts

    def expected_wait(self, texts: int) -> float | None:
        """Seconds until ``texts`` more texts would be embedded, at the measured throughput,
        behind everything queued and under way; None while there is no measure yet."""
        rate = self.throughput.rate()
        if rate is None:
            return None
        return (self._queued_texts + self._running_texts + texts) / rate

    # -- the Embedder protocol -----------------------------------------------------------------

    async def embed(self, texts: Sequence[str], kind: Kind,
                    deadline: float | None = None) -> np.ndarray:
        if self._closed:
            raise EmbedderUnavailableError("the batching queue is closed")
        if not texts:
            return await self.inner.embed(texts, kind, deadline)
        request = _Request(list(texts), kind, deadline,
                           asyncio.get_running_loop().create_future())
        self._queue.append(request)
        self._queued(len(request.texts))
        if self._dispatcher is None:
            self._dispatcher = asyncio.get_running_loop().create_task(
                self._dispatch(), name="embed-batching")
        self._work.set()
        try:
            return await request.future
        finally:
            # The caller gave up (cancelled): a queued request is skipped at dispatch,
            # a running one's rows are dropped.
            request.future.cancel()

    async def aclose(self) -> None:
        self._closed = True
        tasks = [t for t in (self._dispatcher, *self._calls) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        while self._queue:
            request = self._queue.popleft()
            if not request.future.done():
                request.future.set_exception(
                    EmbedderUnavailableError("the batching queue was closed"))
        self._queued(-self._queued_texts)
        await self.inner.aclose()

    # -- dispatch ----------------------------------------------------------------------------

    def _queued(self, change: int) -> None:
        self._queued_texts += change
        self.metrics.embed_queue_depth.set(self._queued_texts)

    def _drop_abandoned(self) -> None:
        while self._queue and self._queue[0].future.done():
            self._queued(-len(self._queue.popleft().texts))

    async def _dispatch(self) -> None:
        while True:
            await self._slots.acquire()
            try:
                self._drop_abandoned()
                while not self._queue:
                    self._work.clear()
                    await self._work.wait()
                    self._drop_abandoned()
                if self.max_wait > 0 and self._queued_texts < self.max_batch:
                    await asyncio.sleep(self.max_wait)
                batch = self._take()
            except BaseException:
                self._slots.release()
                raise
            if not batch:
                self._slots.release()
                continue
            task = asyncio.get_running_loop().create_task(self._run(batch), name="embed-call")
            self._calls.add(task)
            task.add_done_callback(self._call_done)

    def _call_done(self, task: asyncio.Task[None]) -> None:
        self._calls.discard(task)
        self._slots.release()

    def _take(self) -> list[_Request]:
        """The oldest live requests of one kind, up to ``max_batch`` texts (at least one)."""
        self._drop_abandoned()
        if not self._queue:
            return []
        kind = self._queue[0].kind
        batch: list[_Request] = []
        size = 0
        kept: deque[_Request] = deque()
        while self._queue:
            request = self._queue[0]
            if request.future.done():
                self._queued(-len(self._queue.popleft().texts))
                continue
            if request.kind != kind or (batch and size + len(request.texts) > self.max_batch):
                if request.kind == kind:
                    break           # the batch is full: keep the order of the rest
                kept.append(self._queue.popleft())   # another kind waits for its own call
                continue
            batch.append(self._queue.popleft())
            size += len(request.texts)
        self._queue.extendleft(reversed(kept))
        self._queued(-size)
        return batch

    async def _run(self, batch: list[_Request]) -> None:
        texts = sum(len(r.texts) for r in batch)
        self._running_texts += texts
        try:
            await self._call(batch)
        except asyncio.CancelledError:
            self._fail(batch, EmbedderUnavailableError("the batching queue was closed"))
            raise
        except Exception as exc:   # a bug below: no caller may wait for ever
            logger.exception("embedding call failed unexpectedly")
            self._fail(batch, EmbedderUnavailableError(f"the embedding call failed: {exc!r}"))
        finally:
            self._running_texts -= texts

    async def _call(self, batch: list[_Request]) -> None:
        """One call of the inner embedder for ``batch``; rows handed out to each request."""
        live = [r for r in batch if not r.future.done()]
        if not live:
            return
        texts = [text for r in live for text in r.texts]
        deadlines = [r.deadline for r in live]
        deadline = None if None in deadlines else max(d for d in deadlines if d is not None)
        budget, by_deadline = call_budget(call_timeout(self.timeout, len(texts)), deadline)
        budget += CUTOFF_GRACE
        if budget <= CUTOFF_GRACE:
            self._fail(live, EmbedderDeadlineError(
                "the callers' deadlines passed while their texts were queued"))
            return
        self.metrics.embed_requests.inc()
        self.metrics.embed_batch_size.observe(len(texts))
        self.throughput.started(time.monotonic())
        try:
            vectors = await asyncio.wait_for(self.inner.embed(texts, live[0].kind, deadline),
                                             budget)
            if vectors.shape[0] != len(texts):
                raise EmbedderResponseError(
                    f"expected {len(texts)} vectors, got an array of shape {vectors.shape}")
        except asyncio.TimeoutError:
            self.throughput.ended(len(texts), time.monotonic(), ok=False)
            self._fail(live, EmbedderDeadlineError(
                f"no answer before the callers' deadline ({budget:.3f}s)") if by_deadline else
                EmbedderUnavailableError(f"no answer within {budget:.3f}s for {len(texts)} "
                                         "texts; the call was abandoned"))
            return
        except EmbedderInputError as exc:
            self.throughput.ended(len(texts), time.monotonic(), ok=False)
            if len(live) == 1:
                self._fail(live, exc)
                return
            # One request's text was refused: the others must not fail with it.
            middle = len(live) // 2
            await self._call(live[:middle])
            await self._call(live[middle:])
            return
        except EmbedderError as exc:
            self.throughput.ended(len(texts), time.monotonic(), ok=False)
            self._fail(live, exc)
            return
        except BaseException:
            self.throughput.ended(len(texts), time.monotonic(), ok=False)
            raise
        self.throughput.ended(len(texts), time.monotonic(), ok=True)
        row = 0
        for request in live:
            count = len(request.texts)
            if not request.future.done():
                request.future.set_result(vectors[row:row + count])
            row += count

    @staticmethod
    def _fail(requests: Sequence[_Request], error: EmbedderError) -> None:
        for request in requests:
            if not request.future.done():
                request.future.set_exception(error)
