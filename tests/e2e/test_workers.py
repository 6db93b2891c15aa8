"""`normalizer serve --workers 2`: start-up, one shared port, merged metrics, shutdown."""

from __future__ import annotations

import json
import re
import signal
import socket
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from prometheus_client.mmap_dict import MmapedDict

from normalizer._proto import normalizer_pb2 as pb
from normalizer._proto import normalizer_pb2_grpc as pb_grpc
from tests.e2e.conftest import Served, clean_env, run_cli, wait_for

pytestmark = pytest.mark.e2e

LISTENING = re.compile(r"worker-(\d) normalizer\.service\.server: gRPC listening on "
                       r"127\.0\.0\.1:(\d+)")


def children(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii")
    return {int(p) for p in text.split()}


def served_requests(metrics_dir: Path) -> dict[int, float]:
    """normalizer_requests_total in each worker's own metric file, by pid."""
    counts = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(path.stem.split("_")[1])
        counts[pid] = sum(value for key, value, *_ in MmapedDict.read_all_values_from_file(
            str(path)) if json.loads(key)[0] == "normalizer_requests")
    return counts


def test_two_workers_share_one_port_and_one_metrics_endpoint_and_stop_on_sigterm(
        serve: Callable[..., Served], small_store: Path, tmp_path: Path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"")     # left by an earlier run: removed
    served = serve("--index", small_store, "--port", "0", "--metrics-port", "0",
                   "--workers", "2",
                   env=clean_env(PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)))
    proc = served.proc
    wait_for(lambda: len(LISTENING.findall(proc.stderr())) == 2, 60, "both workers listening")
    listening = LISTENING.findall(proc.stderr())
    assert {w for w, _ in listening} == {"1", "2"}
    assert {int(p) for _, p in listening} == {served.port}
    started = proc.wait_log(r"2 workers serving 127\.0\.0\.1:(\d+) \(pids (\d+), (\d+)\)", 10)
    assert int(started.group(1)) == served.port
    workers = {int(started.group(2)), int(started.group(3))}
    assert workers <= children(proc.pid)

    # Every new connection is one the kernel gives to either worker (a channel of its
    # own subchannel pool opens its own connection).
    sent = 0
    for _ in range(4):
        for _ in range(12):
            with grpc.insecure_channel(served.address,
                                       [("grpc.use_local_subchannel_pool", 1)]) as channel:
                answer = pb_grpc.QueryNormalizerStub(channel).Normalize(
                    pb.NormalizeRequest(transcript="今天天气如何"), timeout=20)
            assert answer.canonical_id == "weather.today"
            sent += 1
        if all(served_requests(metrics_dir).get(pid) for pid in workers):
            break
    per_worker = served_requests(metrics_dir)
    assert set(per_worker) == workers and all(per_worker.values()), per_worker
    merged = served.metrics_text()
    total = sum(float(v) for v in re.findall(
        r'^normalizer_requests_total\{outcome="normalized"\} (\S+)$', merged, re.M))
    assert total == sent == sum(per_worker.values())
    assert re.search(r"^normalizer_inflight_requests 0\.0$", merged, re.M)
    assert re.search(r'^normalizer_index_info\{model="[^"]+",version="[^"]+"\} 1\.0$',
                     merged, re.M)

    proc.signal(signal.SIGTERM)
    assert proc.wait_exit(30) == 0, proc.tail()
    assert "Traceback" not in proc.stderr() and "Warning" not in proc.stderr(), proc.tail()
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or \
            "zombie" in Path(f"/proc/{pid}/status").read_text()
    with socket.socket() as sock:       # the port is free again
        sock.bind(("127.0.0.1", served.port))


def test_a_worker_that_cannot_start_stops_the_service_with_its_reason(tmp_path: Path):
    empty = tmp_path / "no-store"
    empty.mkdir()
    result = run_cli("serve", "--index", empty, "--port", "0", "--metrics-port", "0",
                     "--workers", "2", timeout=120)
    assert result.returncode == 1, result.stderr
    assert "has no current version" in result.stderr
    assert "stopping the others" in result.stderr
