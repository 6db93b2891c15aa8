"""Every Prometheus metric the service exports, defined once (CONTRACT.md §5).

Metrics live on a registry passed in, so that several servers in one process (tests,
benchmarks) each count their own traffic; ``serve`` uses the global default registry.
Latency buckets start at 50 µs: the service's own work is well under a millisecond.

With ``serve --workers N`` every worker counts into prometheus-client's multi-process
files (``PROMETHEUS_MULTIPROC_DIR``) and the parent's endpoint merges them: counters and
histograms add up; each gauge says how (``multiprocess_mode``): in-flight and queued
work add up over live workers, health is the worst worker's, the index the latest.
"""

from __future__ import annotations

import os
from datetime import datetime

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["LATENCY_BUCKETS", "MULTIPROC_ENV", "Metrics"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

LATENCY_BUCKETS = (
    0.00005, 0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.0025, 0.005, 0.0075,
    0.01, 0.015, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)
CONFIDENCE_BUCKETS = tuple(round(0.05 * i, 2) for i in range(1, 21))
BATCH_SIZE_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 256, 512, 1024)


class Metrics:
    """The service's metrics on one registry."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        # prometheus-client's multi-process mode (serve --workers N), read once here.
        self.multiprocess = MULTIPROC_ENV in os.environ
        self.request_duration = Histogram(
            "normalizer_request_duration_seconds",
            "Time to answer one RPC, by method and outcome "
            "(Normalize: normalized|fallback|error; other methods: ok|error).",
            ["method", "outcome"], buckets=LATENCY_BUCKETS, registry=registry)
        self.embed_duration = Histogram(
            "normalizer_embed_duration_seconds", "Time of one embedder call.",
            buckets=LATENCY_BUCKETS, registry=registry)
        self.search_duration = Histogram(
            "normalizer_search_duration_seconds", "Time of one FAISS search.",
            buckets=LATENCY_BUCKETS, registry=registry)
        self.requests = Counter(
            "normalizer_requests_total",
            "Transcripts answered (one per Normalize, one per batch entry), by outcome.",
            ["outcome"], registry=registry)
        self.fallbacks = Counter(
            "normalizer_fallbacks_total", "Transcripts answered with the raw text, by reason.",
            ["reason"], registry=registry)
        self.confidence = Histogram(
            "normalizer_confidence", "Confidence of the best candidate of embedded transcripts.",
            buckets=CONFIDENCE_BUCKETS, registry=registry)
        self.index_entries = Gauge(
            "normalizer_index_entries", "Indexed texts (canonical texts and variants) per locale.",
            ["locale"], registry=registry, multiprocess_mode="livemostrecent")
        self.index_info = Gauge(
            "normalizer_index_info", "The index version being served (value 1).",
            ["version", "model"], registry=registry, multiprocess_mode="livemax")
        self.inflight = Gauge(
            "normalizer_inflight_requests", "RPCs being handled now.", registry=registry,
            multiprocess_mode="livesum")
        self.index_reloads = Counter(
            "normalizer_index_reloads_total",
            "Attempts to switch to a new index version, by result (ok|failed).",
            ["result"], registry=registry)
        self.guard_blocks = Counter(
            "normalizer_guard_blocks_total",
            "Best candidates refused because they would change the request.",
            registry=registry)
        # -- Operating (deploy/prometheus alerts on index age and reload failures) -------
        for result in ("ok", "failed"):   # present from the start, so increase() sees the first
            self.index_reloads.labels(result=result)
        self.index_built = Gauge(
            "normalizer_index_built_timestamp_seconds",
            "When the index version being served was built (Unix time).", registry=registry,
            multiprocess_mode="livemin")
        # Embedder health and the circuit breaker (CONTRACT.md §6).
        self.embedder_up = Gauge(
            "normalizer_embedder_up",
            "1 while the embedder answers (warmed up and the circuit closed), else 0.",
            registry=registry, multiprocess_mode="livemin")
        self.circuit_state = Gauge(
            "normalizer_circuit_state",
            "The embedder circuit breaker: 0 closed, 1 half-open (probing), 2 open.",
            registry=registry, multiprocess_mode="livemax")

        # -- Throughput: micro-batching and the answer cache (CONTRACT.md §6) ------------
        self.embed_batch_size = Histogram(
            "normalizer_embed_batch_size",
            "Texts in one embedder call made by the batching queue.",
            buckets=BATCH_SIZE_BUCKETS, registry=registry)
        self.embed_requests = Counter(
            "normalizer_embed_requests_total",
            "Calls made to the embedder by the batching queue, each carrying the texts of "
            "one or more requests (answered or not).", registry=registry)
        self.embed_queue_depth = Gauge(
            "normalizer_embed_queue_depth",
            "Texts waiting in the batching queue for a free embedder slot.",
            registry=registry, multiprocess_mode="livesum")
        self.cache_hits = Counter(
            "normalizer_cache_hits_total",
            "Transcripts answered from the answer cache (no embedding, search or guard).",
            registry=registry)
        self.cache_misses = Counter(
            "normalizer_cache_misses_total",
            "Transcripts the answer cache did not hold.", registry=registry)

    def set_index(self, version: str, model: str, entries: dict[str, int],
                  built_at: str | None = None) -> None:
        """Point the info, size and age gauges at the version now served."""
        if built_at:
            self.index_built.set(datetime.fromisoformat(built_at.replace("Z", "+00:00"))
                                 .timestamp())
        for gauge in (self.index_info, self.index_entries):
            if self.multiprocess:
                # A worker's files keep every series it ever set: the old ones read 0.
                for metric in gauge.collect():
                    for sample in metric.samples:
                        gauge.labels(**sample.labels).set(0)
            else:
                gauge.clear()
        self.index_info.labels(version=version, model=model).set(1)
        for locale, count in entries.items():
            self.index_entries.labels(locale=locale).set(count)
