"""One frozen settings object, read once at the edge from flags, a YAML file and the environment.

Precedence, highest first: a command-line flag, a ``NORMALIZER_<NAME>`` environment
variable, a key of the ``--config`` YAML file, the default. Every value is parsed
and checked here, so the rest of the package trusts ``Settings``; nothing reads the
environment at import time.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from normalizer.errors import ConfigError

__all__ = ["ENV_PREFIX", "Settings", "add_arguments", "load_settings"]

ENV_PREFIX = "NORMALIZER_"

DEFAULT_TASK = (
    "Given a voice assistant user's spoken request, "
    "retrieve the standard request with the same meaning"
)


def _opt(help_: str, *, choices: tuple[str, ...] = (), secret: bool = False,
         low: float | None = None, high: float | None = None,
         aliases: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"help": help_, "choices": choices, "secret": secret, "low": low, "high": high,
            "aliases": aliases}


@dataclass(frozen=True)
class Settings:
    """Everything the service and the CLI can be told. Field metadata drives flags and checks."""

    # Embedder
    embedder: str = field(default="local", metadata=_opt(
        "embedding backend", choices=("local", "openai")))
    embedder_url: str | None = field(default=None, metadata=_opt(
        "base URL of an OpenAI-compatible embeddings server, e.g. http://127.0.0.1:30000"))
    embedder_model: str | None = field(default=None, metadata=_opt(
        "model name sent to the embeddings server, e.g. Qwen/Qwen3-Embedding-4B"))
    embedder_api_key: str | None = field(default=None, metadata=_opt(
        "bearer token for the embeddings server, if it wants one", secret=True))
    embedder_timeout: float = field(default=0.5, metadata=_opt(
        "seconds to wait for the embedder, per 32 texts in one call, before falling back",
        low=0.001, high=600))
    embedder_dimensions: int | None = field(default=None, metadata=_opt(
        "keep the first N dimensions (Matryoshka) and re-normalise", low=1, high=65536,
        aliases=("--dimensions",)))
    text_format: str | None = field(default=None, metadata=_opt(
        "query/document text format profile (default: the embedder's own)"))
    task: str = field(default=DEFAULT_TASK, metadata=_opt(
        "task description in instruction-style query formats (qwen3)"))
    embedder_threads: int = field(default=1, metadata=_opt(
        "CPU threads of the local embedder; its OpenMP threads spin, and more threads "
        "than idle cores make latency collapse under load", low=1, high=256))
    build_batch_size: int = field(default=64, metadata=_opt(
        "texts per embedder call when building an index", low=1, high=4096))
    # -- Operating: patient builds, the evaluation gate, pruning (index build) -------------
    build_embedder_timeout: float = field(default=30.0, metadata=_opt(
        "seconds an index build waits for the embedder, per 32 texts in one call (builds are "
        "not on the request path: this is not --embedder-timeout)", low=0.001, high=3600))
    build_retries: int = field(default=5, metadata=_opt(
        "times an index build retries an embedder call that timed out or failed (5xx, 429, "
        "refused connection)", low=0, high=100))
    build_retry_backoff: float = field(default=1.0, metadata=_opt(
        "seconds before the first retry of an index build's embedder call; doubles each "
        "retry, at most 30", low=0.0, high=600))
    keep_versions: int = field(default=5, metadata=_opt(
        "index versions an index build keeps in the store (the current one always stays); "
        "older ones are removed", low=1, high=100000))
    gate_max_wrong_increase: float = field(default=0.001, metadata=_opt(
        "with --gate-cases: refuse to publish if a locale's wrong rate rises by more than "
        "this (a fraction of its cases: 0.001 = 0.1 points)", low=0.0, high=1.0))
    self_calibration: bool = field(default=True, metadata=_opt(
        "when no calibration fits the embedder (none fitted on labelled cases carried over, "
        "none shipped for the model), fit one on cases synthesised from the catalog"))
    max_wrong_rate: float = field(default=0.01, metadata=_opt(
        "wrong rewrites self-calibration allows, as a share of its synthesised cases",
        low=0.0, high=0.5))
    gate_max_correct_drop: float = field(default=0.005, metadata=_opt(
        "with --gate-cases: refuse to publish if a locale's correct rate falls by more than "
        "this (a fraction of its in-domain cases)", low=0.0, high=1.0))
    # Index
    device: str = field(default="cpu", metadata=_opt(
        "where FAISS searches", choices=("cpu", "gpu")))
    # Server
    host: str = field(default="127.0.0.1", metadata=_opt("gRPC listen address"))
    port: int = field(default=50051, metadata=_opt("gRPC port (0 picks a free one)",
                                                   low=0, high=65535))
    metrics_port: int = field(default=9464, metadata=_opt(
        "Prometheus /metrics port (0 picks a free one)", low=0, high=65535))
    default_locale: str = field(default="zh-CN", metadata=_opt(
        "locale of requests that name none"))
    min_confidence: float | None = field(default=None, metadata=_opt(
        "confidence threshold (default: the index's calibrated one)", low=0.0, high=1.0))
    top_k: int = field(default=10, metadata=_opt("index rows searched per hypothesis",
                                                  low=1, high=1000))
    max_transcript_chars: int = field(default=512, metadata=_opt(
        "longest transcript accepted, in characters", low=1, high=100000))
    max_alternatives: int = field(default=10, metadata=_opt(
        "most n-best alternatives accepted per request", low=0, high=1000))
    max_batch: int = field(default=128, metadata=_opt(
        "most requests accepted in one NormalizeBatch", low=1, high=100000))
    max_inflight: int = field(default=256, metadata=_opt(
        "transcripts in flight before new ones get FALLBACK_OVERLOADED", low=1, high=1000000))
    default_deadline: float = field(default=1.0, metadata=_opt(
        "seconds a request may take when its caller sets no deadline", low=0.001, high=3600))
    phonetic: bool = field(default=True, metadata=_opt(
        "fuse phonetic similarity into the confidence (off only for ablations)"))
    guard: bool = field(default=True, metadata=_opt(
        "refuse rewrites that change a slot (off only for ablations)"))
    reload_interval: float = field(default=2.0, metadata=_opt(
        "seconds between checks of the store for a new current version", low=0.05, high=3600))
    log_level: str = field(default="INFO", metadata=_opt(
        "log level", choices=("DEBUG", "INFO", "WARNING", "ERROR")))
    # -- Hardening: circuit breaker, transport security, privacy ---------------------------
    breaker_failures: int = field(default=5, metadata=_opt(
        "consecutive embedder failures that open the circuit breaker", low=1, high=100000))
    breaker_probe_interval: float = field(default=0.5, metadata=_opt(
        "seconds before the first probe of an open circuit; doubles after each failed probe",
        low=0.01, high=3600))
    breaker_probe_max: float = field(default=10.0, metadata=_opt(
        "longest wait, in seconds, between probes of an open circuit", low=0.01, high=3600))
    tls_cert: str | None = field(default=None, metadata=_opt(
        "PEM certificate chain: serve gRPC over TLS (with --tls-key)"))
    tls_key: str | None = field(default=None, metadata=_opt("PEM private key of --tls-cert"))
    tls_client_ca: str | None = field(default=None, metadata=_opt(
        "PEM CA certificates: require client certificates signed by one (mutual TLS)"))
    metrics_host: str = field(default="127.0.0.1", metadata=_opt(
        "address of the /metrics endpoint (loopback unless set, e.g. 0.0.0.0)"))
    log_transcripts: bool = field(default=False, metadata=_opt(
        "log transcript text; off, logs carry a salted hash of it"))
    log_salt: str | None = field(default=None, metadata=_opt(
        "salt of the transcript hashes in logs (default: random per process)", secret=True))
    # -- Throughput: micro-batching, load shedding, caches, worker processes -------------
    embed_max_batch: int = field(default=16, metadata=_opt(
        "most texts the service puts into one embedder call, coalescing concurrent "
        "requests (a call must finish within --embedder-timeout per 32 texts: raise it "
        "for a GPU server, keep it low for a CPU one)", low=1, high=4096))
    embed_max_wait_ms: float = field(default=0.0, metadata=_opt(
        "milliseconds a free embedder slot waits for a batch to fill (fractions allowed); "
        "0 sends whatever is queued at once", low=0.0, high=1000.0))
    embed_max_inflight: int = field(default=2, metadata=_opt(
        "embedder calls in flight at once; more requests wait in the batching queue "
        "(keeps a server such as SGLang below its own limits)", low=1, high=1024))
    load_shedding: bool = field(default=True, metadata=_opt(
        "answer FALLBACK_OVERLOADED at once when the embedding queue ahead of a request, at "
        "the embedder's measured throughput, would not clear before its deadline"))
    answer_cache_entries: int = field(default=10000, metadata=_opt(
        "answers kept per index version for repeated transcripts (0 turns the cache off)",
        low=0, high=100_000_000))
    answer_cache_mb: float = field(default=64.0, metadata=_opt(
        "megabytes the answer cache may hold (approximate; --answer-cache-entries 0 turns "
        "it off)", low=0.01, high=1_000_000.0))
    embedding_cache_entries: int = field(default=4096, metadata=_opt(
        "query vectors kept in memory for transcripts the answer cache misses (0 turns the "
        "cache off)", low=0, high=100_000_000))
    workers: int = field(default=1, metadata=_opt(
        "serving processes sharing the gRPC port (SO_REUSEPORT) and one /metrics endpoint",
        low=1, high=256))

    def __repr__(self) -> str:
        parts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata["secret"] and value is not None:
                value = "***"
            parts.append(f"{f.name}={value!r}")
        return "Settings(" + ", ".join(parts) + ")"


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


_BOOLEANS = {"true": True, "yes": True, "on": True, "1": True,
             "false": False, "no": False, "off": False, "0": False}


def _parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    try:
        return _BOOLEANS[str(raw).strip().lower()]
    except KeyError:
        raise ValueError(raw) from None


_parse_bool.__name__ = "boolean (true/false)"


def _base_type(f: dataclasses.Field[Any]) -> Callable[[Any], Any]:
    text = str(f.type)
    if text == "bool":
        return _parse_bool
    if "int" in text:
        return int
    if "float" in text:
        return float
    return str


def _parse(name: str, raw: Any, origin: str) -> Any:
    """Turn a raw value from ``origin`` into the field's type, or raise ConfigError."""
    f = _FIELDS[name]
    meta = f.metadata
    optional = "None" in str(f.type)
    if raw is None or (optional and isinstance(raw, str) and raw.strip().lower() in {"", "none"}):
        if optional:
            return None
        raise ConfigError(f"{origin} needs a value")
    kind = _base_type(f)
    try:
        value = kind(raw) if kind is not str else str(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{origin}={raw!r} is not a valid {kind.__name__}") from exc
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{origin}={raw!r} must be a finite number")
    if meta["choices"] and value not in meta["choices"]:
        raise ConfigError(
            f"{origin}={value!r} is not one of {', '.join(meta['choices'])}")
    if meta["low"] is not None and value < meta["low"]:
        raise ConfigError(f"{origin}={value!r} must be at least {meta['low']}")
    if meta["high"] is not None and value > meta["high"]:
        raise ConfigError(f"{origin}={value!r} must be at most {meta['high']}")
    return value


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"config file {path} must hold a mapping of setting: value")
    values = {}
    for key, value in loaded.items():
        name = str(key).replace("-", "_")
        if name not in _FIELDS:
            raise ConfigError(
                f"{path}: unknown setting {key!r}; known settings: {', '.join(sorted(_FIELDS))}")
        values[name] = _parse(name, value, f"{path}: {name}")
    return values


