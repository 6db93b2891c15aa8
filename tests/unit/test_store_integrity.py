"""Index integrity: one flipped or missing byte anywhere in a version refuses it, naming
the file. Each file of a version is damaged in turn, at positions spread over it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from normalizer.catalog import CanonicalQuery, Catalog
from normalizer.errors import IndexStoreError
from normalizer.index.store import EmbeddingSpec, IndexStore

SPEC = EmbeddingSpec("model-a", 8, {"name": "plain", "query": "{text}", "document": "{text}",
                                    "input_type": None})
CATALOG = Catalog({
    "en-US": (CanonicalQuery("a", "turn on", ("switch on",), "f:1"),
              CanonicalQuery("b", "turn off", (), "f:4")),
    "zh-CN": (CanonicalQuery("c", "打开灯", ("开灯",), "g:1"),),
})
POSITIONS_PER_FILE = 40


def publish(root: Path) -> tuple[IndexStore, Path]:
    rng = np.random.default_rng(7)
    vectors = {loc: rng.standard_normal((n, 8)).astype(np.float32)
               for loc, n in (("en-US", 3), ("zh-CN", 2))}
    vectors = {loc: v / np.linalg.norm(v, axis=1, keepdims=True) for loc, v in vectors.items()}
    store = IndexStore(root)
    version = store.publish(CATALOG, vectors, SPEC, calibration={"locales": {"en-US": {}}})
    return store, store.versions / version


def positions(size: int) -> list[int]:
    step = max(1, size // POSITIONS_PER_FILE)
    return sorted({*range(0, size, step), size - 1})


def version_files(folder: Path) -> list[str]:
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["catalog.json", "en-US.faiss", "manifest.json", "zh-CN.faiss"]
    return names


@pytest.mark.parametrize("flip", [0x01, 0xFF], ids=["low-bit", "all-bits"])
def test_every_flipped_byte_is_refused_naming_its_file(tmp_path: Path, flip: int) -> None:
    store, folder = publish(tmp_path)
    tried = 0
    for name in version_files(folder):
        path = folder / name
        original = path.read_bytes()
        for pos in positions(len(original)):
            damaged = bytearray(original)
            damaged[pos] ^= flip
            path.write_bytes(bytes(damaged))
            with pytest.raises(IndexStoreError) as info:
                store.load()
            assert name in str(info.value), (name, pos, str(info.value))
            tried += 1
        path.write_bytes(original)
    assert store.load().version == folder.name       # undamaged again: loads
    assert tried > 4 * 10


@pytest.mark.parametrize("keep", [0, 0.5, -1], ids=["empty", "half", "one-byte-short"])
def test_a_truncated_file_is_refused_naming_it(tmp_path: Path, keep: float) -> None:
    store, folder = publish(tmp_path)
    for name in version_files(folder):
        path = folder / name
        original = path.read_bytes()
        cut = len(original) - 1 if keep == -1 else int(len(original) * keep)
        path.write_bytes(original[:cut])
        with pytest.raises(IndexStoreError, match=name.replace(".", r"\.")):
            store.load()
        path.write_bytes(original)


def test_a_removed_file_is_refused_naming_it(tmp_path: Path) -> None:
    store, folder = publish(tmp_path)
    (folder / "zh-CN.faiss").unlink()
    with pytest.raises(IndexStoreError, match=r"zh-CN\.faiss"):
        store.load()


def test_an_edited_manifest_that_is_still_valid_json_is_refused(tmp_path: Path) -> None:
    store, folder = publish(tmp_path)
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["embedding"]["model"] = "model-b"           # would pass every file checksum
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexStoreError, match=r"manifest\.json: checksum mismatch"):
        store.load()
    del manifest["manifest_checksum"]
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexStoreError, match="no manifest_checksum"):
        store.load()


def test_recalibrating_a_damaged_version_is_refused(tmp_path: Path) -> None:
    store, folder = publish(tmp_path)
    path = folder / "en-US.faiss"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(IndexStoreError, match=r"en-US\.faiss: checksum mismatch"):
        store.recalibrate(folder.name, {"locales": {}})
    assert store.current_version() == folder.name       # nothing new published
