"""What is known about a candidate for a transcript: the inputs of the confidence model.

- ``dense``: best cosine similarity between a hypothesis and one of the query's texts;
- ``margin``: ``dense`` minus the best ``dense`` of any other canonical query;
- ``agreement``: share of the n-best's ASR score whose nearest query is this one;
- ``phonetic``: how alike the hypothesis and the matched text sound (the language's
  ``similarity``: folded pinyin syllables; English phonemes across word boundaries);
- ``cover``: share of the matched text's sound the hypothesis accounts for, and
  ``extra``: share of the hypothesis's sound the text does not account for - how much the
  *wording* differs, which never blocks a rewrite but makes it less certain;
- ``oov``: share of the hypothesis's words (Chinese: characters) that no catalog text of
  the locale holds: a city, person or item the catalog does not know, or wording it lacks;
- ``unconfirmed``: soft slot values of the query that the hypothesis does not say, and
  ``by_sound``: the query's slot values it says only by sound (guard.py);
- ``allowed``: 1 if the guard accepts the rewrite, else 0 (a blocked candidate is never
  chosen; as a feature it lets an allowed runner-up rise).
"""

from __future__ import annotations

from dataclasses import dataclass

from normalizer.matching.confidence import Features
from normalizer.matching.guard import Verdict
from normalizer.matching.tokens import Kind
from normalizer.matching.utterance import Utterance

__all__ = ["SoundFeatures", "features", "oov", "sound_features"]


@dataclass(frozen=True, slots=True)
class SoundFeatures:
    phonetic: float
    cover: float
    extra: float


def sound_features(t: Utterance, row: Utterance) -> SoundFeatures:
    language = t.language
    t_share, row_share = language.cover(t.sound, row.sound)
    return SoundFeatures(language.similarity(t.sound, row.sound), row_share, 1.0 - t_share)


def oov(t: Utterance, vocabulary: frozenset[str]) -> float:
    """Share of the utterance's words (not numbers) that are outside ``vocabulary``."""
    words = [tok.surface for tok in t.tokens if tok.kind in (Kind.WORD, Kind.HAN)]
    return sum(w not in vocabulary for w in words) / len(words) if words else 0.0


def features(dense: float, margin: float, agreement: float, verdict: Verdict | None,
             sound: SoundFeatures | None, unknown: float = 0.0) -> Features:
    return Features(
        dense=dense, margin=margin, agreement=agreement, oov=unknown,
        phonetic=sound.phonetic if sound else 0.0,
        cover=sound.cover if sound else 0.0,
        extra=sound.extra if sound else 0.0,
        unconfirmed=float(verdict.unconfirmed) if verdict else 0.0,
        by_sound=float(verdict.by_sound) if verdict else 0.0,
        allowed=0.0 if verdict is not None and not verdict.allowed else 1.0,
    )
