"""Normalize against a real server and the shipped catalog."""

from __future__ import annotations

import pytest

from normalizer._proto import normalizer_pb2 as pb
from normalizer.catalog import load_catalog
from tests.conftest import CATALOG_DIR
from tests.integration.conftest import serve

pytestmark = pytest.mark.integration

WEATHER_TODAY = "今天的天气怎么样"
LIVING_ROOM_ON = "turn on the living room lights"


def _texts_by_id(locale: str) -> dict[str, tuple[str, ...]]:
    return {q.id: q.texts for q in load_catalog(CATALOG_DIR).locales[locale]}


async def test_homophone_is_normalized(shipped_store):
    async with serve(shipped_store) as running:
        info = await running.stub.GetIndexInfo(pb.GetIndexInfoRequest())
        resp = await running.stub.Normalize(pb.NormalizeRequest(transcript="今天天汽怎么样"))
    assert resp.text == WEATHER_TODAY
    assert resp.normalized is True
    assert resp.canonical_id == "weather.today"
    assert 0.0 < resp.confidence <= 1.0
    assert resp.fallback == pb.FALLBACK_NONE
    assert resp.index_version == info.version
    assert resp.index_version == shipped_store.current_version()


@pytest.mark.parametrize("transcript", [
    "  Turn ON the living room lights!!",
    # full-width letters, spaces and punctuation
    "ＴＵＲＮ　ＯＮ　ｔｈｅ　ｌｉｖｉｎｇ　ｒｏｏｍ　ｌｉｇｈｔｓ！",
    "turn on the living-room lights.",
])
async def test_exact_match_after_surface_noise(shipped_store, controlled, transcript):
    async with serve(shipped_store, controlled) as running:
        calls_before = len(controlled.calls)
        resp = await running.stub.Normalize(
            pb.NormalizeRequest(transcript=transcript, locale="en-US"))
    assert resp.text == LIVING_ROOM_ON
    assert resp.normalized is True
    assert resp.canonical_id == "lights.living_room.on"
    assert resp.confidence == 1.0
    assert resp.fallback == pb.FALLBACK_NONE
    # an exact match is answered without an embedding
    assert len(controlled.calls) == calls_before


async def test_exact_match_zh_full_width_punctuation(shipped_store):
    async with serve(shipped_store) as running:
        resp = await running.stub.Normalize(
            pb.NormalizeRequest(transcript="今天的天气怎么样？！", locale="zh-CN"))
    assert (resp.text, resp.canonical_id, resp.confidence) == (WEATHER_TODAY, "weather.today", 1.0)


async def test_locale_tag_is_case_insensitive(shipped_store):
    async with serve(shipped_store) as running:
        resp = await running.stub.Normalize(
            pb.NormalizeRequest(transcript="turn on the living room lights", locale="EN_us"))
    assert resp.normalized is True
    assert resp.canonical_id == "lights.living_room.on"


async def test_out_of_domain_passes_through(shipped_store):
    async with serve(shipped_store) as running:
        info = await running.stub.GetIndexInfo(pb.GetIndexInfoRequest())
        resp = await running.stub.Normalize(
            pb.NormalizeRequest(transcript="珠穆朗玛峰有多高", locale="zh-CN"))
    threshold = {loc.locale: loc.threshold for loc in info.locales}["zh-CN"]
    assert resp.text == "珠穆朗玛峰有多高"
    assert resp.normalized is False
    assert resp.fallback == pb.FALLBACK_BELOW_THRESHOLD
    assert resp.canonical_id == ""
    assert 0.0 <= resp.confidence < threshold
    assert resp.index_version == info.version


