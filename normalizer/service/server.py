"""Server lifecycle: build (``create_server``), start, watch the store, drain, stop.

- ``create_server`` wires the servicer, health, reflection and interceptors, and puts the
  embedder behind a circuit breaker, a batching queue and a cache of query vectors; it
  starts nothing.
- ``start`` loads the current index version, checks it against the embedder, binds
  (TLS when configured), and starts warming the embedder; health turns SERVING once
  the embedder has answered.
- Health has two names. ``""`` and ``normalizer.v1.QueryNormalizer`` say whether this
  replica answers (a load balancer checks these): SERVING from the warm-up to the
  drain, whatever the embedder does later, because requests are then answered with
  the raw text. ``normalizer.embedder`` says whether the embedder answers: NOT_SERVING
  while the circuit breaker is open.
- A watcher notices a new current version within ``reload_interval`` seconds (or at
  once on ``reload()``, which SIGHUP calls), loads it beside the old one and swaps it in
  between requests; a version that fails to load is logged and the old one kept.
- ``stop`` sets NOT_SERVING, lets requests under way finish (grace), then stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from normalizer._proto import normalizer_pb2 as pb
from normalizer._proto import normalizer_pb2_grpc as pb_grpc
from normalizer.config import Settings
from normalizer.embedding import Embedder
from normalizer.embedding.batching import BatchingEmbedder
from normalizer.embedding.breaker import CircuitBreaker, CircuitState
from normalizer.embedding.cache import CachingEmbedder, MemoryVectorCache
from normalizer.errors import EmbedderError, IndexMismatchError, NormalizerError
from normalizer.index.store import EmbeddingSpec, IndexStore
from normalizer.matching.matcher import Matcher, ServedIndex
from normalizer.metrics import Metrics
from normalizer.service.answer_cache import AnswerCache
from normalizer.service.interceptors import ObservingInterceptor
from normalizer.service.redaction import TranscriptRedactor
from normalizer.service.servicer import Admission, QueryNormalizerServicer
from normalizer.service.tls import server_credentials

__all__ = ["EMBEDDER_HEALTH_SERVICE", "NormalizerServer", "create_server", "serve"]

logger = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["QueryNormalizer"].full_name
# The health name of the embedder behind this replica (not a gRPC service of its own).
EMBEDDER_HEALTH_SERVICE = "normalizer.embedder"
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
WARMUP_RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
WATCH_FLUSH_SECONDS = 0.2


class DrainingHealthServicer(health.aio.HealthServicer):
    """The standard health service, except that open Watch streams end on shutdown.

    The stock servicer never ends a Watch, so a client-side health checker (Envoy, gRPC
    clients) would hold ``stop()`` for its whole grace period. Here every watcher is
    sent NOT_SERVING and its stream then closes.
    """

    def __init__(self) -> None:
        super().__init__()
        self._closing = asyncio.Event()

    async def Watch(self, request: health_pb2.HealthCheckRequest,
                    context: grpc.aio.ServicerContext) -> None:
        watch = asyncio.ensure_future(super().Watch(request, context))
        closing = asyncio.ensure_future(self._closing.wait())
        done, _ = await asyncio.wait({watch, closing}, return_when=asyncio.FIRST_COMPLETED)
        if watch in done:
            closing.cancel()
            return watch.result()
        # NOT_SERVING was published before closing; let the watcher send it, then end.
        await asyncio.wait({watch}, timeout=WATCH_FLUSH_SECONDS)
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch
        return None

    async def shut_down(self) -> None:
        """NOT_SERVING for every service, then close the Watch streams."""
        await self.enter_graceful_shutdown()
        self._closing.set()


class NormalizerServer:
    """One gRPC server and what it serves. Build with ``create_server``."""

    def __init__(self, settings: Settings, embedder: Embedder, store: IndexStore,
                 metrics: Metrics) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.metrics = metrics
        self.breaker = CircuitBreaker(
            embedder, timeout=settings.embedder_timeout, failures=settings.breaker_failures,
            probe_interval=settings.breaker_probe_interval,
            probe_max=settings.breaker_probe_max, on_change=self._embedder_state_changed)
        # Requests' texts are coalesced into bounded embedder calls, behind the vectors
        # already known: matcher -> [vector cache] -> batching queue -> breaker -> embedder.
        self.batcher = BatchingEmbedder(
            self.breaker, metrics, max_batch=settings.embed_max_batch,
            max_wait=settings.embed_max_wait_ms / 1000, max_inflight=settings.embed_max_inflight,
            timeout=settings.embedder_timeout)
        front: Embedder = self.batcher
        if settings.embedding_cache_entries:
            front = CachingEmbedder(self.batcher, MemoryVectorCache(
                settings.embedding_cache_entries), settings.embedder_dimensions)
        self.front = front
        self.matcher = Matcher.from_settings(front, metrics, settings)
        self.health = DrainingHealthServicer()
        self.redactor = TranscriptRedactor(settings.log_transcripts, settings.log_salt)
        self.grpc = grpc.aio.server(
            interceptors=[ObservingInterceptor(metrics, self.redactor)],
            options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                     ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                     # Only the workers of one `serve --workers N` share a port.
                     ("grpc.so_reuseport", 1 if settings.workers > 1 else 0)])
        pb_grpc.add_QueryNormalizerServicer_to_server(
            QueryNormalizerServicer(
                self.matcher, settings, Admission(settings.max_inflight, self.batcher,
                                                   settings.embedder_timeout),
                AnswerCache(settings.answer_cache_entries,
                            int(settings.answer_cache_mb * 1024 * 1024), metrics)),
            self.grpc)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.grpc)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
             reflection.SERVICE_NAME), self.grpc)
        self.port = 0
        self.ready = asyncio.Event()
        self.fatal: NormalizerError | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._reload_now = asyncio.Event()
        self._failed_version: str | None = None
        self._warmed_up = False
        self._health_updates: set[asyncio.Task[None]] = set()
        metrics.embedder_up.set(0)
        metrics.circuit_state.set(int(self.breaker.state))

    # -- index -----------------------------------------------------------------------------

    async def _load(self, version: str | None) -> ServedIndex:
        stored = await asyncio.to_thread(self.store.load, version, self.settings.device)
        stored.embedding.check_compatible(
            EmbeddingSpec.of(self.embedder, stored.embedding.dimensions))
        return await asyncio.to_thread(ServedIndex.from_stored, stored)

    def _serve_index(self, index: ServedIndex) -> None:
        self.breaker.dimensions = index.stored.embedding.dimensions
        self.matcher.set_index(index)
        self.metrics.set_index(index.version, index.stored.embedding.model,
                               {loc: len(v.data.row_text) for loc, v in index.locales.items()},
                               built_at=index.stored.built_at)
        logger.info("serving index version %s (%s)", index.version, ", ".join(
            f"{loc}: {len(v.data.queries)} queries" for loc, v in index.locales.items()))

    async def reload(self) -> bool:
        """Switch to the store's current version if it changed; False if it failed to load."""
        return await self._switch_to(await asyncio.to_thread(self.store.current_version))

    async def _switch_to(self, current: str | None) -> bool:
        if current is None or current == self.matcher.index.version:
            return True
        try:
            index = await self._load(current)
        except NormalizerError as exc:
            self._failed_version = current
            self.metrics.index_reloads.labels(result="failed").inc()
            logger.error("keeping index version %s: version %s failed to load: %s",
                         self.matcher.index.version, current, exc)
            return False
        self._failed_version = None
        self._serve_index(index)
        self.metrics.index_reloads.labels(result="ok").inc()
        return True

    async def _watch_store(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._reload_now.wait(), self.settings.reload_interval)
            forced = self._reload_now.is_set()
            self._reload_now.clear()
            try:
                current = await asyncio.to_thread(self.store.current_version)
                if forced or current != self._failed_version:
                    await self._switch_to(current)
            except NormalizerError as exc:
                logger.error("cannot check the index store: %s", exc)

    def request_reload(self) -> None:
        """Check the store now (SIGHUP), retrying even a version that failed before."""
        self._reload_now.set()

    # -- embedder warm-up and health -------------------------------------------------------

    def _embedder_state_changed(self, state: CircuitState | None = None) -> None:
        """Metrics and the embedder's health name follow the warm-up and the breaker."""
        state = self.breaker.state if state is None else state
        up = self._warmed_up and state is CircuitState.CLOSED
        self.metrics.circuit_state.set(int(state))
        self.metrics.embedder_up.set(1 if up else 0)
        status = (health_pb2.HealthCheckResponse.SERVING if up
                  else health_pb2.HealthCheckResponse.NOT_SERVING)
        task = asyncio.get_running_loop().create_task(
            self.health.set(EMBEDDER_HEALTH_SERVICE, status))
        self._health_updates.add(task)
        task.add_done_callback(self._health_updates.discard)

    async def _warm_up(self) -> None:
        """Health turns SERVING only once the embedder has answered with the index's shape."""
        attempt = 0
        while True:
            try:
                vectors = await asyncio.wait_for(
                    self.embedder.embed(["warm-up"], "query"), self.settings.embedder_timeout)
                stored = self.matcher.index.stored
                stored.embedding.check_compatible(EmbeddingSpec.of(self.embedder, vectors.shape[1]))
            except IndexMismatchError as exc:
                self.fatal = exc
                logger.error("not serving: %s", exc)
                await self.health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.NOT_SERVING)
                self.ready.set()
                return
            except (EmbedderError, asyncio.TimeoutError) as exc:
                delay = WARMUP_RETRY_SECONDS[min(attempt, len(WARMUP_RETRY_SECONDS) - 1)]
                attempt += 1
                logger.warning("embedder not answering yet (%s); retrying in %.1fs",
                               exc or "timeout", delay)
                await asyncio.sleep(delay)
                continue
            for name in ("", SERVICE_NAME):
                await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
            self._warmed_up = True
            self._embedder_state_changed()
            self.ready.set()
            logger.info("embedder %s answered; SERVING", self.embedder.model)
            return

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> int:
        """Load the index, bind and start; return the bound port. Health is NOT_SERVING
        until the embedder answers (await ``ready`` to wait for that)."""
        try:
            self._serve_index(await self._load(None))
        except BaseException:
            await self.grpc.stop(None)   # never started, but owns resources until stopped
            raise
        for name in ("", SERVICE_NAME, EMBEDDER_HEALTH_SERVICE):
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        address = f"{self.settings.host}:{self.settings.port}"
        try:
            credentials = server_credentials(self.settings)
        except BaseException:
            await self.grpc.stop(None)
            raise
        try:
            self.port = (self.grpc.add_insecure_port(address) if credentials is None
                         else self.grpc.add_secure_port(address, credentials))
        except RuntimeError:   # grpc raises this when it cannot bind
            self.port = 0
        if self.port == 0:
            await self.grpc.stop(None)
            raise NormalizerError(f"cannot listen on {address}; is the port in use?")
        await self.grpc.start()
        security = ("plaintext" if credentials is None else
                    "mutual TLS" if self.settings.tls_client_ca else "TLS")
        logger.info("gRPC listening on %s:%d (%s)", self.settings.host, self.port, security)
        self._tasks = [asyncio.create_task(self._warm_up(), name="warm-up"),
                       asyncio.create_task(self._watch_store(), name="store-watcher")]
        return self.port

    async def stop(self, grace: float | None = 5.0) -> None:
        """NOT_SERVING, finish requests under way within ``grace`` seconds, stop."""
        await self.health.shut_down()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.grpc.stop(grace)
        await self.front.aclose()   # and the queue, breaker and embedder behind it

    async def wait_for_termination(self) -> None:
        await self.grpc.wait_for_termination()


def create_server(settings: Settings, embedder: Embedder, store: IndexStore,
                  metrics: Metrics | None = None) -> NormalizerServer:
    """Build a server for ``store`` with ``embedder``; nothing is loaded or started yet."""
    return NormalizerServer(settings, embedder, store, metrics or Metrics())


async def serve(server: NormalizerServer, drain_seconds: float = 5.0) -> int:
    """Run ``server`` until SIGTERM or SIGINT (drain, then stop); SIGHUP reloads the index.

    Returns a process exit code: 0 after a clean stop, 2 if the embedder and the index
    turned out not to match.
    """
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    loop.add_signal_handler(signal.SIGINT, stopping.set)
    loop.add_signal_handler(signal.SIGHUP, server.request_reload)
    await server.start()
    stop_wait = asyncio.create_task(stopping.wait())
    ready_wait = asyncio.create_task(server.ready.wait())
    await asyncio.wait({stop_wait, ready_wait}, return_when=asyncio.FIRST_COMPLETED)
    if server.fatal is None:
        await stop_wait
    stop_wait.cancel()
    logger.info("stopping: draining requests for up to %.1fs", drain_seconds)
    await server.stop(drain_seconds)
    return 2 if server.fatal is not None else 0
