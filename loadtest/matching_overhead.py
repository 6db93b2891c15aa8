"""What phonetic scoring and the guard cost per transcript, measured in-process.

    python -m loadtest.matching_overhead [--rounds 300] [--alternatives 0]

Embeds the benchmark transcripts once, then times ``Matcher.score`` (FAISS search,
merging, features, guard, confidence) with each mechanism switched off and on, on the
same vectors, interleaved round by round so machine noise hits every variant alike.
Prints p50/p99 per variant and the p50 added over the plain nearest-neighbour
baseline. The end-to-end view is ``loadtest.normalize_latency``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import numpy as np
from prometheus_client import CollectorRegistry

from loadtest.normalize_latency import NOISY, build_store
from normalizer.embedding.formats import get_format
from normalizer.embedding.local import LocalEmbedder
from normalizer.index.store import IndexStore
from normalizer.matching.answer import MatchRequest
from normalizer.matching.matcher import Matcher, ServedIndex, _Pending
from normalizer.metrics import Metrics

VARIANTS = {"plain": (False, False), "+phonetic": (True, False), "+guard": (False, True),
            "phonetic+guard": (True, True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        build_store(store)
        index = ServedIndex.from_stored(IndexStore(store).load())
    embedder = LocalEmbedder(get_format("e5-symmetric", ""))

    async def embed() -> np.ndarray:
        try:
            return await embedder.embed([t for t, _ in NOISY], "query")
        finally:
            await embedder.aclose()

    vectors = asyncio.run(embed())
    matchers = {}
    for name, (phonetic, guard) in VARIANTS.items():
        m = Matcher(embedder, Metrics(CollectorRegistry()), default_locale="zh-CN", top_k=10,
                    min_confidence=None, embedder_timeout=1.0, phonetic=phonetic,
                    use_guard=guard)
        m.set_index(index)
        matchers[name] = m
    pendings = [_Pending(i, MatchRequest(t, loc), loc, [(t, 1.0)])
                for i, (t, loc) in enumerate(NOISY)]
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name, m in matchers.items():
            for p, v in zip(pendings, vectors, strict=True):
                started = time.perf_counter()
                m.score(index, p, v[None, :])
                times[name].append(time.perf_counter() - started)
    base = float(np.percentile(times["plain"], 50))
    for name, samples in times.items():
        ms = np.array(samples) * 1e3
        p50 = float(np.percentile(ms, 50))
        print(f"{name:<16} score(): p50 {p50:.3f} ms  p99 {np.percentile(ms, 99):.3f} ms  "
              f"added p50 {p50 - base * 1e3:+.3f} ms  (n={len(ms)})")


if __name__ == "__main__":
    main()
