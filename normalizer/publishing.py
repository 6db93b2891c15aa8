"""``index build`` end to end: what changed, incremental embedding, the gate, publish, prune.

1. The new catalog is compared with the current version's: queries added, removed and
   changed per locale.
2. Every text is embedded through the store's embedding cache, so only new or changed
   texts reach the embedder (which the caller made patient: own timeout, retries).
3. The version is staged, complete but not current, with the calibration that fits its
   embedding (``choose_calibration``): one fitted on labelled cases and carried over from
   the current version, else the one shipped for the model, else - unless switched off -
   one fitted on cases synthesised from the catalog itself (``normalizer.selfcal``).
4. With gate cases, the staged version and the current one answer them in-process; if
   the candidate is worse beyond the tolerances it is discarded - ``CURRENT`` and the
   versions are as they were - and ``GateRefused`` is raised.
5. Otherwise it becomes current, versions beyond ``keep_versions`` are removed (never
   the current one), and cache entries no kept version used are dropped.

Only one build should run against a store at a time (a Kubernetes Job with
``concurrencyPolicy: Forbid``, a systemd oneshot).

This module composes the layers below it (catalog, embedding, index, matching,
evaluation); none of them knows about it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from normalizer.catalog import Catalog, LocaleChanges, diff_catalog
from normalizer.config import Settings
from normalizer.embedding import Embedder
from normalizer.embedding.cache import SqliteVectorCache
from normalizer.errors import IndexStoreError, NormalizerError
from normalizer.index.build import build_version, carried_calibration
from normalizer.index.store import EmbeddingSpec, IndexStore, StoredIndex
from normalizer.matching.confidence import calibration_source, shipped_calibration

if TYPE_CHECKING:   # the gate imports all of matching: only builds with --gate-cases pay
    from normalizer.evaluation import Case
    from normalizer.gate import GateResult

__all__ = ["GateRefused", "Publication", "build_index", "choose_calibration",
           "publish_catalog"]

logger = logging.getLogger(__name__)

SHOWN_IDS = 20


@dataclass
class Publication:
    """What one ``index build`` did."""

    version: str
    published: bool
    previous: str | None
    changes: dict[str, LocaleChanges] | None     # None: nothing to compare with
    embedded: int
    reused: int
    gate: GateResult | None = None
    pruned: list[str] = field(default_factory=list)
    cache_pruned: int = 0
    calibration: str = "none"      # labelled, shipped, self, none (calibration_source)
    calibration_detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version, "published": self.published, "previous": self.previous,
            "changes": None if self.changes is None else {
                loc: {"added": list(c.added), "removed": list(c.removed),
                      "changed": list(c.changed)} for loc, c in self.changes.items()},
            "embedded": self.embedded, "reused": self.reused,
            "gate": None if self.gate is None else self.gate.as_dict(),
            "pruned": self.pruned,
            "calibration": self.calibration,
        }

    def format(self) -> str:
        """What an operator reads on stderr."""
        lines = []
        if self.changes is None:
            lines.append("changes: no previous version to compare with")
        else:
            lines.append(f"changes against {self.previous}: " + "; ".join(
                f"{loc}: {c.summary()}" for loc, c in self.changes.items()))
            for loc, c in self.changes.items():
                for kind in ("added", "removed", "changed"):
                    ids = getattr(c, kind)
                    if ids:
                        shown = ", ".join(ids[:SHOWN_IDS])
                        more = f" ... and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS \
                            else ""
                        lines.append(f"  {loc} {kind}: {shown}{more}")
        lines.append(f"embedded {self.embedded} text(s), reused {self.reused} from the "
                     "embedding cache")
        lines.append(f"calibration: {self.calibration}"
                     + (f" ({self.calibration_detail})" if self.calibration_detail else ""))
        if self.gate is not None:
            lines.append(self.gate.format())
        if self.published:
            lines.append(f"published {self.version}" + (
                f"; removed old versions {', '.join(self.pruned)}" if self.pruned else ""))
        else:
            lines.append(f"not published: {self.version} discarded, the store is unchanged")
        return "\n".join(lines)


class GateRefused(NormalizerError):
    """The gate found the candidate worse than the current version; nothing was published."""

    def __init__(self, publication: Publication) -> None:
        self.publication = publication
        assert publication.gate is not None
        super().__init__("; ".join(publication.gate.problems))


def _built_at(store: IndexStore, version: str) -> float:
    """When ``version`` was built, as a ``time.time()`` value (0 if its manifest is broken)."""
    try:
        stamp = str(store.manifest(version)["built_at"]).replace("Z", "+00:00")
        return datetime.fromisoformat(stamp).timestamp()
    except (IndexStoreError, KeyError, ValueError):
        return 0.0


def _changes(store: IndexStore, current: str | None, catalog: Catalog
             ) -> dict[str, LocaleChanges] | None:
    if current is None:
        return None
    try:
        return diff_catalog(store.queries(current), catalog)
    except IndexStoreError as exc:
        logger.warning("cannot say what changed: %s", exc)
        return None


async def _run_gate(store: IndexStore, candidate: str, current: str | None,
                    embedder: Embedder, settings: Settings, cases: Sequence[Case]
                    ) -> GateResult:
    from normalizer.embedding.cache import CachingEmbedder, MemoryVectorCache
    from normalizer.gate import Tolerances, judge, replay_version

    tolerances = Tolerances(settings.gate_max_wrong_increase, settings.gate_max_correct_drop)
    staged = store.load(candidate, device=settings.device)
    baseline: StoredIndex | None = None
    note = ""
    if current is None:
        note = "no current version to compare with; publishing on the candidate's figures"
    else:
        try:
            baseline = store.load(current, device=settings.device)
        except IndexStoreError as exc:
            note = f"the current version cannot be loaded ({exc}); nothing to compare with"
        if baseline is not None and baseline.embedding != staged.embedding:
            note = ("the current version was built with another embedding "
                    f"({baseline.embedding.model}, {baseline.embedding.dimensions} dimensions, "
                    f"{baseline.embedding.text_format['name']}); nothing to compare with")
            baseline = None
    # Both replays send the same transcripts: embed them once.
    queries = CachingEmbedder(embedder, MemoryVectorCache(), settings.embedder_dimensions)
    after = await replay_version(staged, queries, settings, cases)
    if baseline is None:
        return judge(candidate, after, tolerances, note=note)
    before = await replay_version(baseline, queries, settings, cases)
    return judge(candidate, after, tolerances, current, before, note)


def choose_calibration(store: IndexStore, spec: EmbeddingSpec) -> dict[str, Any] | None:
    """The calibration a new version with this embedding gets before self-calibration: the
    current version's, if fitted on labelled cases for the same embedding (it does not
    depend on which queries the catalog holds); else the package's for this model."""
    carried = carried_calibration(store, spec)
    if carried is not None and calibration_source(carried) == "labelled":
        logger.info("carrying over the labelled calibration of the current version")
        return carried
    shipped = shipped_calibration(spec.model, spec.dimensions, spec.text_format["name"])
    if shipped is not None:
        logger.info("using the calibration shipped for %s", spec.model)
    return shipped


