"""The difference guard through a real server: ASR noise is rewritten, slot changes are not."""

from __future__ import annotations

import pytest

from normalizer._proto import normalizer_pb2 as pb
from tests.conftest import running_server

pytestmark = pytest.mark.integration

REWRITTEN = [
    ("zh-CN", "今天天汽怎么样", "今天的天气怎么样"),
    ("zh-CN", "打开书房的等", "打开书房的灯"),
    ("en-US", "close the garage dour", "close the garage door"),
]

# Near neighbours in form that differ in a slot no catalog query covers.
GUARDED = [
    ("zh-CN", "打开阳台的灯"),                       # another room
    ("zh-CN", "定一个早上五点的闹钟"),                 # another time
    ("en-US", "set a timer for twenty five minutes"),  # another number
    ("en-US", "add butter to the shopping list"),      # another item
]


@pytest.mark.parametrize(("locale", "transcript", "canonical"), REWRITTEN)
async def test_asr_noise_is_rewritten(shipped_store, locale, transcript, canonical):
    async with running_server(shipped_store) as running:
        resp = await running.stub.Normalize(
            pb.NormalizeRequest(transcript=transcript, locale=locale))
    assert resp.normalized, resp
    assert resp.text == canonical
    assert resp.fallback == pb.FALLBACK_NONE
    assert "guard:" in resp.reason


async def test_slot_changes_fall_back_with_guard(shipped_store):
    guarded = 0
    async with running_server(shipped_store) as running:
        for locale, transcript in GUARDED:
            resp = await running.stub.Normalize(pb.NormalizeRequest(
                transcript=transcript, locale=locale, max_candidates=1))
            assert not resp.normalized, resp
            assert resp.text == transcript
            assert resp.canonical_id == ""
            # GUARD when the rewrite would have been made but for the slot; below the
            # threshold when it was not close enough anyway - either way the slot is named
            assert resp.fallback in (pb.FALLBACK_GUARD, pb.FALLBACK_BELOW_THRESHOLD), resp
            assert "differs" in resp.reason, resp.reason
            guarded += resp.fallback == pb.FALLBACK_GUARD
            # the candidate it refused is shown, so a caller can see what was close
            assert resp.candidates and resp.candidates[0].text != transcript
        registry = running.metrics.registry
        assert guarded >= len(GUARDED) // 2
        assert registry.get_sample_value("normalizer_guard_blocks_total") == guarded
        assert registry.get_sample_value("normalizer_fallbacks_total",
                                         {"reason": "guard"}) == guarded


async def test_guard_off_rewrites_the_slot_change(shipped_store):
    """The ablation switch really removes the guard (so the ablation measures something)."""
    from tests.conftest import make_settings

    async with running_server(shipped_store, make_settings(guard="false",
                                                           min_confidence=0.01)) as running:
        resp = await running.stub.Normalize(pb.NormalizeRequest(
            transcript="add butter to the shopping list", locale="en-US"))
    assert resp.normalized
    assert resp.text != "add butter to the shopping list"
