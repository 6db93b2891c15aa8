"""Latency and throughput of ``Normalize`` against a real ``normalizer serve`` process.

    python -m loadtest.normalize_latency [--requests 400] [--concurrency 8]
        [--alternatives 2] [--variant NAME="--flag value ..."]...

Builds an index of the shipped catalog (local embedder) in a temporary store, then,
for each variant (a set of extra ``serve`` flags; default: one variant, no flags),
starts ``normalizer serve`` on free ports and measures from a separate client process:

- sequential ``Normalize`` of noisy transcripts that need an embedding (p50/p90/p99),
  without and with ``--alternatives`` n-best entries;
- sequential ``Normalize`` of exact-match transcripts (no embedding);
- throughput with ``--concurrency`` requests in flight.

The baseline, measured in this process on the same transcripts, is one call of the
in-process embedder: the ratio of ``Normalize`` to it shows what the service adds on
top of the model. Nothing is asserted; the figures are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc
import numpy as np

from normalizer._proto import normalizer_pb2 as pb
from normalizer._proto import normalizer_pb2_grpc as pb_grpc
from normalizer.embedding.formats import get_format
from normalizer.embedding.local import LocalEmbedder

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

NOISY = [
    ("今天天汽怎么样", "zh-CN"), ("打开书房的等", "zh-CN"), ("嗯帮我把客厅的灯打开", "zh-CN"),
    ("定一个早上七点的闹种", "zh-CN"), ("明天会不会下玉", "zh-CN"), ("放一首周杰伦的哥", "zh-CN"),
    ("把音亮调大一点", "zh-CN"), ("导航到最近的加油战", "zh-CN"), ("珠穆朗玛峰有多高", "zh-CN"),
    ("turn of the bed room lights", "en-US"), ("set a timer for ten minits", "en-US"),
    ("whats the whether like to day", "en-US"), ("uh play the next song please", "en-US"),
    ("call my mum", "en-US"), ("add eggs to the shopping lest", "en-US"),
    ("who wrote hamlet", "en-US"), ("turn the volume up a bid", "en-US"),
]
EXACT = [("今天的天气怎么样", "zh-CN"), ("打开客厅的灯", "zh-CN"),
         ("Turn on the living room lights!", "en-US"), ("what's the weather like today", "en-US")]


def percentiles(samples: list[float]) -> str:
    ms = np.array(samples) * 1e3
    return (f"p50 {np.percentile(ms, 50):7.2f} ms  p90 {np.percentile(ms, 90):7.2f} ms  "
            f"p99 {np.percentile(ms, 99):7.2f} ms  (n={len(ms)})")


def build_store(store: Path) -> None:
    subprocess.run([str(BIN / "normalizer"), "index", "build", "--queries",
                    str(ROOT / "canonical_queries"), "--out", str(store), "--quiet"],
                   check=True, stdout=subprocess.DEVNULL)


def start_server(store: Path, extra: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [str(BIN / "normalizer"), "serve", "--index", str(store), "--port", "0",
         "--metrics-port", "0", "--log-level", "INFO", *extra],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    port = None
    for line in proc.stderr:
        found = re.search(r"gRPC listening on [\d.]+:(\d+)", line)
        if found:
            port = found.group(1)
        if "SERVING" in line and port:
            break
        if time.monotonic() > deadline:
            break
    if port is None:
        proc.kill()
        raise SystemExit("normalizer serve did not start")
    # Keep reading its log, or a full pipe would stall the server.
    threading.Thread(target=proc.stderr.read, name="serve-log", daemon=True).start()
    return proc, f"127.0.0.1:{port}"


def request(text: str, locale: str, alternatives: int = 0) -> pb.NormalizeRequest:
    """A request; with ``alternatives``, an n-best of other noisy transcripts of the locale."""
    others = [t for t, loc in NOISY if loc == locale and t != text][:alternatives]
    return pb.NormalizeRequest(transcript=text, locale=locale, alternatives=[
        pb.Hypothesis(text=t, score=0.5 / (i + 1)) for i, t in enumerate(others)])


async def sequential(stub: pb_grpc.QueryNormalizerStub, items: list[tuple[str, str]],
                     n: int, alternatives: int = 0) -> list[float]:
    out = []
    for i in range(n):
        text, locale = items[i % len(items)]
        started = time.perf_counter()
        await stub.Normalize(request(text, locale, alternatives), timeout=5)
        out.append(time.perf_counter() - started)
    return out


async def throughput(stub: pb_grpc.QueryNormalizerStub, n: int, concurrency: int) -> float:
    queue = list(range(n))

    async def worker() -> None:
        while queue:
            i = queue.pop()
            text, locale = NOISY[i % len(NOISY)]
            await stub.Normalize(pb.NormalizeRequest(transcript=text, locale=locale), timeout=10)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return n / (time.perf_counter() - started)


async def measure(address: str, n: int, concurrency: int,
                  alternatives: int) -> dict[str, list[float] | float]:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.QueryNormalizerStub(channel)
        await sequential(stub, NOISY, 50)  # warm up
        return {"noisy": await sequential(stub, NOISY, n),
                "nbest": await sequential(stub, NOISY, n, alternatives),
                "exact": await sequential(stub, EXACT, n),
                "throughput": await throughput(stub, n, concurrency)}


async def embed_baseline(n: int) -> list[float]:
    embedder = LocalEmbedder(get_format("e5-symmetric", ""))
    out = []
    try:
        for i in range(n + 20):
            started = time.perf_counter()
            await embedder.embed([NOISY[i % len(NOISY)][0]], "query")
            if i >= 20:
                out.append(time.perf_counter() - started)
    finally:
        await embedder.aclose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--alternatives", type=int, default=2,
                        help="n-best alternatives in the n-best measurement (default 2)")
    parser.add_argument("--index", type=Path, help="use this store instead of building one")
    parser.add_argument("--variant", action="append", default=[], metavar='NAME="FLAGS"',
                        help="a named set of extra serve flags; repeat to compare")
    args = parser.parse_args()
    variants = [(v.split("=", 1)[0], shlex.split(v.split("=", 1)[1]) if "=" in v else [])
                for v in args.variant] or [("default", [])]
    with tempfile.TemporaryDirectory() as tmp:
        store = args.index or Path(tmp) / "store"
        if args.index is None:
            build_store(store)
        baseline = asyncio.run(embed_baseline(args.requests))
        base_p50 = statistics.median(baseline)
        print(f"baseline: in-process embed, 1 text       {percentiles(baseline)}")
        for name, extra in variants:
            proc, address = start_server(store, extra)
            try:
                figures = asyncio.run(measure(address, args.requests, args.concurrency,
                                              args.alternatives))
            finally:
                proc.terminate()
                proc.wait(10)
            noisy = figures["noisy"]
            assert isinstance(noisy, list)
            exact = figures["exact"]
            assert isinstance(exact, list)
            print(f"[{name}] Normalize, embedded           {percentiles(noisy)}")
            nbest = figures["nbest"]
            assert isinstance(nbest, list)
            print(f"[{name}] Normalize, +{args.alternatives} alternatives    {percentiles(nbest)}")
            print(f"[{name}] Normalize, exact match        {percentiles(exact)}")
            print(f"[{name}] throughput at concurrency {args.concurrency}: "
                  f"{figures['throughput']:.0f} req/s")
            print(f"[{name}] Normalize p50 / embed p50: {statistics.median(noisy) / base_p50:.2f}x"
                  f" (+{(statistics.median(noisy) - base_p50) * 1e3:.2f} ms)")


if __name__ == "__main__":
    main()
