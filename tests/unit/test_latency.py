"""EmbedLatency: the p99 the deadline check uses, per batch size, forgetting old calls."""

from __future__ import annotations

from normalizer.embedding.latency import EmbedLatency, size_class


def test_size_classes_double() -> None:
    assert [size_class(n) for n in (1, 2, 3, 4, 5, 8, 9, 32, 33)] == [0, 1, 2, 2, 3, 3, 4, 5, 6]


def test_no_estimate_until_enough_calls() -> None:
    latency = EmbedLatency(min_samples=5)
    for _ in range(4):
        latency.observe(1, 0.01, now=0.0)
    assert latency.estimate(1, now=0.0) is None
    latency.observe(1, 0.01, now=0.0)
    assert latency.estimate(1, now=0.0) == 0.01


def test_estimate_is_the_nearest_rank_p99() -> None:
    latency = EmbedLatency(window=1000, min_samples=1)
    for ms in range(1, 201):            # 1..200 ms
        latency.observe(1, ms / 1000, now=0.0)
    # 99% of 200 samples is 198: the 198th smallest value
    assert latency.estimate(1, now=0.0) == 0.198
    assert latency.count(1, now=0.0) == 200


def test_batch_sizes_are_estimated_apart() -> None:
    latency = EmbedLatency(min_samples=3)
    for _ in range(3):
        latency.observe(1, 0.01, now=0.0)
        latency.observe(32, 0.30, now=0.0)
    assert latency.estimate(1, now=0.0) == 0.01
    assert latency.estimate(17, now=0.0) == 0.30     # 17..32 texts share a class
    assert latency.estimate(2, now=0.0) is None


def test_old_calls_are_forgotten() -> None:
    latency = EmbedLatency(max_age=10.0, min_samples=3)
    for _ in range(3):
        latency.observe(1, 2.0, now=0.0)            # a slow spell
    assert latency.estimate(1, now=5.0) == 2.0
    assert latency.estimate(1, now=11.0) is None    # ... that is over
    for _ in range(3):
        latency.observe(1, 0.01, now=12.0)
    assert latency.estimate(1, now=12.0) == 0.01


def test_the_window_keeps_the_latest_calls() -> None:
    latency = EmbedLatency(window=3, min_samples=3)
    for seconds in (5.0, 5.0, 5.0, 0.1, 0.1, 0.1):
        latency.observe(1, seconds, now=0.0)
    assert latency.estimate(1, now=0.0) == 0.1
