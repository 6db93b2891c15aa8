"""The batching queue's throughput measure, and admission's use of it."""

from __future__ import annotations

import time

import pytest

from normalizer.embedding.batching import Throughput
from normalizer.service.servicer import Admission


def test_busy_time_counts_overlapping_calls_once_and_idle_time_not_at_all():
    rate = Throughput(min_calls=2)
    assert rate.rate() is None
    # Two calls of 10 texts overlapping over 0..1.5 s, then idle, then one of 5 texts.
    rate.started(0.0)
    rate.started(0.5)
    rate.ended(10, 1.0, ok=True)
    rate.ended(10, 1.5, ok=True)
    rate.started(10.0)
    rate.ended(5, 10.5, ok=True)
    assert rate.rate() == pytest.approx(25 / 2.0)


def test_a_failed_call_is_not_a_measure():
    rate = Throughput(min_calls=1)
    rate.started(0.0)
    rate.ended(10, 5.0, ok=False)      # a hung call, cut off
    rate.started(6.0)
    rate.ended(10, 6.1, ok=True)
    assert rate.rate() == pytest.approx(10 / 0.1)


class Queue:
    """What admission reads of the batching queue."""

    queued_texts = 40

    def __init__(self, wait: float | None) -> None:
        self.wait = wait

    def expected_wait(self, texts: int) -> float | None:
        return self.wait


def test_admission_sheds_what_would_outlast_the_deadline_or_the_embedder_timeout():
    far = time.monotonic() + 10.0
    assert Admission(10, Queue(None), 0.5).too_slow(1, far) is None   # nothing measured
    assert Admission(10, Queue(0.2), 0.5).too_slow(1, far) is None
    why = Admission(10, Queue(0.8), 0.5).too_slow(1, far)              # past the timeout
    assert why is not None and "40 texts queued" in why
    near = time.monotonic() + 0.1
    assert Admission(10, Queue(0.2), 0.5).too_slow(1, near) is not None  # past the deadline
    assert Admission(10, None, 0.5).too_slow(1, near) is None           # no queue: no estimate
