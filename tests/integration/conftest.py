"""Helpers for the integration tests: a controllable wrapper around the real local
embedder, bounded polling, and a tiny catalog builder for index-store tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from normalizer.catalog import load_catalog
from normalizer.embedding import create_embedder
from normalizer.errors import EmbedderInputError, EmbedderUnavailableError
from normalizer.index.store import IndexStore
from normalizer.publishing import build_index
from tests.conftest import make_settings, running_server


class ControlledEmbedder:
    """Delegates to a real embedder; a test can make it fail, hang, wait at a gate, be
    slow by ``delay`` seconds, report another model name, or cut its vectors to another
    dimension; refuse a call holding the text ``refuse`` (as a model refuses a text over
    its context) or hang on one holding ``hang_on``. It records each call and the
    deadline it was given."""

    def __init__(self, inner, *, model: str | None = None,
                 dimensions: int | None = None) -> None:
        self.inner = inner
        self.model = model if model is not None else inner.model
        self.text_format = inner.text_format
        self.dimensions = dimensions
        self.calls: list[tuple[list[str], str]] = []
        self.deadlines: list[float | None] = []
        self.call_times: list[float] = []
        self.delay = 0.0
        self.fail = False
        self.hang = False
        self.refuse: str | None = None
        self.hang_on: str | None = None
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()

    async def embed(self, texts: Sequence[str], kind: str,
                    deadline: float | None = None) -> np.ndarray:
        self.calls.append((list(texts), kind))
        self.deadlines.append(deadline)
        self.call_times.append(time.monotonic())
        self.entered.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise EmbedderUnavailableError("test: the embedder is down")
        if self.refuse in texts:
            raise EmbedderInputError(f"test: text {list(texts).index(self.refuse)} refused")
        if self.hang or self.hang_on in texts:
            await asyncio.Event().wait()   # never set: hangs until cancelled
        vectors = await self.inner.embed(texts, kind)
        if self.dimensions is not None:
            cut = vectors[:, : self.dimensions]
            cut = cut / np.linalg.norm(cut, axis=1, keepdims=True)
            vectors = np.ascontiguousarray(cut, dtype=np.float32)
        return vectors

    async def aclose(self) -> None:
        await self.inner.aclose()


def local_embedder():
    return create_embedder(make_settings())


@pytest.fixture
def controlled() -> ControlledEmbedder:
    return ControlledEmbedder(local_embedder())


async def poll_until(condition: Callable[[], Awaitable[bool] | bool], timeout: float = 10.0,
                     interval: float = 0.02, what: str = "condition") -> None:
    """Re-check ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not hold within {timeout}s")
        await asyncio.sleep(interval)


EXTRA_ZH = """\
  - id: alarm.seven
    text: 明天早上七点叫我起床
"""


async def build_tiny_store(root: Path, catalog_dir: Path) -> tuple[IndexStore, str]:
    store = IndexStore(root)
    embedder = local_embedder()
    try:
        version = await build_index(load_catalog(catalog_dir), embedder, store, progress=False)
    finally:
        await embedder.aclose()
    return store, version


# The machine is shared and has two cores: unless a test is about timing, give the
# embedder and requests without a deadline room enough not to fall back under load.
RELAXED = {"embedder_timeout": 10.0, "default_deadline": 10.0}


def relaxed_settings(**overrides: object):
    return make_settings(**{**RELAXED, **overrides})


def serve(store: IndexStore, embedder=None, wait_ready: bool = True, **overrides: object):
    """``running_server`` with relaxed timeouts and ``overrides`` applied to the settings."""
    return running_server(store, relaxed_settings(**overrides), embedder, wait_ready)
