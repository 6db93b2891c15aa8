"""Self-calibration: fit the confidence model of an index from its catalog alone.

Composes the layers below it - the index (vectors and catalog), matching (the matcher,
slot roles, the confidence fit) and the synthesised cases (synthesis.py) - so neither
``index`` nor ``matching`` needs to know of the other. ``index build`` calls
``self_calibrate`` when no calibration fits the embedder: not one carried over from the
current version, not one shipped with the package, not one fitted on labelled cases.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from prometheus_client import CollectorRegistry

from normalizer.embedding import Embedder
from normalizer.index.store import StoredIndex
from normalizer.matching.answer import MatchRequest
from normalizer.matching.calibration import collect_examples, fit_locale
from normalizer.matching.confidence import FEATURES
from normalizer.matching.matcher import Matcher, ServedIndex
from normalizer.metrics import Metrics
from normalizer.selfcal.synthesis import synthesize

__all__ = ["self_calibrate"]

# A build is not on a request path: the embedder may take its time per batch.
BUILD_EMBED_TIMEOUT = 120.0


async def self_calibrate(stored: StoredIndex, embedder: Embedder, max_wrong_rate: float,
                         top_k: int = 10) -> dict[str, Any]:
    """The ``calibration`` block for ``stored``, fitted on cases synthesised from its
    catalog (``source: "self"``), with what each locale was fitted on."""
    started = time.perf_counter()
    index = ServedIndex.from_stored(stored)
    locales: dict[str, Any] = {}
    for locale, view in index.locales.items():
        matcher = Matcher(embedder, Metrics(CollectorRegistry()), default_locale=locale,
                          top_k=top_k, min_confidence=None,
                          embedder_timeout=BUILD_EMBED_TIMEOUT)
        matcher.set_index(index)
        cases = synthesize(locale, view.data.queries, view.prepared,
                           [int(q) for q in view.data.row_query], view.slots)
        examples = await collect_examples(
            matcher, [MatchRequest(c.transcript, locale) for c in cases],
            [c.expected_id for c in cases], [locale] * len(cases),
            hidden=[c.hidden for c in cases])
        model, figures = fit_locale(examples.get(locale, []), max_wrong_rate)
        locales[locale] = {"weights": dict(model.weights), "bias": model.bias,
                           "threshold": model.threshold,
                           "dev": {**figures, "synthesised": dict(Counter(c.kind for c in cases))}}
    return {
        "method": "logistic",
        "source": "self",
        "features": list(FEATURES),
        "max_wrong_rate": max_wrong_rate,
        "fitted_on": ["cases synthesised from the catalog (normalizer.selfcal)"],
        "fitted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
        "locales": locales,
    }
