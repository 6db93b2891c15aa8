"""Locust users for ``Normalize``, for teams that drive load with Locust.

    pip install locust          # into the environment that has this package
    locust -f loadtest/locustfile.py --host 127.0.0.1:50051 --headless -u 32 -r 8 -t 30s

Run it from the repository root (it imports ``loadtest``). Locust is not a dependency
of this package (``loadtest.openloop`` is the open-loop generator the README's figures
come from); this file only needs it when run. Each user sends held-out transcripts
(``tests/data/*.test.jsonl``, cycled from a random start) over one gRPC channel;
requests are reported as ``Normalize <fallback>`` (for example ``Normalize none``,
``Normalize embedder_unavailable``), so Locust's table splits latency by how the request
was answered, and gRPC errors as failures. Locust's users are closed-loop (a user waits
for its answer); ``NORMALIZER_LOCUST_RATE`` paces each user at that many requests/s
(Locust's ``constant_throughput``: still closed-loop, a slow answer delays the next).
"""

from __future__ import annotations

import itertools
import os
import random
import time

import grpc
import grpc.experimental.gevent as grpc_gevent
from locust import User, constant, constant_throughput, task

from loadtest.openloop import HELD_OUT, load_transcripts
from normalizer._proto import normalizer_pb2 as pb
from normalizer._proto import normalizer_pb2_grpc as pb_grpc

grpc_gevent.init_gevent()     # Locust runs users as gevent greenlets

TRANSCRIPTS = load_transcripts(HELD_OUT)
_RATE = float(os.environ.get("NORMALIZER_LOCUST_RATE", "0"))


class NormalizeUser(User):
    host = "127.0.0.1:50051"
    wait_time = constant_throughput(_RATE) if _RATE > 0 else constant(0)
    timeout = float(os.environ.get("NORMALIZER_LOCUST_TIMEOUT", "1.0"))

    def on_start(self) -> None:
        self.channel = grpc.insecure_channel(self.host)
        self.stub = pb_grpc.QueryNormalizerStub(self.channel)
        start = random.randrange(len(TRANSCRIPTS))
        self.items = itertools.islice(itertools.cycle(TRANSCRIPTS), start, None)

    def on_stop(self) -> None:
        self.channel.close()

    @task
    def normalize(self) -> None:
        text, locale = next(self.items)
        started = time.perf_counter()
        name, length, error = "Normalize error", 0, None
        try:
            answer = self.stub.Normalize(pb.NormalizeRequest(transcript=text, locale=locale),
                                         timeout=self.timeout)
            name = "Normalize " + pb.Fallback.Name(answer.fallback).removeprefix(
                "FALLBACK_").lower()
            length = answer.ByteSize()
        except grpc.RpcError as exc:
            error = exc
        self.environment.events.request.fire(
            request_type="grpc", name=name, response_time=(time.perf_counter() - started) * 1e3,
            response_length=length, exception=error, context={})
