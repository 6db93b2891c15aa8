"""The index store: a directory of immutable versions and a pointer to the current one.

::

    STORE/
      CURRENT                      the current version's name, replaced atomically
      versions/<version>/
        manifest.json              model, dimensions, text format, locales, checksums
        catalog.json               the canonical queries and the text of every index row
        <locale>.faiss             one IndexFlatIP per locale, rows in catalog.json order
      embeddings.sqlite            the embedding cache index builds share (not a version)

A version is written under a temporary name, flushed, renamed into place, and only
then made current by replacing ``CURRENT`` (``os.replace`` is atomic on POSIX). A
failed build therefore leaves the store as it was, and a reader sees either the old
version or the new one, never a half-written one.

Integrity: the manifest holds the SHA-256 of every other file of the version, and
``manifest_checksum``, the SHA-256 of the manifest's own content (its canonical JSON
without that key). Loading verifies both before reading anything else, so a
truncated or altered byte anywhere in a version refuses it, naming the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from normalizer.catalog import CanonicalQuery, Catalog, SlotDeclaration
from normalizer.errors import IndexMismatchError, IndexStoreError
from normalizer.index.search import VectorIndex

if TYPE_CHECKING:
    from normalizer.embedding.base import Embedder

__all__ = ["EmbeddingSpec", "IndexStore", "LocaleData", "StoredIndex"]

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CATALOG = "catalog.json"
CURRENT = "CURRENT"
EMBEDDING_CACHE = "embeddings.sqlite"


@dataclass(frozen=True)
class EmbeddingSpec:
    """What vectors in an index mean: the model, its dimensions and the text format."""

    model: str
    dimensions: int
    text_format: dict[str, Any]

    @classmethod
    def of(cls, embedder: Embedder, dimensions: int) -> EmbeddingSpec:
        """What ``embedder``'s vectors of ``dimensions`` components mean."""
        return cls(embedder.model, int(dimensions), embedder.text_format.describe())

    @classmethod
    def from_manifest(cls, entry: Mapping[str, Any]) -> EmbeddingSpec:
        """The ``embedding`` entry of a manifest (KeyError/ValueError if malformed)."""
        return cls(entry["model"], int(entry["dimensions"]), entry["text_format"])

    def check_compatible(self, other: EmbeddingSpec) -> None:
        """Raise IndexMismatchError, naming the difference, unless ``other`` is the same."""
        if self.model != other.model:
            raise IndexMismatchError(
                f"the index was built with embedding model {self.model!r} but the server is "
                f"configured with {other.model!r}; rebuild the index with this embedder or "
                "configure the embedder the index was built with")
        if self.dimensions != other.dimensions:
            raise IndexMismatchError(
                f"the index has {self.dimensions}-dimensional vectors but the embedder gives "
                f"{other.dimensions}; rebuild the index or set --embedder-dimensions "
                f"{self.dimensions}")
        if self.text_format != other.text_format:
            raise IndexMismatchError(
                f"the index was built with text format {self.text_format['name']!r} but the "
                f"server uses {other.text_format['name']!r}; rebuild the index or pass "
                f"--text-format {self.text_format['name']}")


@dataclass(frozen=True)
class LocaleData:
    """One locale of a loaded version: its queries, the rows of its index, and the index."""

    queries: tuple[CanonicalQuery, ...]
    row_query: np.ndarray          # row -> position in ``queries``
    row_text: tuple[str, ...]      # row -> the text that was embedded
    vectors: VectorIndex
    slots: tuple[SlotDeclaration, ...] = ()   # slots the catalog files declare


@dataclass(frozen=True)
class StoredIndex:
    """A loaded, verified version."""

    version: str
    built_at: str
    embedding: EmbeddingSpec
    locales: dict[str, LocaleData]
    calibration: dict[str, Any] | None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _query_from_json(entry: Mapping[str, Any]) -> CanonicalQuery:
    return CanonicalQuery(entry["id"], entry["text"], tuple(entry["variants"]), entry["source"])


