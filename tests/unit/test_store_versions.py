"""Index store: staged versions, making one current, discarding and pruning versions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from normalizer.catalog import CanonicalQuery, Catalog, diff_catalog
from normalizer.errors import IndexStoreError
from normalizer.index.store import IndexStore
from tests.unit.test_store import CATALOG, SPEC, vectors


def _publish(store: IndexStore, row: int, make_current: bool = True) -> str:
    matrix = np.roll(np.eye(4, dtype=np.float32), row, axis=0)[:3]
    return store.publish(CATALOG, {"en-US": matrix}, SPEC, make_current=make_current)


def test_staged_version_is_loadable_but_not_current(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    first = _publish(store, 0)
    staged = _publish(store, 1, make_current=False)
    assert store.current_version() == first
    assert store.load(staged).version == staged
    store.make_current(staged)
    assert store.current_version() == staged


def test_discard_removes_a_staged_version_but_never_the_current(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    first = _publish(store, 0)
    staged = _publish(store, 1, make_current=False)
    store.discard(staged)
    assert store.list_versions() == [first]
    with pytest.raises(IndexStoreError, match="it is the current version"):
        store.discard(first)
    with pytest.raises(IndexStoreError, match="no such version"):
        store.make_current(staged)


def test_prune_keeps_the_newest_and_the_current(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    names = [_publish(store, i) for i in range(4)]      # within one second: mtime orders
    assert store.list_versions() == names
    store.make_current(names[0])                        # rolled back to the oldest
    assert store.prune(keep=2) == [names[1]]
    assert store.list_versions() == [names[0], names[2], names[3]]
    assert store.load().version == names[0]
    assert store.prune(keep=2) == []


def test_queries_reads_a_versions_catalog(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    version = store.publish(CATALOG, vectors(), SPEC)
    assert store.queries(version) == dict(CATALOG.locales)
    with pytest.raises(IndexStoreError, match="cannot read the catalog of version nope"):
        store.queries("nope")


def test_diff_catalog_names_added_removed_and_changed_ids() -> None:
    new = Catalog({
        "en-US": (CanonicalQuery("a", "turn on", ("switch on", "power on"), "f:1"),
                  CanonicalQuery("c", "dim", (), "f:7")),
        "zh-CN": (CanonicalQuery("x", "开灯", (), "g:1"),),
    })
    changes = diff_catalog(dict(CATALOG.locales), new)
    assert changes["en-US"].added == ("c",)
    assert changes["en-US"].removed == ("b",)
    assert changes["en-US"].changed == ("a",)           # a variant was added
    assert changes["zh-CN"].added == ("x",)
    assert changes["en-US"].summary() == "1 added, 1 removed, 1 changed"
    same = diff_catalog(dict(CATALOG.locales), CATALOG)
    assert not same["en-US"] and same["en-US"].summary() == "no changes"
    # Only the source line moved: not a change of what is indexed.
    moved = Catalog({"en-US": tuple(CanonicalQuery(q.id, q.text, q.variants, "other:9")
                                    for q in CATALOG.locales["en-US"])})
    assert not diff_catalog(dict(CATALOG.locales), moved)["en-US"]
    gone = diff_catalog({**CATALOG.locales, "de-DE": (CanonicalQuery("d", "an", (), "h:1"),)},
                        CATALOG)
    assert gone["de-DE"].removed == ("d",)