def load_settings(flags: Mapping[str, Any] | None = None, config_file: str | Path | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Merge defaults < config file < environment < flags into one checked ``Settings``.

    ``flags`` holds only the flags the user gave (``None`` values are ignored).
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if config_file is not None:
        values.update(_read_config_file(Path(config_file)))
    for name in _FIELDS:
        env_name = ENV_PREFIX + name.upper()
        if env_name in environ:
            values[name] = _parse(name, environ[env_name], f"environment {env_name}")
    for name, value in (flags or {}).items():
        if value is not None and name in _FIELDS:
            values[name] = _parse(name, value, "--" + name.replace("_", "-"))
    settings = Settings(**values)
    _check_hardening(settings)
    if settings.embedder == "openai" and not (settings.embedder_url and settings.embedder_model):
        raise ConfigError(
            "--embedder openai needs --embedder-url URL and --embedder-model NAME "
            f"(or {ENV_PREFIX}EMBEDDER_URL and {ENV_PREFIX}EMBEDDER_MODEL)")
    return settings


def _check_hardening(settings: Settings) -> None:
    """Settings of the breaker and of TLS that only make sense together."""
    if bool(settings.tls_cert) != bool(settings.tls_key):
        raise ConfigError("--tls-cert and --tls-key go together: give both to serve TLS, "
                          "or neither for plaintext")
    if settings.tls_client_ca and not settings.tls_cert:
        raise ConfigError("--tls-client-ca (mutual TLS) needs --tls-cert and --tls-key too")
    if settings.breaker_probe_max < settings.breaker_probe_interval:
        raise ConfigError(
            f"--breaker-probe-max={settings.breaker_probe_max} must be at least "
            f"--breaker-probe-interval={settings.breaker_probe_interval}")


def add_arguments(parser: argparse.ArgumentParser, names: Iterable[str]) -> None:
    """Add a ``--flag`` for each named setting; unset flags stay ``None`` so precedence works."""
    for name in names:
        meta = _FIELDS[name].metadata
        default = _FIELDS[name].default
        shown = "***" if meta["secret"] else default
        # A boolean flag alone means true (--log-transcripts); it also takes a value.
        boolean: dict[str, Any] = (
            {"nargs": "?", "const": "true"} if _base_type(_FIELDS[name]) is _parse_bool else {})
        parser.add_argument(
            "--" + name.replace("_", "-"), *meta["aliases"], dest=name, default=None,
            metavar=name.upper(), **boolean,
            help=f"{meta['help']} (default: {shown}; env {ENV_PREFIX}{name.upper()})")
