"""Open-loop gRPC load: ``Normalize`` at a fixed rate, whatever the answers do.

    python -m loadtest.openloop [--target HOST:PORT] [--rate 100] [--duration 10]
        [--max-outstanding 512] [--timeout 1.0] [--transcripts FILE]...
        [--json FILE] [--png FILE] [--index STORE] [--serve-flags "..."]

A request is due every 1/rate s from the start, sent whether or not earlier ones have
answered (so a slow server cannot slow the load down and hide its own queueing); when
``--max-outstanding`` requests are already in flight a due request is not sent and is
counted as ``SKIPPED_OUTSTANDING``. Transcripts come from JSON Lines files (contract
section 4: ``transcript`` and ``locale``; default: the held-out ``tests/data/*.test.jsonl``)
or plain text files (one transcript a line, ``--locale``), cycled in order. Loopback only:
``--target`` must be 127.0.0.1/localhost/[::1]. Without ``--target`` it builds the shipped
catalog (local embedder) unless given ``--index``, and starts ``normalizer serve`` itself.

Prints a table (p50/p90/p99/p99.9 of answered requests, offered and achieved rate,
gRPC statuses, fallback reasons, the timed-out share, the machine's load average) and
writes the same as JSON with ``--json``; ``--png`` draws latency over time (matplotlib,
the ``plot`` or ``dev`` extra). Stops by itself after ``--duration`` plus at most
``--timeout`` + 5 s. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import numpy as np

from loadtest.normalize_latency import ROOT, start_server
from loadtest.reload_under_load import TIMED_OUT, build
from normalizer._proto import normalizer_pb2 as pb
from normalizer._proto import normalizer_pb2_grpc as pb_grpc

__all__ = ["Sample", "load_transcripts", "run", "summarise"]

HELD_OUT = sorted((ROOT / "tests" / "data").glob("cases.*.test.jsonl"))
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
SKIPPED = "SKIPPED_OUTSTANDING"


@dataclass
class Sample:
    sent: float                 # seconds from the start
    latency: float | None = None
    status: str = "NEVER_ANSWERED"   # a gRPC status name, or SKIPPED
    fallback: str = ""          # the Fallback name, for OK answers


def load_transcripts(paths: list[Path], locale: str = "") -> list[tuple[str, str]]:
    """(transcript, locale) pairs; JSON Lines files interleaved line by line, so that a
    short run still sees every file's locale."""
    per_file: list[list[tuple[str, str]]] = []
    for path in paths:
        items = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            if line.lstrip().startswith("{"):
                case = json.loads(line)
                items.append((case["transcript"], case.get("locale", locale)))
            else:
                items.append((line.strip(), locale))
        per_file.append(items)
    out = []
    for i in range(max((len(f) for f in per_file), default=0)):
        out.extend(f[i] for f in per_file if i < len(f))
    if not out:
        raise SystemExit("no transcripts in " + ", ".join(map(str, paths)))
    return out


def check_loopback(target: str) -> None:
    host = target.rsplit(":", 1)[0]
    if host not in LOOPBACK:
        raise SystemExit(f"--target {target}: the load generator only talks to loopback")


async def run(address: str, items: list[tuple[str, str]], rate: float, duration: float,
              max_outstanding: int = 512, timeout: float = 1.0) -> list[Sample]:
    """Send ``rate`` requests/s for ``duration`` s; one Sample per due request."""
    samples: list[Sample] = []
    tasks: set[asyncio.Task[None]] = set()

    async def one(stub: pb_grpc.QueryNormalizerStub, text: str, locale: str,
                  sample: Sample, started: float) -> None:
        try:
            answer = await stub.Normalize(pb.NormalizeRequest(transcript=text, locale=locale),
                                          timeout=timeout)
            sample.status = "OK"
            sample.fallback = pb.Fallback.Name(answer.fallback)
        except grpc.aio.AioRpcError as exc:
            sample.status = exc.code().name
        sample.latency = time.perf_counter() - started

    async with grpc.aio.insecure_channel(address) as channel:
        await asyncio.wait_for(channel.channel_ready(), 10)
        stub = pb_grpc.QueryNormalizerStub(channel)
        t0 = time.perf_counter()
        for i in range(int(rate * duration)):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            now = time.perf_counter()
            sample = Sample(now - t0)
            samples.append(sample)
            if len(tasks) >= max_outstanding:
                sample.status = SKIPPED
                continue
            text, locale = items[i % len(items)]
            task = asyncio.create_task(one(stub, text, locale, sample, now))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=timeout + 5)
            for task in late:
                task.cancel()
    return samples


