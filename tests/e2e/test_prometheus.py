"""A real Prometheus scraping `normalizer serve`, and promtool's lint of /metrics.

Needs the system's ``prometheus`` / ``promtool`` (Debian package ``prometheus``; CI
installs it with apt). Skipped, saying so, where they are missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pytest

from normalizer._proto import normalizer_pb2 as pb
from tests.e2e.conftest import Proc, Served, free_port, http_get, wait_for

pytestmark = pytest.mark.e2e

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
NEEDS = "not on PATH; install the Debian package: apt-get install -y prometheus"


def _traffic(served: Served) -> tuple[int, int]:
    """Known traffic; returns the (normalized, fallback) transcripts it should count."""
    normalized = fallback = 0
    for _ in range(5):
        answer = served.normalize("今天天汽怎么样")
        assert answer.normalized, answer
        normalized += 1
    for _ in range(2):
        answer = served.normalize("珠穆朗玛峰有多高")
        assert answer.fallback == pb.FALLBACK_BELOW_THRESHOLD, answer
        fallback += 1
    answer = served.normalize("")
    assert answer.fallback == pb.FALLBACK_EMPTY_TRANSCRIPT, answer
    fallback += 1
    batch = served.stub.NormalizeBatch(pb.NormalizeBatchRequest(requests=[
        pb.NormalizeRequest(transcript="声音大一点"),
        pb.NormalizeRequest(transcript="turn the volume up please", locale="en-US"),
        pb.NormalizeRequest(transcript="今天的天气怎么样"),
    ]), timeout=10)
    assert [r.normalized for r in batch.responses] == [True, True, True], batch
    normalized += 3
    served.info()  # not a transcript: must not count
    return normalized, fallback


def _query(base: str, promql: str) -> list[dict[str, object]]:
    status, body = http_get(f"{base}/api/v1/query?query={urllib.parse.quote(promql)}")
    assert status == 200, body
    answer = json.loads(body)
    assert answer["status"] == "success", answer
    return list(answer["data"]["result"])


@pytest.mark.skipif(PROMETHEUS is None, reason=f"prometheus {NEEDS}")
def test_prometheus_scrapes_the_service(
        tmp_path: Path, small_store: Path, procs: Callable[..., Proc],
        serve: Callable[..., Served]) -> None:
    served = serve("--index", small_store, "--port", "0", "--metrics-port", "0")
    normalized, fallback = _traffic(served)

    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: normalizer\n    scrape_interval: 1s\n"
        "    scrape_timeout: 1s\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{served.metrics_port}']\n", encoding="utf-8")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    prometheus = procs("prometheus", [
        str(PROMETHEUS), f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}"])

    def ready() -> bool:
        if not prometheus.alive():
            pytest.fail(f"prometheus exited with {prometheus.popen.returncode}:\n"
                        f"{prometheus.tail()}")
        return http_get(f"{base}/-/ready", timeout=1.0)[0] == 200

    wait_for(ready, 30, "prometheus /-/ready", interval=0.2)

    def counts() -> dict[str, float] | None:
        result = _query(base, "normalizer_requests_total")
        values = {str(r["metric"]["outcome"]): float(r["value"][1])  # type: ignore[index]
                  for r in result}
        return values if values.get("normalized") == normalized else None

    values = wait_for(counts, 30, f"prometheus to hold normalizer_requests_total="
                                  f"{normalized} (normalized)", interval=0.5)
    assert values.get("normalized") == normalized, values
    assert values.get("fallback") == fallback, values
    assert values.get("error", 0.0) == 0.0, values

    up = _query(base, 'up{job="normalizer"}')
    assert [float(r["value"][1]) for r in up] == [1.0], up  # type: ignore[index]
    sub_ms = _query(base, 'sum(normalizer_request_duration_seconds_bucket{le="0.001"})')
    assert len(sub_ms) == 1, "no sub-millisecond bucket in normalizer_request_duration_seconds"
    reasons = _query(base, "normalizer_fallbacks_total")
    by_reason = {str(r["metric"]["reason"]): float(r["value"][1])  # type: ignore[index]
                 for r in reasons}
    assert by_reason.get("below_threshold") == 2.0, by_reason
    assert by_reason.get("empty_transcript") == 1.0, by_reason
    info = _query(base, "normalizer_index_info")
    assert len(info) == 1 and info[0]["metric"]["version"] == served.info().version, info  # type: ignore[index]


@pytest.mark.skipif(PROMTOOL is None, reason=f"promtool {NEEDS}")
def test_promtool_accepts_the_metrics(
        small_store: Path, serve: Callable[..., Served]) -> None:
    served = serve("--index", small_store, "--port", "0", "--metrics-port", "0")
    _traffic(served)
    text = served.metrics_text()
    assert "normalizer_request_duration_seconds_bucket" in text
    result = subprocess.run([str(PROMTOOL), "check", "metrics"], input=text,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, f"promtool check metrics:\n{result.stdout}{result.stderr}"
