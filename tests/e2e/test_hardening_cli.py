"""Hardening through the command line: mutual TLS between `serve` and `query`/`eval`,
the metrics endpoint on loopback, and a damaged index refused at start-up."""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import NORMALIZER, Proc, http_get, run_cli, wait_for
from tests.pki import make_pki

pytestmark = pytest.mark.e2e


def test_mutual_tls_between_serve_and_query_and_eval(
        tmp_path: Path, small_store: Path, procs: Callable[..., Proc]) -> None:
    pki = make_pki(tmp_path)
    serve = procs("normalizer-serve", [
        str(NORMALIZER), "serve", "--index", str(small_store), "--port", "0",
        "--metrics-port", "0", "--tls-cert", str(pki.server_cert),
        "--tls-key", str(pki.server_key), "--tls-client-ca", str(pki.ca)])
    port = serve.wait_log(r"gRPC listening on 127\.0\.0\.1:(\d+) \(mutual TLS\)", 60).group(1)
    address = f"127.0.0.1:{port}"
    client = ("--tls-ca", str(pki.ca), "--tls-cert", str(pki.client_cert),
              "--tls-key", str(pki.client_key))

    def answered() -> dict[str, object] | None:
        result = run_cli("query", "--server", address, *client, "今天天汽怎么样", timeout=30)
        return json.loads(result.stdout) if result.returncode == 0 else None

    answer = wait_for(answered, 60, "query over mutual TLS", interval=0.5)
    assert answer["normalized"] is True and answer["canonical_id"] == "weather.today"

    plaintext = run_cli("query", "--server", address, "今天天汽怎么样", "--timeout", "3")
    assert plaintext.returncode == 1 and "UNAVAILABLE" in plaintext.stderr, plaintext.stderr
    no_cert = run_cli("query", "--server", address, "--tls-ca", str(pki.ca), "--timeout", "3",
                      "今天天汽怎么样")
    assert no_cert.returncode == 1 and "UNAVAILABLE" in no_cert.stderr, no_cert.stderr
    half = run_cli("query", "--server", address, "--tls-ca", str(pki.ca), "--tls-cert",
                   str(pki.client_cert), "今天天汽怎么样")
    assert half.returncode == 1 and "--tls-cert and --tls-key go together" in half.stderr

    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in (
        {"transcript": "今天天汽怎么样", "expected_id": "weather.today", "locale": "zh-CN"},
        {"transcript": "珠穆朗玛峰有多高", "expected_id": None, "locale": "zh-CN"},
    )) + "\n", encoding="utf-8")
    evaluated = run_cli("eval", "--server", address, *client, "--cases", cases, "--plot", "")
    assert evaluated.returncode == 0, evaluated.stderr
    assert "correct" in evaluated.stdout
    refused = run_cli("eval", "--server", address, "--cases", cases, "--plot", "",
                      "--timeout", "3")
    assert refused.returncode == 1 and "UNAVAILABLE" in refused.stderr


def test_metrics_stay_on_loopback_when_grpc_listens_elsewhere(
        small_store: Path, procs: Callable[..., Proc]) -> None:
    # 127.0.0.2 stands for a public address: gRPC there, /metrics still on 127.0.0.1.
    serve = procs("normalizer-serve", [
        str(NORMALIZER), "serve", "--index", str(small_store), "--host", "127.0.0.2",
        "--port", "0", "--metrics-port", "0"])
    port = int(serve.wait_log(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", 60).group(1))
    serve.wait_log(r"gRPC listening on 127\.0\.0\.2:\d+", 60)
    status, body = http_get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200 and "normalizer_embedder_up" in body
    with pytest.raises(OSError), socket.create_connection(("127.0.0.2", port), timeout=2):
        pass


def test_a_damaged_index_is_refused_at_start_up(tmp_path: Path, small_store: Path,
                                                procs: Callable[..., Proc]) -> None:
    store = tmp_path / "store"
    shutil.copytree(small_store, store)
    version = (store / "CURRENT").read_text().strip()
    faiss = store / "versions" / version / "zh-CN.faiss"
    data = bytearray(faiss.read_bytes())
    data[len(data) // 2] ^= 0x01
    faiss.write_bytes(bytes(data))
    serve = procs("normalizer-serve", [
        str(NORMALIZER), "serve", "--index", str(store), "--port", "0", "--metrics-port", "0"])
    assert serve.wait_exit(60) == 1, serve.tail()
    err = serve.stderr()
    assert "zh-CN.faiss: checksum mismatch; the version is corrupt, rebuild the index" in err
    assert "gRPC listening" not in err and "Traceback" not in err, err
