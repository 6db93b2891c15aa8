"""The ``normalizer`` command: wires settings, embedder, store and server; holds no logic.

    normalizer index build --queries DIR --out STORE [--gate-cases FILE]
    normalizer serve --index STORE [--host H] [--port P] [--metrics-port M] [--workers N]
                     [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]
    normalizer query [--server ADDR] [--locale L] [--tls-ca FILE ...] TEXT
    normalizer eval --cases FILE [--server ADDR [--tls-ca FILE ...] | --index STORE]
    normalizer calibrate --cases FILE --index STORE [--max-wrong-rate 0.01]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format

from normalizer import __version__
from normalizer._proto import normalizer_pb2 as pb
from normalizer._proto import normalizer_pb2_grpc as pb_grpc
from normalizer.catalog import load_catalog
from normalizer.config import Settings, add_arguments, load_settings
from normalizer.embedding import create_build_embedder, create_embedder
from normalizer.errors import CatalogError, ConfigError, NormalizerError
from normalizer.index.store import EmbeddingSpec, IndexStore
from normalizer.matching.confidence import FEATURES
from normalizer.publishing import CALIBRATION_CHOICES

__all__ = ["main"]

logger = logging.getLogger("normalizer")

EMBEDDER_FLAGS = ("embedder", "embedder_url", "embedder_model", "embedder_api_key",
                  "embedder_timeout", "embedder_dimensions", "embedder_threads", "text_format",
                  "task")
SERVER_FLAGS = ("host", "port", "metrics_port", "device", "default_locale", "min_confidence",
                "top_k", "max_transcript_chars", "max_alternatives", "max_batch",
                "max_inflight", "default_deadline", "reload_interval", "phonetic", "guard",
                "breaker_failures", "breaker_probe_interval", "breaker_probe_max", "tls_cert",
                "tls_key", "tls_client_ca", "metrics_host", "log_transcripts", "log_salt",
                "embed_max_batch", "embed_max_wait_ms", "embed_max_inflight", "load_shedding",
                "answer_cache_entries", "answer_cache_mb", "embedding_cache_entries",
                "workers")
BUILD_FLAGS = ("build_batch_size", "build_embedder_timeout", "build_retries",
               "build_retry_backoff", "keep_versions", "gate_max_wrong_increase",
               "gate_max_correct_drop", "device", "default_locale", "min_confidence", "top_k",
               "self_calibration", "max_wrong_rate")
DEFAULT_SERVER = "127.0.0.1:50051"
EVAL_BATCH = 32
GATE_REFUSED = 3   # exit code of an index build the evaluation gate refused


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(vars(args), args.config)


def _configure_logging(level: str, worker: bool = False) -> None:
    who = " %(processName)s" if worker else ""
    logging.basicConfig(level=level, stream=sys.stderr,
                        format=f"%(asctime)s %(levelname)s{who} %(name)s: %(message)s")
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)
    # httpx logs every request at INFO, with its URL: noise at this rate, and a URL may
    # hold credentials.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


# -- index build ------------------------------------------------------------------------------

async def _index_build(args: argparse.Namespace) -> int:
    from normalizer.publishing import GateRefused, publish_catalog

    settings = _settings(args)
    _configure_logging(settings.log_level)
    for flag in ("gate_max_wrong_increase", "gate_max_correct_drop"):
        if getattr(args, flag) is not None and not args.gate_cases:
            raise ConfigError(f"--{flag.replace('_', '-')} is a tolerance of the evaluation "
                              "gate; it needs --gate-cases FILE")
    catalog = load_catalog(args.queries)
    gate_cases = []
    if args.gate_cases:
        from normalizer.evaluation import load_cases

        gate_cases = [c for path in args.gate_cases for c in load_cases(path)]
    embedder = create_build_embedder(settings)
    code = 0
    try:
        publication = await publish_catalog(catalog, embedder, IndexStore(args.out), settings,
                                             gate_cases=gate_cases, progress=not args.quiet,
                                             calibration=args.calibration)
    except GateRefused as refused:
        publication, code = refused.publication, GATE_REFUSED
    finally:
        await embedder.aclose()
    print(publication.format(), file=sys.stderr)
    print(json.dumps({"store": str(args.out),
                      "locales": {loc: len(qs) for loc, qs in catalog.locales.items()},
                      **publication.as_dict()}, ensure_ascii=False))
    return code


# -- serve ------------------------------------------------------------------------------------

async def _serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _configure_logging(settings.log_level)
    logger.info("normalizer %s starting with %r", __version__, settings)
    if settings.workers > 1:
        from normalizer.service.workers import supervise

        return await supervise(settings, args.index, _serve_worker,
                               lambda directory: _serve_metrics(settings, directory))
    return await _serve_one(settings, args.index, metrics_endpoint=True)


async def _serve_one(settings: Settings, index: str, metrics_endpoint: bool) -> int:
    from prometheus_client import start_http_server

    from normalizer.service.server import create_server, serve

    server = create_server(settings, create_embedder(settings), IndexStore(index))
    if not metrics_endpoint:          # a worker: the parent serves the merged metrics
        return await serve(server)
    httpd, _ = start_http_server(settings.metrics_port, addr=settings.metrics_host,
                                 registry=server.metrics.registry)
    logger.info("metrics on http://%s:%d/metrics", settings.metrics_host, httpd.server_port)
    try:
        return await serve(server)
    finally:
        httpd.shutdown()


def _serve_worker(settings: Settings, index: str) -> None:
    """One of ``serve --workers N``'s processes (spawned: this is its whole program)."""
    _configure_logging(settings.log_level, worker=True)
    try:
        code = asyncio.run(_serve_one(settings, index, metrics_endpoint=False))
    except NormalizerError as exc:
        print(f"normalizer: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)


def _serve_metrics(settings: Settings, directory: str) -> Callable[[], None]:
    """``/metrics`` merging every worker's metric files in ``directory``."""
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    httpd, _ = start_http_server(settings.metrics_port, addr=settings.metrics_host,
                                 registry=registry)
    logger.info("metrics on http://%s:%d/metrics (all workers)", settings.metrics_host,
                httpd.server_port)
    return httpd.shutdown


# -- query ------------------------------------------------------------------------------------

def _channel(address: str, args: argparse.Namespace) -> grpc.aio.Channel:
    """A channel to ``address``: TLS when ``--tls-ca`` or ``--tls-cert`` is given."""
    from normalizer.service.tls import channel_credentials

    credentials = channel_credentials(args.client_tls_ca, args.client_tls_cert,
                                      args.client_tls_key)
    if credentials is None:
        return grpc.aio.insecure_channel(address)
    return grpc.aio.secure_channel(address, credentials)


def _to_json(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True,
                                     always_print_fields_with_no_presence=True)


async def _query(args: argparse.Namespace) -> int:
    request = pb.NormalizeRequest(transcript=args.text, locale=args.locale or "",
                                  max_candidates=args.max_candidates,
                                  min_confidence=args.min_confidence or 0.0,
                                  request_id=args.request_id or "")
    async with _channel(args.server, args) as channel:
        response = await pb_grpc.QueryNormalizerStub(channel).Normalize(
            request, timeout=args.timeout)
    print(json.dumps(_to_json(response), ensure_ascii=False, indent=2))
    return 0


# -- eval -------------------------------------------------------------------------------------

async def _eval_against(address: str, args: argparse.Namespace) -> int:
    from normalizer import evaluation

    cases = [c for path in args.cases for c in evaluation.load_cases(path)]
    async with _channel(address, args) as channel:
        stub = pb_grpc.QueryNormalizerStub(channel)
        info = await stub.GetIndexInfo(pb.GetIndexInfoRequest(), timeout=args.timeout)
        responses: list[pb.NormalizeResponse] = []
        for start in range(0, len(cases), EVAL_BATCH):
            chunk = cases[start:start + EVAL_BATCH]
            batch = pb.NormalizeBatchRequest(requests=[
                evaluation.to_request(c, not args.no_alternatives) for c in chunk])
            answer = await stub.NormalizeBatch(batch, timeout=args.timeout)
            responses.extend(answer.responses)
    outcomes = evaluation.replay(cases, responses)
    report = evaluation.summarize(outcomes)
    thresholds = {loc.locale: loc.threshold for loc in info.locales}
    print(f"index {info.version} ({info.embedding_model}); thresholds: " + ", ".join(
        f"{loc.locale}={loc.threshold:.3f}{'' if loc.calibrated else ' (uncalibrated)'}"
        for loc in info.locales))
    print(evaluation.format_report(report))
    if args.plot:
        evaluation.write_plot(outcomes, thresholds, args.plot)
        print(f"threshold plot written to {args.plot}")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"index_version": info.version, "thresholds": thresholds, **report.as_dict()},
            ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


