"""deploy/prometheus and deploy/grafana against a real Prometheus scraping a real
`normalizer serve` under traffic, across a failed and a successful index reload.

- `promtool check config`, `check rules` and `test rules` on the shipped files;
- every rule is loaded and evaluated by Prometheus without error, every recording rule
  returns data, the alerts this traffic should raise are raised;
- every dashboard query (panels, annotations, the job variable) returns data, except
  the panels whose metrics the server does not export yet, which must be exactly the
  lists below (so that this test fails, and the list is emptied, once they land).

Needs Debian's ``prometheus`` package (CI installs it); skipped, saying so, without it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml

from normalizer._proto import normalizer_pb2 as pb
from normalizer._proto import normalizer_pb2_grpc as pb_grpc
from tests.e2e.conftest import (
    EN_SMALL,
    REPO,
    ZH_SMALL,
    Proc,
    Served,
    build_store,
    free_port,
    http_get,
    wait_for,
    write_catalog,
)

pytestmark = pytest.mark.e2e

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
NEEDS = "not on PATH; install the Debian package: apt-get install -y prometheus"
DEPLOY = REPO / "deploy"
RULE_FILES = sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "normalizer.json"

# Panels whose metrics `normalizer serve` does not export yet. Empty each list when the
# work that adds the metrics lands (the test fails until then, naming the panels).
AWAITING_HARDENING: set[str] = set()   # embedder_up, circuit_state: landed with issue 10
OTHER_EXPORTERS = {        # SGLang's own /metrics: SGLang cannot run on this machine
    "Running and queued requests", "KV pool usage", "SGLang request latency p99"}
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$job": ".+"}
METRIC = re.compile(r"\b(?:normalizer[_:][A-Za-z0-9_:]*|sglang:[A-Za-z0-9_:]*|up)\b")


def _promtool(*args: str, cwd: Path) -> None:
    assert PROMTOOL is not None
    result = subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}{result.stderr}"


@pytest.mark.skipif(PROMTOOL is None, reason=f"promtool {NEEDS}")
def test_promtool_checks_config_rules_and_rule_tests() -> None:
    folder = DEPLOY / "prometheus"
    _promtool("check", "config", "prometheus.yml", cwd=folder)
    _promtool("check", "rules", *(str(p.relative_to(folder)) for p in RULE_FILES), cwd=folder)
    tests = sorted(str(p.relative_to(folder)) for p in (folder / "tests").glob("*.test.yml"))
    assert tests
    _promtool("test", "rules", *tests, cwd=folder)


def _rules() -> list[dict[str, Any]]:
    return [rule for path in RULE_FILES
            for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
            for rule in group["rules"]]


def _dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every panel target and annotation of the dashboard."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    out = [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p.get("targets", [])]
    out += [(f"annotation {a['name']}", a["expr"])
            for a in dashboard["annotations"]["list"] if "expr" in a]
    return out


def _substitute(expr: str) -> str:
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr!r}"
    return expr


def _query(base: str, promql: str) -> list[dict[str, Any]]:
    status, body = http_get(f"{base}/api/v1/query?query={urllib.parse.quote(promql)}")
    assert status == 200, f"{promql}: {body}"
    answer = json.loads(body)
    assert answer["status"] == "success", answer
    return list(answer["data"]["result"])


@pytest.fixture
def traffic(served_for_prometheus: Served) -> Iterator[Callable[[], int]]:
    """Steady, bounded traffic on a thread: normalized, left raw, batches, guard blocks."""
    stop = threading.Event()
    sent = [0]
    deadline = time.monotonic() + 180

    def run() -> None:
        with grpc.insecure_channel(served_for_prometheus.address) as channel:
            stub = pb_grpc.QueryNormalizerStub(channel)
            while not stop.is_set() and time.monotonic() < deadline:
                for text in ("今天天汽怎么样", "珠穆朗玛峰有多高", "谁写了哈姆雷特",
                             "设一个早上八点的闹钟", ""):
                    stub.Normalize(pb.NormalizeRequest(transcript=text), timeout=10)
                stub.NormalizeBatch(pb.NormalizeBatchRequest(requests=[
                    pb.NormalizeRequest(transcript="声音大一点"),
                    pb.NormalizeRequest(transcript="turn the volume up please",
                                        locale="en-US")]), timeout=10)
                sent[0] += 7
                stop.wait(0.1)

    thread = threading.Thread(target=run, name="traffic", daemon=True)
    thread.start()
    yield lambda: sent[0]
    stop.set()
    thread.join(30)


@pytest.fixture
def served_for_prometheus(tmp_path: Path, serve: Callable[..., Served]) -> Served:
    catalog = write_catalog(tmp_path / "catalog", {"zh.yaml": ZH_SMALL, "en.yaml": EN_SMALL})
    store = tmp_path / "store"
    build_store(catalog, store)
    served = serve("--index", store, "--port", "0", "--metrics-port", "0",
                   "--reload-interval", "0.5")
    served.catalog = catalog        # type: ignore[attr-defined]
    served.store = store            # type: ignore[attr-defined]
    return served


@pytest.mark.skipif(PROMETHEUS is None, reason=f"prometheus {NEEDS}")
def test_rules_and_dashboard_against_a_real_prometheus(
        tmp_path: Path, procs: Callable[..., Proc], served_for_prometheus: Served,
        traffic: Callable[[], int]) -> None:
    served = served_for_prometheus
    # The shipped config, pointed at this server, scraping and evaluating every second.
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text("utf-8"))
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(DEPLOY / "prometheus" / r) for r in config["rule_files"]]
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "normalizer"]
    job["static_configs"] = [{"targets": [f"127.0.0.1:{served.metrics_port}"]}]
    config["scrape_configs"] = [job]          # no SGLang here
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    prometheus = procs("prometheus", [
        str(PROMETHEUS), f"--config.file={tmp_path / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"])
    wait_for(lambda: prometheus.alive() and http_get(f"{base}/-/ready", 1.0)[0] == 200,
             30, "prometheus /-/ready", interval=0.2)

    def has(promql: str) -> bool:
        return bool(_query(base, promql))

    # Once scraped (so that increase() sees the counter move): a version that fails to
    # load (the old one stays), then a good one.
    wait_for(lambda: has('normalizer_index_reloads_total{result="failed"} == 0'), 30,
             "the first scrape")
    store: Path = served.store               # type: ignore[attr-defined]
    broken = store / "versions" / "20000101T000000Z-broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{}", encoding="utf-8")
    (store / "CURRENT").write_text(broken.name + "\n", encoding="utf-8")
    served.proc.wait_log(r"version 20000101T000000Z-broken failed to load", 30)
    catalog: Path = served.catalog           # type: ignore[attr-defined]
    write_catalog(catalog, {"zh.yaml": ZH_SMALL + "  - id: lights.on\n    text: 打开所有的灯\n",
                            "en.yaml": EN_SMALL})
    version = build_store(catalog, store)
    wait_for(lambda: served.info().version == version, 30, "the new version to be served")

    wait_for(lambda: has('normalizer_index_reloads_total{result="ok"}')
             and has('normalizer_index_reloads_total{result="failed"}')
             and has("changes(normalizer_index_built_timestamp_seconds[5m]) > 0")
             and has("normalizer:requests:rate5m > 0")
             and has('normalizer:request_duration_seconds:p99_5m >= 0'),
             60, "prometheus to scrape the reloads and evaluate the rates", interval=0.5)
    assert traffic() > 0

    # Every rule loaded, evaluated, healthy.
    status, body = http_get(f"{base}/api/v1/rules")
    assert status == 200, body
    groups = json.loads(body)["data"]["groups"]
    loaded = {r["name"]: r for g in groups for r in g["rules"]}
    expected = {r.get("record") or r["alert"] for r in _rules()}
    assert set(loaded) == expected
    wait_for(lambda: all(r["health"] == "ok" for g in json.loads(
        http_get(f"{base}/api/v1/rules")[1])["data"]["groups"] for r in g["rules"]),
             10, "every rule to evaluate without error")

    exported = set(METRIC.findall(served.metrics_text())) | {"up"}
    recorded = {r["record"] for r in _rules() if "record" in r}
    for rule in _rules():
        names = set(METRIC.findall(rule["expr"]))
        assert names <= exported | recorded, f"{rule}: unknown metrics {names - exported}"
        if "record" in rule:
            assert has(rule["record"]), f"recording rule {rule['record']} returned no data"
        else:
            _query(base, rule["expr"])      # parses and runs; data only while firing

    # The alerts this traffic raises: most transcripts are left raw, one reload failed.
    def alerts() -> dict[str, str]:
        answer = json.loads(http_get(f"{base}/api/v1/alerts")[1])["data"]["alerts"]
        return {a["labels"]["alertname"]: a["state"] for a in answer}

    raised = wait_for(lambda: (a := alerts()).get("NormalizerIndexReloadFailed") == "firing"
                      and "NormalizerFallbackRateHigh" in a and a, 30,
                      "NormalizerIndexReloadFailed firing and NormalizerFallbackRateHigh pending"
                      f" (alerts now: {alerts()})")
    assert raised["NormalizerFallbackRateHigh"] == "pending"          # for: 15m
    assert "NormalizerEmbedderUnavailable" not in raised

    # Every dashboard query returns data, or is one of the panels listed as not yet served.
    skipped = set()
    for title, expr in _dashboard_queries():
        promql = _substitute(expr)
        missing = set(METRIC.findall(promql)) - exported - recorded
        if missing:
            skipped.add(title)
            continue
        assert has(promql), f"panel {title!r}: {promql} returned no data"
    assert skipped == AWAITING_HARDENING | OTHER_EXPORTERS, skipped
    status, body = http_get(f"{base}/api/v1/label/job/values")     # the $job variable
    assert status == 200 and "normalizer" in json.loads(body)["data"], body