def _manifest_digest(manifest: Mapping[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON, without the key that holds it."""
    content = {k: v for k, v in manifest.items() if k != "manifest_checksum"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=True,
                                     separators=(",", ":")).encode()).hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class IndexStore:
    """Reads and writes the versions of one store directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.versions = self.root / "versions"

    def current_version(self) -> str | None:
        """The current version's name, or None if nothing was ever published."""
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise IndexStoreError(f"cannot read {self.root / CURRENT}: {exc.strerror}") from exc
        return name or None

    def publish(self, catalog: Catalog, vectors: Mapping[str, np.ndarray], spec: EmbeddingSpec,
                calibration: dict[str, Any] | None = None, *, make_current: bool = True) -> str:
        """Write a new immutable version and make it current; return its name.

        ``make_current=False`` only stages it: the version is complete and loadable by
        name, but ``CURRENT`` is untouched until ``make_current`` (or ``discard``).
        """
        built_at = datetime.now(timezone.utc)

        def write(staging: Path) -> dict[str, Any]:
            return self._write_version(staging, catalog, vectors, spec, calibration, built_at)

        return self._commit(write, built_at, make_current)

    def recalibrate(self, version: str, calibration: dict[str, Any], *,
                    make_current: bool = True) -> str:
        """Publish ``version``'s data again with ``calibration``, as a new version: the
        current one, or only staged with ``make_current=False``."""
        source = self.versions / version
        built_at = datetime.now(timezone.utc)

        def write(staging: Path) -> dict[str, Any]:
            manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
            for name, digest in manifest["files"].items():
                shutil.copyfile(source / name, staging / name)
                if _sha256(staging / name) != digest:   # never re-sign a damaged file
                    raise IndexStoreError(f"{source / name}: checksum mismatch; version "
                                          f"{version} is corrupt, rebuild the index")
            manifest["calibration"] = calibration
            manifest["calibrated_from"] = version
            return dict(manifest)

        return self._commit(write, built_at, make_current)

    def _commit(self, write: Callable[[Path], dict[str, Any]], built_at: datetime,
                make_current: bool = True) -> str:
        """Stage a version with ``write`` (which returns its manifest), name it, make it current."""
        try:
            self.versions.mkdir(parents=True, exist_ok=True)
            staging = self.versions / f".incoming-{uuid.uuid4().hex}"
            staging.mkdir()
            try:
                manifest = write(staging)
                files = {p.name: _sha256(p) for p in sorted(staging.iterdir())}
                manifest_text = json.dumps(manifest.get("calibration"), sort_keys=True)
                checksum = hashlib.sha256(
                    ("".join(f"{n}:{d}\n" for n, d in sorted(files.items())) + manifest_text
                     ).encode()).hexdigest()
                version = f"{built_at:%Y%m%dT%H%M%S}Z-{checksum[:12]}"
                manifest.update(version=version, checksum=checksum, files=files)
                manifest["manifest_checksum"] = _manifest_digest(manifest)
                (staging / MANIFEST).write_text(
                    json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
                for path in staging.iterdir():
                    _fsync(path)
                target = self.versions / version
                if target.exists():  # the same content published again within a second
                    shutil.rmtree(staging)
                else:
                    os.rename(staging, target)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            _fsync(self.versions)
        except OSError as exc:
            raise IndexStoreError(f"cannot write to index store {self.root}: {exc}") from exc
        if make_current:
            self.make_current(version)
        return version

    # -- the life of versions: staged, current, pruned (index build) ---------------------------

    def make_current(self, version: str) -> None:
        """Point ``CURRENT`` at ``version`` atomically (a running serve picks it up)."""
        if not (self.versions / version / MANIFEST).is_file():
            raise IndexStoreError(f"{self.versions / version}: no such version to make current")
        try:
            pointer = self.root / f".{CURRENT}.{uuid.uuid4().hex}"
            pointer.write_text(version + "\n", encoding="utf-8")
            _fsync(pointer)
            os.replace(pointer, self.root / CURRENT)
            _fsync(self.root)
        except OSError as exc:
            raise IndexStoreError(f"cannot write to index store {self.root}: {exc}") from exc

    def list_versions(self) -> list[str]:
        """Every complete version's name, oldest first (by the build time that starts the
        name, then, within one second, by when the version's files were written)."""
        try:
            folders = [p for p in self.versions.iterdir()
                       if p.is_dir() and not p.name.startswith(".")]
            return [p.name for p in sorted(
                folders, key=lambda p: (p.name.split("-")[0], p.stat().st_mtime_ns))]
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise IndexStoreError(f"cannot list {self.versions}: {exc.strerror}") from exc

    def discard(self, version: str) -> None:
        """Remove a staged version that never became current (a refused build)."""
        if version == self.current_version():
            raise IndexStoreError(f"refusing to discard {version}: it is the current version")
        try:
            shutil.rmtree(self.versions / version)
        except OSError as exc:
            raise IndexStoreError(f"cannot remove {self.versions / version}: {exc}") from exc

    def prune(self, keep: int) -> list[str]:
        """Remove all but the ``keep`` newest versions, never the current one; return them.

        A running serve holds its version in memory, so removing the files of an older
        version does not disturb it; keep enough versions to roll back to.
        """
        current = self.current_version()
        names = self.list_versions()
        kept = set(names[-keep:]) if keep > 0 else set()
        removed = [name for name in names if name not in kept and name != current]
        for name in removed:
            try:
                shutil.rmtree(self.versions / name)
            except OSError as exc:
                raise IndexStoreError(f"cannot remove {self.versions / name}: {exc}") from exc
        return removed

    def queries(self, version: str) -> dict[str, tuple[CanonicalQuery, ...]]:
        """The canonical queries of ``version`` per locale, read from its catalog.json only."""
        path = self.versions / version / CATALOG
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return {locale: tuple(_query_from_json(q) for q in entry["queries"])
                    for locale, entry in data.items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexStoreError(f"cannot read the catalog of version {version} ({path}): "
                                  f"{type(exc).__name__}: {exc}") from exc

    @property
    def embedding_cache(self) -> Path:
        """The file of the store's embedding cache (see ``normalizer.embedding.cache``)."""
        return self.root / EMBEDDING_CACHE

    def _write_version(self, staging: Path, catalog: Catalog, vectors: Mapping[str, np.ndarray],
                       spec: EmbeddingSpec, calibration: dict[str, Any] | None,
                       built_at: datetime) -> dict[str, Any]:
        rows: dict[str, Any] = {}
        locales: dict[str, Any] = {}
        for locale, queries in catalog.locales.items():
            texts = [(qi, text) for qi, q in enumerate(queries) for text in q.texts]
            matrix = vectors[locale]
            if matrix.shape != (len(texts), spec.dimensions):
                raise IndexStoreError(
                    f"{locale}: {matrix.shape} vectors for {len(texts)} texts of "
                    f"{spec.dimensions} dimensions")
            VectorIndex.from_vectors(matrix).write(str(staging / f"{locale}.faiss"))
            rows[locale] = {
                "queries": [{"id": q.id, "text": q.text, "variants": list(q.variants),
                             "source": q.source} for q in queries],
                "rows": [[qi, text] for qi, text in texts],
                "slots": [{"name": d.name, "values": list(d.values), "source": d.source}
                          for d in catalog.slots.get(locale, ())],
            }
            locales[locale] = {"canonical_queries": len(queries), "indexed_texts": len(texts)}
        (staging / CATALOG).write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        return {
            "format_version": FORMAT_VERSION,
            "built_at": built_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "embedding": {"model": spec.model, "dimensions": spec.dimensions,
                          "text_format": spec.text_format},
            "locales": locales,
            "calibration": calibration,
        }

    def manifest(self, version: str) -> dict[str, Any]:
        """A version's manifest, unverified (for reading its calibration or spec)."""
        try:
            return dict(json.loads((self.versions / version / MANIFEST).read_text("utf-8")))
        except (OSError, ValueError) as exc:
            raise IndexStoreError(f"cannot read the manifest of version {version}: {exc}") from exc

    @staticmethod
    def _verified_manifest(folder: Path) -> dict[str, Any]:
        """The manifest of the version in ``folder``, once its own checksum holds."""
        path = folder / MANIFEST
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:   # not UTF-8, or not JSON: damaged
            raise IndexStoreError(f"{path}: not a readable manifest ({exc}); the version is "
                                  "corrupt, rebuild the index") from exc
        if not isinstance(manifest, dict) or "manifest_checksum" not in manifest:
            raise IndexStoreError(f"{path}: no manifest_checksum (damaged, or written by an "
                                  "older normalizer); rebuild the index")
        if manifest["manifest_checksum"] != _manifest_digest(manifest):
            raise IndexStoreError(f"{path}: checksum mismatch; the manifest was altered or "
                                  "damaged, rebuild the index")
        return manifest

    def load(self, version: str | None = None, device: str = "cpu") -> StoredIndex:
        """Load and verify ``version`` (default: the current one)."""
        version = version or self.current_version()
        if version is None:
            raise IndexStoreError(
                f"index store {self.root} has no current version; build one with "
                f"'normalizer index build --queries DIR --out {self.root}'")
        folder = self.versions / version
        try:
            manifest = self._verified_manifest(folder)
            if manifest.get("format_version") != FORMAT_VERSION:
                raise IndexStoreError(
                    f"{folder}: store format {manifest.get('format_version')!r} is not "
                    f"{FORMAT_VERSION}; rebuild the index with this version of normalizer")
            for name, digest in manifest["files"].items():
                if _sha256(folder / name) != digest:
                    raise IndexStoreError(f"{folder / name}: checksum mismatch; the version is "
                                          "corrupt, rebuild the index")
            catalog = json.loads((folder / CATALOG).read_text(encoding="utf-8"))
            spec = EmbeddingSpec.from_manifest(manifest["embedding"])
            locales = {}
            for locale, data in catalog.items():
                queries = tuple(_query_from_json(q) for q in data["queries"])
                vectors = VectorIndex.read(str(folder / f"{locale}.faiss"), device)
                if vectors.size != len(data["rows"]) or vectors.dimensions != spec.dimensions:
                    raise IndexStoreError(f"{folder}/{locale}.faiss does not match catalog.json")
                locales[locale] = LocaleData(
                    queries=queries,
                    row_query=np.array([r[0] for r in data["rows"]], dtype=np.int64),
                    row_text=tuple(r[1] for r in data["rows"]),
                    vectors=vectors,
                    slots=tuple(SlotDeclaration(d["name"], tuple(d["values"]), d["source"])
                                for d in data.get("slots", ())),
                )
            return StoredIndex(version=manifest["version"], built_at=manifest["built_at"],
                               embedding=spec, locales=locales,
                               calibration=manifest.get("calibration"))
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise IndexStoreError(f"cannot load index version {folder}: "
                                  f"{type(exc).__name__}: {exc}") from exc