async def test_max_candidates_bounds_and_sorts(shipped_store):
    by_id = _texts_by_id("zh-CN")
    async with serve(shipped_store) as running:
        three = await running.stub.Normalize(
            pb.NormalizeRequest(transcript="今天天汽怎么样", max_candidates=3))
        none = await running.stub.Normalize(
            pb.NormalizeRequest(transcript="今天天汽怎么样", max_candidates=0))
    assert len(three.candidates) == 3
    scores = [c.score for c in three.candidates]
    assert scores == sorted(scores, reverse=True)
    assert len({c.canonical_id for c in three.candidates}) == 3
    assert three.candidates[0].canonical_id == three.canonical_id == "weather.today"
    assert three.candidates[0].score == pytest.approx(three.confidence)
    assert three.candidates[0].text == WEATHER_TODAY
    for cand in three.candidates:
        assert 0.0 <= cand.score <= 1.0
        assert cand.matched_text != ""
        assert cand.matched_text in by_id[cand.canonical_id]
        assert cand.text == by_id[cand.canonical_id][0]
    assert len(none.candidates) == 0
    assert none.normalized is True and none.canonical_id == "weather.today"


async def test_max_candidates_on_out_of_domain(shipped_store):
    async with serve(shipped_store) as running:
        resp = await running.stub.Normalize(
            pb.NormalizeRequest(transcript="珠穆朗玛峰有多高", max_candidates=5))
    assert resp.normalized is False
    assert len(resp.candidates) == 5
    scores = [c.score for c in resp.candidates]
    assert scores == sorted(scores, reverse=True)
    assert resp.confidence == pytest.approx(scores[0])


async def test_request_min_confidence_forces_below_threshold(shipped_store):
    request = pb.NormalizeRequest(transcript="今天天汽怎么样", locale="zh-CN")
    strict = pb.NormalizeRequest(transcript="今天天汽怎么样", locale="zh-CN",
                                 min_confidence=0.999999)
    async with serve(shipped_store) as running:
        normal = await running.stub.Normalize(request)
        forced = await running.stub.Normalize(strict)
        exact = await running.stub.Normalize(
            pb.NormalizeRequest(transcript=WEATHER_TODAY, min_confidence=0.999999))
    assert normal.normalized is True and normal.confidence < 0.999999
    assert forced.normalized is False
    assert forced.fallback == pb.FALLBACK_BELOW_THRESHOLD
    assert forced.text == "今天天汽怎么样"
    assert forced.canonical_id == ""
    assert forced.confidence == pytest.approx(normal.confidence)
    # an exact match has confidence 1 and passes any threshold
    assert exact.normalized is True and exact.confidence == 1.0


async def test_clean_alternative_rescues_garbled_one_best(shipped_store):
    garbled = "金天舔起怎么样"
    async with serve(shipped_store) as running:
        alone = await running.stub.Normalize(pb.NormalizeRequest(transcript=garbled))
        helped = await running.stub.Normalize(pb.NormalizeRequest(
            transcript=garbled, max_candidates=1,
            alternatives=[pb.Hypothesis(text=garbled, score=0.5),
                          pb.Hypothesis(text="今天天气怎么样", score=0.4)]))
    assert alone.normalized is False
    assert alone.fallback == pb.FALLBACK_BELOW_THRESHOLD
    assert helped.normalized is True
    assert helped.text == WEATHER_TODAY
    assert helped.canonical_id == "weather.today"
    assert helped.fallback == pb.FALLBACK_NONE
    assert helped.confidence > alone.confidence
    assert helped.candidates[0].matched_text == "今天天气怎么样"


async def test_exact_match_through_a_variant_names_the_variant(shipped_store):
    catalog = load_catalog(CATALOG_DIR)
    query = next(q for q in catalog.locales["en-US"] if q.variants)
    variant = query.variants[0]
    async with serve(shipped_store) as running:
        resp = await running.stub.Normalize(pb.NormalizeRequest(
            transcript=variant.upper() + "!", locale="en-US", max_candidates=1))
    assert resp.normalized and resp.confidence == 1.0
    assert resp.text == query.text and resp.canonical_id == query.id
    assert resp.candidates[0].matched_text == variant
    assert resp.reason == "exact match"
