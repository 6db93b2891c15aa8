"""Confidence: the probability that rewriting a transcript to a candidate is right.

A logistic model over the candidate's features maps them to [0, 1]. Its weights and
each locale's threshold are fitted on labelled cases by ``normalizer calibrate`` and
stored in the index version, so a confidence of 0.9 means the same thing whichever
version is served. An index without calibration uses ``UNCALIBRATED``: a steep
logistic on the cosine similarity alone, placed so that 0.5 falls at a cosine of
0.92, where multilingual-e5-small separates paraphrases from other requests on our
development cases; calibrate every index you serve in production.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

__all__ = ["FEATURES", "ConfidenceModel", "Features", "LocaleCalibration", "calibration_source",
           "shipped_calibration"]


@dataclass(frozen=True)
class Features:
    """What is known about a candidate for a transcript (features.py says how each is made)."""

    dense: float
    margin: float
    phonetic: float = 0.0
    agreement: float = 1.0
    cover: float = 0.0
    extra: float = 0.0
    oov: float = 0.0
    topic: float = 0.0
    foreign: float = 0.0
    unconfirmed: float = 0.0
    by_sound: float = 0.0
    confirmed: float = 0.0
    allowed: float = 1.0

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)      # dataclasses.asdict deep-copies: 10x slower


FEATURES = tuple(Features.__dataclass_fields__)


@dataclass(frozen=True)
class LocaleCalibration:
    """Logistic weights per feature, bias, and the threshold picked for this locale."""

    weights: Mapping[str, float]
    bias: float
    threshold: float

    def score(self, features: Mapping[str, float]) -> float:
        z = self.bias + sum(w * features.get(name, 0.0) for name, w in self.weights.items())
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        ez = math.exp(z)
        return ez / (1.0 + ez)


UNCALIBRATED = LocaleCalibration(weights={"dense": 40.0}, bias=-36.8, threshold=0.5)


@dataclass(frozen=True)
class ConfidenceModel:
    """Per-locale calibrations, with ``UNCALIBRATED`` for locales that have none."""

    locales: Mapping[str, LocaleCalibration] = field(default_factory=dict)

    @classmethod
    def from_calibration(cls, calibration: Mapping[str, Any] | None) -> ConfidenceModel:
        """Read the ``calibration`` block of an index manifest (None: uncalibrated)."""
        if not calibration:
            return cls()
        return cls({
            locale: LocaleCalibration(dict(c["weights"]), float(c["bias"]),
                                      float(c["threshold"]))
            for locale, c in calibration.get("locales", {}).items()
        })

    def for_locale(self, locale: str) -> LocaleCalibration:
        return self.locales.get(locale, UNCALIBRATED)

    def score(self, locale: str, features: Features) -> float:
        return self.for_locale(locale).score(features.as_dict())

    def threshold(self, locale: str) -> float:
        return self.for_locale(locale).threshold


def calibration_source(calibration: Mapping[str, Any] | None) -> str:
    """Where an index's calibration came from: ``labelled`` (``normalizer calibrate``),
    ``shipped`` (with the package), ``self`` (synthesised from the catalog) or ``none``."""
    if not calibration:
        return "none"
    return str(calibration.get("source") or "labelled")


SHIPPED = "shipped_calibration.json"


def shipped_key(model: str, dimensions: int, text_format: str) -> str:
    return f"{model}|{dimensions}|{text_format}"


def shipped_calibration(model: str, dimensions: int, text_format: str) -> dict[str, Any] | None:
    """The calibration shipped with the package for this embedding, if there is one.

    The embedded default model comes calibrated on the development split of
    ``tests/data`` (``scripts/fit_shipped_calibration.py`` refits it), so that an index
    built with it is calibrated from its first version on.
    """
    text = resources.files("normalizer.matching").joinpath(SHIPPED).read_text("utf-8")
    found = json.loads(text).get(shipped_key(model, dimensions, text_format))
    return dict(found) if found else None
