"""AnswerCache bounds, keys and version following, without a server."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from normalizer.matching.answer import Answer, Fallback, MatchRequest
from normalizer.metrics import Metrics
from normalizer.service.answer_cache import AnswerCache


def answer(text: str, version: str = "v1", fallback: Fallback = Fallback.NONE) -> Answer:
    return Answer(text, fallback is Fallback.NONE, "q" if fallback is Fallback.NONE else "",
                  0.9, fallback, version, reason="test")


def cache(entries: int = 100, size: int = 1 << 20) -> AnswerCache:
    return AnswerCache(entries, size, Metrics(CollectorRegistry()))


def test_least_recently_used_goes_first_when_full():
    c = cache(entries=2)
    keys = [c.key(MatchRequest(t), "zh-CN") for t in ("a", "b", "c")]
    for key, text in zip(keys[:2], "ab", strict=True):
        assert c.get("v1", key, MatchRequest(text)) is None
        c.put(key, answer(text))
    assert c.get("v1", keys[0], MatchRequest("a")) is not None   # a is now the most recent
    c.put(keys[2], answer("c"))
    assert c.get("v1", keys[1], MatchRequest("b")) is None
    assert c.get("v1", keys[0], MatchRequest("a")) is not None and len(c) == 2


def test_bytes_bound_the_cache_too():
    c = cache(entries=1000, size=4000)
    for i in range(50):
        key = c.key(MatchRequest(f"transcript {i}"), "en-US")
        c.get("v1", key, MatchRequest(f"transcript {i}"))
        c.put(key, answer("x" * 200))
    assert 0 < len(c) < 50 and c.bytes <= 4000


def test_keys_differ_by_locale_alternatives_and_answer_changing_fields():
    base = MatchRequest("今天天气怎么样")
    keys = {AnswerCache.key(base, "zh-CN"), AnswerCache.key(base, "zh-TW"),
            AnswerCache.key(MatchRequest("今天天气怎么样", alternatives=(("今天天汽", 0.4),)),
                            "zh-CN"),
            AnswerCache.key(MatchRequest("今天天气怎么样", min_confidence=0.9), "zh-CN"),
            AnswerCache.key(MatchRequest("今天天气怎么样", max_candidates=3), "zh-CN")}
    assert len(keys) == 5
    assert AnswerCache.key(MatchRequest("今天 天气怎么样？", request_id="r1"), "zh-CN") == \
        AnswerCache.key(base, "zh-CN")


def test_momentary_fallbacks_and_answers_of_another_version_are_not_kept():
    c = cache()
    key = c.key(MatchRequest("a"), "zh-CN")
    c.get("v2", key, MatchRequest("a"))
    for why in (Fallback.EMBEDDER_UNAVAILABLE, Fallback.DEADLINE, Fallback.OVERLOADED):
        c.put(key, answer("a", "v2", why))
    c.put(key, answer("a", "v1"))          # computed before the reload to v2
    assert len(c) == 0
    c.put(key, answer("a", "v2"))
    assert c.get("v2", key, MatchRequest("a")) is not None
    assert c.get("v3", key, MatchRequest("a")) is None and len(c) == 0


def test_zero_entries_turns_the_cache_off_without_counting():
    c = cache(entries=0)
    key = c.key(MatchRequest("a"), "zh-CN")
    assert c.get("v1", key, MatchRequest("a")) is None
    c.put(key, answer("a"))
    assert len(c) == 0
    assert c.metrics.registry.get_sample_value("normalizer_cache_misses_total") == 0