def _pct(values: np.ndarray, q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None


def summarise(samples: list[Sample], rate: float, duration: float) -> dict[str, Any]:
    """The figures: counts add up to ``due``; latencies in ms over answered (OK) requests."""
    ok = [s for s in samples if s.status == "OK"]
    ms = np.array([s.latency * 1e3 for s in ok if s.latency is not None])
    statuses = Counter(s.status for s in samples)
    fallbacks = Counter(s.fallback.removeprefix("FALLBACK_").lower() for s in ok)
    timed_out = sum(1 for s in ok if pb.Fallback.Value(s.fallback) in TIMED_OUT) + \
        statuses.get("DEADLINE_EXCEEDED", 0)
    ends = [s.sent + s.latency for s in ok if s.latency is not None]
    span = max(ends) if ends else duration
    return {
        "target_rate": rate, "duration": duration, "due": len(samples),
        "sent": len(samples) - statuses.get(SKIPPED, 0),
        "offered_rate": len(samples) / duration if duration else 0.0,
        "achieved_rate": len(ok) / span if span else 0.0,
        "statuses": dict(statuses.most_common()),
        "fallbacks": dict(fallbacks.most_common()),
        "timed_out": timed_out, "timed_out_share": timed_out / max(1, len(samples)),
        "latency_ms": {"p50": _pct(ms, 50), "p90": _pct(ms, 90), "p99": _pct(ms, 99),
                       "p99.9": _pct(ms, 99.9), "max": float(ms.max()) if len(ms) else None},
        "loadavg": list(os.getloadavg()), "cpus": os.cpu_count(),
    }


def table(figures: dict[str, Any]) -> str:
    lat = figures["latency_ms"]
    fmt = {k: "-" if v is None else f"{v:.2f}" for k, v in lat.items()}
    rows = [
        ("target / offered / achieved req/s", f"{figures['target_rate']:.1f} / "
         f"{figures['offered_rate']:.1f} / {figures['achieved_rate']:.1f}"),
        ("due / sent", f"{figures['due']} / {figures['sent']}"),
        ("latency ms p50 / p90 / p99 / p99.9 / max",
         " / ".join(fmt[k] for k in ("p50", "p90", "p99", "p99.9", "max"))),
        ("gRPC statuses", ", ".join(f"{k} {v}" for k, v in figures["statuses"].items())),
        ("fallbacks (OK answers)", ", ".join(f"{k} {v}" for k, v in
                                             figures["fallbacks"].items()) or "-"),
        ("timed out (deadline / embedder_unavailable / DEADLINE_EXCEEDED)",
         f"{figures['timed_out']} ({100 * figures['timed_out_share']:.1f}%)"),
        ("load average 1/5/15 min", " / ".join(f"{x:.2f}" for x in figures["loadavg"])
         + f" on {figures['cpus']} cores"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def plot(samples: list[Sample], png: Path, title: str) -> None:
    try:
        import matplotlib
    except ImportError as exc:
        raise SystemExit("--png needs matplotlib: pip install '.[plot]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
    answered = [s for s in samples if s.latency is not None]
    groups: dict[str, list[Sample]] = {}
    for s in answered:
        key = s.fallback.removeprefix("FALLBACK_").lower() if s.status == "OK" else s.status
        groups.setdefault(key, []).append(s)
    for key, group in sorted(groups.items()):
        top.scatter([s.sent for s in group], [s.latency * 1e3 for s in group if s.latency],
                    s=4, alpha=0.5, label=f"{key} ({len(group)})")
    edges = np.arange(0, max((s.sent for s in samples), default=0) + 1.0, 1.0)
    mids, p50, p99, rate = [], [], [], []
    for lo in edges:
        here = [s.latency * 1e3 for s in answered if lo <= s.sent < lo + 1 and s.latency]
        done = sum(1 for s in answered if s.status == "OK" and lo <= s.sent + (s.latency or 0)
                   < lo + 1)
        mids.append(lo + 0.5)
        p50.append(np.percentile(here, 50) if here else np.nan)
        p99.append(np.percentile(here, 99) if here else np.nan)
        rate.append(done)
    top.plot(mids, p50, color="black", label="p50 per s")
    top.plot(mids, p99, color="tab:red", label="p99 per s")
    top.set_yscale("log")
    top.set_ylabel("latency (ms)")
    top.legend(loc="upper left", fontsize=7, markerscale=3)
    top.set_title(title)
    bottom.bar(mids, rate, width=0.9, color="tab:green")
    bottom.set_ylabel("answers per s")
    bottom.set_xlabel("seconds since start (by send time)")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", metavar="HOST:PORT", help="a running server (loopback)")
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load")
    parser.add_argument("--max-outstanding", type=int, default=512)
    parser.add_argument("--timeout", type=float, default=1.0, help="deadline per request (s)")
    parser.add_argument("--transcripts", type=Path, action="append",
                        help="JSONL cases or one transcript a line (repeatable)")
    parser.add_argument("--locale", default="", help="locale of plain-text transcripts")
    parser.add_argument("--index", type=Path, help="store to serve (default: build one)")
    parser.add_argument("--serve-flags", default="", help="extra flags for normalizer serve")
    parser.add_argument("--json", type=Path, metavar="FILE")
    parser.add_argument("--png", type=Path, metavar="FILE")
    args = parser.parse_args(argv)
    items = load_transcripts(args.transcripts or HELD_OUT, args.locale)
    with tempfile.TemporaryDirectory(prefix="openloop-") as tmp:
        proc = None
        if args.target:
            check_loopback(args.target)
            address = args.target
        else:
            store = args.index
            if store is None:
                store = Path(tmp) / "store"
                print("building the shipped catalog (local embedder) ...", flush=True)
                build(ROOT / "canonical_queries", store)
            proc, address = start_server(store, shlex.split(args.serve_flags))
        try:
            samples = asyncio.run(run(address, items, args.rate, args.duration,
                                      args.max_outstanding, args.timeout))
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(15)
    figures = summarise(samples, args.rate, args.duration)
    figures["target"] = args.target or f"normalizer serve {args.serve_flags}".strip()
    print(table(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    if args.png:
        plot(samples, args.png, f"open loop {args.rate:.0f} req/s -> {figures['target']}")
        print(f"plot written to {args.png}")
    return figures


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