async def _eval(args: argparse.Namespace) -> int:
    if args.index is None:
        return await _eval_against(args.server or DEFAULT_SERVER, args)
    if args.client_tls_ca or args.client_tls_cert:
        raise ConfigError("--tls-ca, --tls-cert and --tls-key are for --server; "
                          "with --index the cases are replayed in-process")
    from normalizer.service.server import create_server

    # A whole batch of cases is one embedder call: give it time on a small machine.
    settings = load_settings({"embedder_timeout": 60, "default_deadline": 120, **{
        k: v for k, v in vars(args).items() if v is not None}, "port": 0, "host": "127.0.0.1"},
        args.config)
    _configure_logging("WARNING")
    server = create_server(settings, create_embedder(settings), IndexStore(args.index))
    port = await server.start()
    try:
        await server.ready.wait()
        if server.fatal is not None:
            raise server.fatal
        return await _eval_against(f"127.0.0.1:{port}", args)
    finally:
        await server.stop(1.0)


# -- calibrate --------------------------------------------------------------------------------

async def _calibrate(args: argparse.Namespace) -> int:
    from prometheus_client import CollectorRegistry

    from normalizer import evaluation
    from normalizer.matching.calibration import calibrate_store
    from normalizer.matching.matcher import Matcher, ServedIndex
    from normalizer.metrics import Metrics

    settings = _settings(args)
    _configure_logging("WARNING")
    store = IndexStore(args.index)
    stored = store.load(device=settings.device)
    cases = [c for path in args.cases for c in evaluation.load_cases(path)]
    embedder = create_embedder(settings)
    try:
        probe = await embedder.embed(["warm-up"], "query")
        stored.embedding.check_compatible(EmbeddingSpec.of(embedder, probe.shape[1]))
        matcher = Matcher.from_settings(embedder, Metrics(CollectorRegistry()), settings)
        matcher.set_index(ServedIndex.from_stored(stored))
        version, calibration = await calibrate_store(store, matcher, cases,
                                                     args.max_wrong_rate, args.cases,
                                                     args.features, not args.no_alternatives)
    finally:
        await embedder.aclose()
    print(json.dumps({"version": version, "calibrated_from": stored.version,
                      "locales": calibration["locales"]}, indent=2, ensure_ascii=False))
    return 0


