"""Index store: round trips, atomic publication, verification on load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from normalizer.catalog import CanonicalQuery, Catalog
from normalizer.errors import IndexMismatchError, IndexStoreError
from normalizer.index.store import EmbeddingSpec, IndexStore

SPEC = EmbeddingSpec("model-a", 4, {"name": "plain", "query": "{text}", "document": "{text}",
                                    "input_type": None})
CATALOG = Catalog({"en-US": (CanonicalQuery("a", "turn on", ("switch on",), "f:1"),
                             CanonicalQuery("b", "turn off", (), "f:4"))})


def vectors() -> dict[str, np.ndarray]:
    rows = np.eye(4, dtype=np.float32)[:3]
    return {"en-US": rows}


def test_round_trip(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    assert store.current_version() is None
    version = store.publish(CATALOG, vectors(), SPEC, calibration={"locales": {}})
    assert store.current_version() == version
    loaded = store.load()
    assert loaded.version == version
    assert loaded.embedding == SPEC
    assert loaded.calibration == {"locales": {}}
    data = loaded.locales["en-US"]
    assert [q.id for q in data.queries] == ["a", "b"]
    assert data.queries[0].variants == ("switch on",)
    assert data.row_text == ("turn on", "switch on", "turn off")
    assert data.row_query.tolist() == [0, 0, 1]
    scores, rows = data.vectors.search(np.eye(4, dtype=np.float32)[1:2], 2)
    assert rows[0][0] == 1 and scores[0][0] == pytest.approx(1.0)


def test_new_version_becomes_current_and_old_stays_loadable(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    first = store.publish(CATALOG, vectors(), SPEC)
    second = store.publish(CATALOG, {"en-US": np.eye(4, dtype=np.float32)[1:]}, SPEC)
    assert first != second
    assert store.current_version() == second
    assert store.load(first).version == first


def test_failed_publish_leaves_store_unchanged(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    first = store.publish(CATALOG, vectors(), SPEC)
    before = sorted(p.name for p in store.versions.iterdir() if not p.name.startswith("."))
    with pytest.raises(IndexStoreError, match="vectors for 3 texts"):
        store.publish(CATALOG, {"en-US": np.eye(4, dtype=np.float32)[:2]}, SPEC)
    assert store.current_version() == first
    after = sorted(p.name for p in store.versions.iterdir() if not p.name.startswith("."))
    assert after == before


def test_corrupt_file_is_detected(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    version = store.publish(CATALOG, vectors(), SPEC)
    path = store.versions / version / "catalog.json"
    path.write_text(path.read_text().replace("turn on", "turn up"))
    with pytest.raises(IndexStoreError, match="checksum mismatch"):
        store.load()


def test_missing_and_unknown_versions(tmp_path: Path) -> None:
    with pytest.raises(IndexStoreError, match="no current version; build one with"):
        IndexStore(tmp_path).load()
    with pytest.raises(IndexStoreError, match="cannot load index version"):
        IndexStore(tmp_path).load("nope")


def test_manifest_records_what_vectors_mean(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    version = store.publish(CATALOG, vectors(), SPEC)
    manifest = json.loads((store.versions / version / "manifest.json").read_text())
    assert manifest["embedding"] == {"model": "model-a", "dimensions": 4,
                                     "text_format": SPEC.text_format}
    assert manifest["locales"] == {"en-US": {"canonical_queries": 2, "indexed_texts": 3}}
    assert manifest["checksum"] and manifest["built_at"].endswith("Z")
    assert set(manifest["files"]) == {"catalog.json", "en-US.faiss"}


@pytest.mark.parametrize(("other", "message"), [
    (EmbeddingSpec("model-b", 4, SPEC.text_format), "'model-a' but the server is configured "
                                                    "with 'model-b'"),
    (EmbeddingSpec("model-a", 8, SPEC.text_format), "4-dimensional vectors but the embedder "
                                                    "gives 8"),
    (EmbeddingSpec("model-a", 4, {**SPEC.text_format, "name": "e5"}), "text format 'plain'"),
])
def test_spec_mismatch_is_refused(other: EmbeddingSpec, message: str) -> None:
    with pytest.raises(IndexMismatchError, match=message):
        SPEC.check_compatible(other)
