"""A bare ``grpc.aio`` QueryNormalizer that answers every Normalize with one constant.

    python -m loadtest.constant_server [--port 0]

The ceiling for the service: what one Python gRPC process does with no work at all.
Prints ``constant-server listening on 127.0.0.1:PORT``.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import grpc

from normalizer._proto import normalizer_pb2 as pb
from normalizer._proto import normalizer_pb2_grpc as pb_grpc

ANSWER = pb.NormalizeResponse(text="今天的天气怎么样", normalized=True,
                              canonical_id="weather.today", confidence=0.9,
                              index_version="constant")


class Constant(pb_grpc.QueryNormalizerServicer):
    async def Normalize(self, request: pb.NormalizeRequest, context: Any) -> pb.NormalizeResponse:
        return ANSWER


async def serve(port: int) -> None:
    server = grpc.aio.server()
    pb_grpc.add_QueryNormalizerServicer_to_server(Constant(), server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print(f"constant-server listening on 127.0.0.1:{bound}", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(serve(parser.parse_args().port))