# -- parser -----------------------------------------------------------------------------------

def _feature_list(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in FEATURES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown feature(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(FEATURES)}")
    return names


def add_client_tls(p: argparse.ArgumentParser) -> None:
    """The client side of ``serve --tls-*``: a server's CA, and a client certificate."""
    p.add_argument("--tls-ca", dest="client_tls_ca", metavar="FILE",
                   help="PEM CA certificates to verify the server with (TLS; default: "
                        "plaintext, or the system's roots with --tls-cert)")
    p.add_argument("--tls-cert", dest="client_tls_cert", metavar="FILE",
                   help="PEM client certificate chain, for servers that require one "
                        "(mutual TLS; with --tls-key)")
    p.add_argument("--tls-key", dest="client_tls_key", metavar="FILE",
                   help="PEM private key of --tls-cert")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="normalizer", description="Rewrite noisy ASR transcripts to canonical queries.")
    parser.add_argument("--version", action="version", version=f"normalizer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", metavar="FILE", help="YAML file of settings")
        add_arguments(p, ("log_level",))

    index = sub.add_parser("index", help="build index versions").add_subparsers(
        dest="index_command", required=True, metavar="SUBCOMMAND")
    build = index.add_parser("build", help="embed a catalog and publish a new index version")
    build.add_argument("--queries", required=True, metavar="DIR",
                       help="folder of canonical-query *.yaml files")
    build.add_argument("--out", required=True, metavar="STORE", help="index store folder")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.add_argument("--calibration", choices=CALIBRATION_CHOICES, default="auto",
                       help="auto (default): the current version's labelled calibration, else "
                            "the one shipped for the model, else self-calibration on the "
                            "catalog; self: self-calibrate even so; none: publish uncalibrated "
                            "(self and none to compare, e.g. for ablations)")
    build.add_argument("--gate-cases", action="append", metavar="FILE",
                       help="labelled cases (JSON Lines, repeatable): evaluate the new version "
                            "against the current one first and refuse to publish it (exit "
                            f"{GATE_REFUSED}, store unchanged) if it is worse beyond "
                            "--gate-max-wrong-increase / --gate-max-correct-drop")
    with_config(build)
    add_arguments(build, (*EMBEDDER_FLAGS, *BUILD_FLAGS))
    build.set_defaults(run=_index_build)

    srv = sub.add_parser("serve", help="serve the store's current version over gRPC")
    srv.add_argument("--index", required=True, metavar="STORE", help="index store folder")
    with_config(srv)
    add_arguments(srv, (*EMBEDDER_FLAGS, *SERVER_FLAGS))
    srv.set_defaults(run=_serve)

    query = sub.add_parser("query", help="normalize one transcript and print the answer as JSON")
    query.add_argument("text", metavar="TEXT")
    query.add_argument("--server", default=DEFAULT_SERVER, metavar="ADDR")
    query.add_argument("--locale", metavar="L", help="e.g. zh-CN, en-US (default: server's)")
    query.add_argument("--max-candidates", type=int, default=3, metavar="N")
    query.add_argument("--min-confidence", type=float, metavar="F")
    query.add_argument("--request-id", metavar="ID")
    query.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS")
    add_client_tls(query)
    query.set_defaults(run=_query)

    ev = sub.add_parser("eval", help="replay labelled cases and print quality figures")
    ev.add_argument("--cases", required=True, action="append", metavar="FILE",
                    help="JSON Lines cases (repeatable)")
    ev.add_argument("--server", metavar="ADDR", help=f"server to ask (default {DEFAULT_SERVER})")
    ev.add_argument("--index", metavar="STORE",
                    help="instead of --server, serve this store in-process for the run")
    ev.add_argument("--plot", default="eval-threshold.png", metavar="PNG",
                    help="threshold plot to write (default: eval-threshold.png; '' for none)")
    ev.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    ev.add_argument("--no-alternatives", action="store_true", help="ignore the cases' n-best")
    ev.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS")
    add_client_tls(ev)
    with_config(ev)
    add_arguments(ev, (*EMBEDDER_FLAGS, "device", "min_confidence", "top_k",
                       "default_locale", "phonetic", "guard"))
    ev.set_defaults(run=_eval)

    cal = sub.add_parser("calibrate", help="fit confidence and thresholds on labelled cases "
                                           "and publish them as a new index version")
    cal.add_argument("--cases", required=True, action="append", metavar="FILE",
                     help="JSON Lines development cases (repeatable)")
    cal.add_argument("--index", required=True, metavar="STORE", help="index store folder")
    cal.add_argument("--max-wrong-rate", type=float, default=0.01, metavar="RATE",
                     help="wrong rewrites allowed, as a share of all cases (default 0.01)")
    cal.add_argument("--features", type=_feature_list, default=FEATURES, metavar="A,B",
                     help=f"features the model may use (default: {','.join(FEATURES)}); "
                          "fewer only for ablations")
    cal.add_argument("--no-alternatives", action="store_true", help="ignore the cases' n-best")
    with_config(cal)
    add_arguments(cal, (*EMBEDDER_FLAGS, "device", "top_k", "default_locale", "phonetic",
                        "guard"))
    cal.set_defaults(run=_calibrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(args.run(args))
    except CatalogError as exc:
        print(f"catalog invalid, store left unchanged; {len(exc.problems)} problem(s):",
              file=sys.stderr)
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except NormalizerError as exc:
        print(f"normalizer: {exc}", file=sys.stderr)
        return 1
    except grpc.aio.AioRpcError as exc:
        target = getattr(args, "server", None) or DEFAULT_SERVER
        print(f"normalizer: the server at {target} answered {exc.code().name}: {exc.details()}"
              + ("; is 'normalizer serve' running there?"
                 if exc.code() == grpc.StatusCode.UNAVAILABLE else ""), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