async def build_index(catalog: Catalog, embedder: Embedder, store: IndexStore, *,
                      batch_size: int = 64, progress: bool = True) -> str:
    """Embed ``catalog`` and publish it with ``choose_calibration``'s calibration (no
    cache, no gate, no self-calibration): the short path tests and scripts use."""
    built = await build_version(catalog, embedder, store, batch_size=batch_size,
                                progress=progress,
                                calibration=lambda spec: choose_calibration(store, spec))
    return built.version


async def _self_calibrated(store: IndexStore, version: str, embedder: Embedder,
                           settings: Settings) -> tuple[str, str]:
    """The staged ``version`` again, calibrated on its own catalog (the uncalibrated copy
    is discarded); and what the fit used."""
    from normalizer.selfcal import self_calibrate

    stored = store.load(version, device=settings.device)
    calibration = await self_calibrate(stored, embedder, settings.max_wrong_rate,
                                       top_k=settings.top_k)
    calibrated = store.recalibrate(version, calibration, make_current=False)
    store.discard(version)
    detail = "; ".join(
        f"{loc}: threshold {c['threshold']:.3f}, "
        + ", ".join(f"{n} {k}" for k, n in c["dev"]["synthesised"].items())
        for loc, c in calibration["locales"].items())
    return calibrated, f"fitted on synthesised cases in {calibration['seconds']} s; {detail}"


CALIBRATION_CHOICES = ("auto", "self", "none")


async def publish_catalog(catalog: Catalog, embedder: Embedder, store: IndexStore,
                          settings: Settings, *, gate_cases: Sequence[Case] = (),
                          progress: bool = True, calibration: str = "auto") -> Publication:
    """Build ``catalog`` into ``store`` and publish it unless the gate refuses it.

    ``calibration``: ``auto`` takes ``choose_calibration``'s, else self-calibrates (if the
    settings allow); ``self`` self-calibrates even when another fits, ``none`` publishes with
    no calibration at all (both to compare, for ablations)."""
    if calibration not in CALIBRATION_CHOICES:
        raise ValueError(f"calibration {calibration!r}: one of {', '.join(CALIBRATION_CHOICES)}")
    current = store.current_version()
    existing = set(store.list_versions())
    changes = _changes(store, current, catalog)
    cache = SqliteVectorCache(store.embedding_cache)
    try:
        built = await build_version(
            catalog, embedder, store, batch_size=settings.build_batch_size, progress=progress,
            calibration=((lambda spec: choose_calibration(store, spec))
                         if calibration == "auto" else None),
            cache=cache, dimensions=settings.embedder_dimensions, make_current=False)
        version = built.version
        source = calibration_source(store.manifest(version).get("calibration"))
        detail = ""
        if calibration == "self" or (calibration == "auto" and source == "none"
                                     and settings.self_calibration):
            try:
                version, detail = await _self_calibrated(store, version, embedder, settings)
            except BaseException:
                if version not in existing:
                    store.discard(version)
                raise
            source = "self"
        publication = Publication(version, False, current, changes, built.embedded,
                                  built.reused, calibration=source, calibration_detail=detail)
        if gate_cases:
            try:
                publication.gate = await _run_gate(store, version, current, embedder,
                                                   settings, gate_cases)
            except BaseException:
                if version not in existing:
                    store.discard(version)
                raise
            if not publication.gate.passed:
                if version not in existing:
                    store.discard(version)
                raise GateRefused(publication)
        store.make_current(version)
        publication.published = True
        cache.mark_used(time.time(), version)
        publication.pruned = store.prune(settings.keep_versions)
        # Every published build restamps the entries it used: entries stamped before the
        # earliest kept version was published belong to pruned versions only (or to
        # refused builds older than every kept version). Versions the cache did not see
        # published (older stores, calibrate) count from their build time, which is
        # earlier: that keeps more, never less.
        kept = store.list_versions()
        published = cache.published_at(kept)
        publication.cache_pruned = cache.prune(
            min(published.get(v, _built_at(store, v)) for v in kept), kept)
        return publication
    finally:
        cache.close()
