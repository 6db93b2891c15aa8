"""A new index version under a steady request rate: what the switch costs the callers.

    python -m loadtest.reload_under_load [--rate 100] [--seconds 40] [--reload-at 15]

Serves the shipped catalog (local embedder) with a real ``normalizer serve`` and sends
``Normalize`` at a fixed rate, open loop (a request every 1/rate s whether or not the
previous ones answered), each with a 1 s deadline, cycling through noisy transcripts
that need an embedding and exact matches. At ``--reload-at`` a new version (one query
changed) becomes current, in one of two ways (``--mode``):

- ``switch``: the version was built beforehand; only ``CURRENT`` is replaced, as the
  last step of a build does, so the figures are the reload's alone;
- ``rebuild``: ``normalizer index build`` runs now, on the same cores (incremental: one
  text embedded), as a rebuild on a single host does.

The switch time is the first answer that names the new version. Prints, for the steady
part before the reload and for the reload window (reload start to switch + 2 s): the
request count, p50/p99, failed RPCs, requests never answered, answers that timed out
(FALLBACK_DEADLINE / EMBEDDER_UNAVAILABLE) or were shed (FALLBACK_OVERLOADED), and the
p99 ratio reload / steady. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import grpc

from loadtest.normalize_latency import BIN, EXACT, NOISY, ROOT, percentiles, start_server
from normalizer._proto import normalizer_pb2 as pb
from normalizer._proto import normalizer_pb2_grpc as pb_grpc

TIMED_OUT = {pb.FALLBACK_DEADLINE, pb.FALLBACK_EMBEDDER_UNAVAILABLE}
CHANGED_FROM = "text: 今天的天气怎么样"
CHANGED_TO = "text: 今天的天气怎么样呀"


@dataclass
class Sample:
    sent_at: float
    latency: float | None = None       # None: no answer (failed or never finished)
    error: str = ""
    fallback: int = 0
    version: str = ""


def build(catalog: Path, store: Path) -> None:
    subprocess.run([str(BIN / "normalizer"), "index", "build", "--queries", str(catalog),
                    "--out", str(store), "--quiet"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def prepare(tmp: Path, mode: str) -> tuple[Path, Path, str | None]:
    """The catalog copy, the store serving version 1, and (switch mode) version 2's name."""
    catalog = tmp / "catalog"
    shutil.copytree(ROOT / "canonical_queries", catalog)
    store = tmp / "store"
    build(catalog, store)
    if mode == "rebuild":
        return catalog, store, None
    v1 = (store / "CURRENT").read_text(encoding="utf-8").strip()
    change(catalog)
    build(catalog, store)
    v2 = (store / "CURRENT").read_text(encoding="utf-8").strip()
    point(store, v1)
    return catalog, store, v2


def change(catalog: Path) -> None:
    path = catalog / "zh-CN" / "weather.yaml"
    text = path.read_text(encoding="utf-8")
    assert CHANGED_FROM + "\n" in text
    path.write_text(text.replace(CHANGED_FROM + "\n", CHANGED_TO + "\n", 1), encoding="utf-8")


def point(store: Path, version: str) -> None:
    """Make ``version`` current the way the store does: write aside, then rename."""
    staged = store / ".CURRENT.bench"
    staged.write_text(version + "\n", encoding="utf-8")
    staged.replace(store / "CURRENT")


async def one(stub: pb_grpc.QueryNormalizerStub, text: str, locale: str,
              sample: Sample) -> None:
    try:
        answer = await stub.Normalize(pb.NormalizeRequest(transcript=text, locale=locale),
                                      timeout=1.0)
        sample.latency = time.perf_counter() - sample.sent_at
        sample.fallback = answer.fallback
        sample.version = answer.index_version
    except grpc.aio.AioRpcError as exc:
        sample.error = exc.code().name


async def run(address: str, catalog: Path, store: Path, v2: str | None, rate: float,
              seconds: float, reload_at: float) -> tuple[list[Sample], float, float]:
    mix = NOISY + EXACT
    samples: list[Sample] = []
    tasks: set[asyncio.Task[None]] = set()
    reload_started = 0.0
    reloader: asyncio.Task[None] | None = None

    async def reload() -> None:
        if v2 is None:
            change(catalog)
            await asyncio.to_thread(build, catalog, store)
        else:
            point(store, v2)

    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.QueryNormalizerStub(channel)
        for text, locale in mix:                     # warm up
            await stub.Normalize(pb.NormalizeRequest(transcript=text, locale=locale),
                                 timeout=5)
        v1 = (await stub.GetIndexInfo(pb.GetIndexInfoRequest(), timeout=5)).version
        start = time.perf_counter()
        for i in range(int(rate * seconds)):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if reloader is None and time.perf_counter() - start >= reload_at:
                reload_started = time.perf_counter()
                reloader = asyncio.create_task(reload())
            text, locale = mix[i % len(mix)]
            sample = Sample(time.perf_counter())
            samples.append(sample)
            task = asyncio.create_task(one(stub, text, locale, sample))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=10)
        if reloader is not None:
            await reloader
    switched = min((s.sent_at for s in samples if s.version and s.version != v1),
                   default=float("nan"))
    return samples, reload_started, switched


def report(name: str, part: list[Sample]) -> float:
    answered = [s.latency for s in part if s.latency is not None]
    failed = sum(1 for s in part if s.error)
    lost = sum(1 for s in part if s.latency is None and not s.error)
    timed_out = sum(1 for s in part if s.fallback in TIMED_OUT)
    shed = sum(1 for s in part if s.fallback == pb.FALLBACK_OVERLOADED)
    print(f"{name:<8} {len(part):5d} requests  {percentiles(answered) if answered else '-'}")
    print(f"{'':<8} failed {failed}, never answered {lost}, timed out {timed_out} "
          f"({100 * timed_out / max(1, len(part)):.2f}%), shed {shed}")
    return float(sorted(answered)[int(0.99 * (len(answered) - 1))]) if answered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--reload-at", type=float, default=15.0)
    parser.add_argument("--warm", type=float, default=5.0,
                        help="seconds at the start left out of the steady figures")
    parser.add_argument("--mode", choices=("switch", "rebuild"), default="switch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        catalog, store, v2 = prepare(Path(tmp), args.mode)
        proc, address = start_server(store, ["--reload-interval", "2"])
        try:
            samples, reload_started, switched = asyncio.run(run(
                address, catalog, store, v2, args.rate, args.seconds, args.reload_at))
        finally:
            proc.terminate()
            proc.wait(10)
    start = samples[0].sent_at
    steady = [s for s in samples if start + args.warm <= s.sent_at < reload_started]
    window = [s for s in samples if reload_started <= s.sent_at <= switched + 2.0]
    after = [s for s in samples if s.sent_at > switched + 2.0]
    print(f"mode {args.mode}: {args.rate:.0f} req/s for {args.seconds:.0f} s, "
          f"{len(NOISY)} noisy + {len(EXACT)} exact-match transcripts in turn; new version "
          f"served {switched - reload_started:.2f} s after the reload began")
    p99_steady = report("steady", steady)
    p99_reload = report("reload", window)
    report("after", after)
    total_failed = sum(1 for s in samples if s.error)
    total_lost = sum(1 for s in samples if s.latency is None and not s.error)
    print(f"all      {len(samples)} requests: failed {total_failed}, never answered "
          f"{total_lost}; p99 reload / steady = {p99_reload / p99_steady:.2f}x")


if __name__ == "__main__":
    main()
