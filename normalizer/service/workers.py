"""``serve --workers N``: N serving processes on one port, one ``/metrics`` endpoint.

One Python process cannot feed a GPU embedding server (or use a many-core host), so
the parent starts N workers, each a whole server of its own (index, batching queue,
caches, breaker), and serves nothing itself:

- it reserves the port: a socket bound with SO_REUSEPORT (and kept, unlistened, until
  the end) resolves ``--port 0`` and keeps the port theirs; every worker binds the same
  port with SO_REUSEPORT and the kernel spreads connections over them;
- workers are spawned, not forked (gRPC does not survive a fork), and each maps the
  index version read-only, so the page cache holds one copy for all;
- metrics: ``PROMETHEUS_MULTIPROC_DIR`` (a new directory, unless the operator set one,
  whose earlier files are then removed) is set before the workers start, so each
  writes its metrics to files there, and the parent's endpoint merges them
  (``MultiProcessCollector``); a worker that exits is marked dead so that its live
  gauges drop out;
- SIGHUP is passed on (every worker reloads); SIGTERM or SIGINT is passed on as SIGTERM
  (each drains and stops) and the parent waits for them, then kills any still running
  after the drain time; a worker that exits by itself stops the others, and the exit
  code says so: the service manager (systemd, Kubernetes) restarts the whole service.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from multiprocessing.process import BaseProcess
from pathlib import Path

from normalizer.config import Settings
from normalizer.errors import NormalizerError
from normalizer.metrics import MULTIPROC_ENV

__all__ = ["reserve_port", "supervise"]

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.2
# Beyond the workers' own drain time, how long stopping may take before they are killed.
STOP_MARGIN_SECONDS = 5.0

# Runs one worker (a whole server) in its process, and exits the process with its code.
WorkerMain = Callable[[Settings, str], None]


@contextlib.contextmanager
def reserve_port(host: str, port: int) -> Iterator[int]:
    """Bind ``host:port`` with SO_REUSEPORT (0 picks a free port) and hold it; yield the port."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise NormalizerError(f"--host {host!r} does not resolve: {exc}") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise NormalizerError(f"cannot reserve {host}:{port} for the workers ({exc}); is "
                              "the port in use by another program?") from exc
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


async def supervise(settings: Settings, index: str, worker_main: WorkerMain,
                    serve_metrics: Callable[[str], Callable[[], None]],
                    drain_seconds: float = 5.0) -> int:
    """Run ``settings.workers`` processes of ``worker_main(settings, index)`` until a
    signal or until one of them exits; return the exit code.

    ``serve_metrics(directory)`` starts the merged ``/metrics`` endpoint over the
    workers' files and returns how to stop it.
    """
    from prometheus_client import multiprocess

    given = os.environ.get(MULTIPROC_ENV)
    directory = given or tempfile.mkdtemp(prefix="normalizer-metrics-")
    for stale in Path(directory).glob("*.db"):   # an earlier run's counts are not ours
        stale.unlink()
    os.environ[MULTIPROC_ENV] = directory   # inherited by the spawned workers
    context = multiprocessing.get_context("spawn")
    workers: list[BaseProcess] = []
    try:
        with reserve_port(settings.host, settings.port) as port:
            stop_metrics = serve_metrics(directory)
            try:
                shared = dataclasses.replace(settings, port=port)
                for number in range(1, settings.workers + 1):
                    worker: BaseProcess = context.Process(target=worker_main, args=(shared, index),
                                             name=f"worker-{number}", daemon=False)
                    worker.start()
                    workers.append(worker)
                logger.info("%d workers serving %s:%d (pids %s)", len(workers),
                            settings.host, port, ", ".join(str(w.pid) for w in workers))
                code = await _watch(workers, drain_seconds)
            finally:
                for worker in workers:
                    if worker.pid is not None and not worker.is_alive():
                        multiprocess.mark_process_dead(worker.pid, directory)
                stop_metrics()
    finally:
        _stop_all(workers, 0)
        if not given:
            shutil.rmtree(directory, ignore_errors=True)
            os.environ.pop(MULTIPROC_ENV, None)
    return code


async def _watch(workers: list[BaseProcess], drain_seconds: float) -> int:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def forward(sig: int) -> None:
        for worker in workers:
            if worker.is_alive() and worker.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, sig)

    def stop() -> None:
        stopping.set()
        forward(signal.SIGTERM)

    loop.add_signal_handler(signal.SIGTERM, stop)
    loop.add_signal_handler(signal.SIGINT, stop)
    loop.add_signal_handler(signal.SIGHUP, forward, signal.SIGHUP)
    gone: list[BaseProcess] = []
    try:
        while not stopping.is_set():
            gone = [w for w in workers if not w.is_alive()]
            if gone:
                logger.error("worker %s (pid %s) exited with code %s; stopping the others",
                             gone[0].name, gone[0].pid, gone[0].exitcode)
                stop()
                break
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopping.wait(), POLL_SECONDS)
        logger.info("stopping %d workers", sum(w.is_alive() for w in workers))
        await asyncio.to_thread(_stop_all, workers, drain_seconds + STOP_MARGIN_SECONDS)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
    failed = next((code for code in (w.exitcode for w in workers) if code), 0)
    return failed or (1 if gone else 0)


def _stop_all(workers: list[BaseProcess], timeout: float) -> None:
    """Wait up to ``timeout`` seconds for the workers, then kill those left."""
    deadline = time.monotonic() + timeout
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            logger.error("worker %s (pid %s) did not stop in %.0fs; killing it",
                         worker.name, worker.pid, timeout)
            worker.kill()
            worker.join(5)
