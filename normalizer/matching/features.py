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
- ``topic`` and ``foreign``: of the hypothesis's words (Chinese: syllables), weighted by
  how rare they are in the catalog (idf over canonical queries), the share that the
  query's own texts use, and the share that only other queries use: a paraphrase keeps
  its request's rare words (天气, 音量, thermostat) in other wording, an out-of-domain
  request shares only common ones, a request for another query says that query's;
- ``unconfirmed``: soft slot values of the query that the hypothesis does not say,
  ``by_sound``: the query's slot values it says only by sound, and ``confirmed``: the
  query's slot values it says at all, the positive evidence that a paraphrase in other
  words asks for the same thing (明儿冷不冷 says 明天 of 明天气温多少度) (guard.py);
- ``allowed``: 1 if the guard accepts the rewrite, else 0 (a blocked candidate is never
  chosen; as a feature it lets an allowed runner-up rise).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from normalizer.matching.confidence import Features
from normalizer.matching.guard import Verdict
from normalizer.matching.tokens import Kind, Token
from normalizer.matching.utterance import Utterance

__all__ = ["SoundFeatures", "Topics", "features", "oov", "sound_features"]


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
    words = [tok.surface for tok in _words(t)]
    return sum(w not in vocabulary for w in words) / len(words) if words else 0.0


class Topics:
    """Which canonical queries use each sound key, for ``topic`` and ``foreign``.

    Keys (folded sounds, so 天汽 counts as 天气), not surfaces; a key's weight is its smooth
    idf over the catalog's queries, log((1 + N) / (1 + df)) + 1, so a key no query uses
    weighs most."""

    def __init__(self, rows: Iterable[tuple[int, Utterance]]) -> None:
        keys_of: dict[int, set[str]] = {}
        for query, u in rows:
            keys_of.setdefault(query, set()).update(_keys(u))
        queries: dict[str, int] = {}
        for keys in keys_of.values():
            for k in keys:
                queries[k] = queries.get(k, 0) + 1
        n = len(keys_of)
        self._unknown = math.log(1 + n) + 1.0
        self._idf = {k: math.log((1 + n) / (1 + df)) + 1.0 for k, df in queries.items()}
        self._of_query = {q: frozenset(keys) for q, keys in keys_of.items()}

    def shares(self, u: Utterance, query: int) -> tuple[float, float]:
        """(topic, foreign) of ``u`` for ``query``; (0, 0) for an utterance of no words."""
        own = self._of_query.get(query, frozenset())
        total = mine = others = 0.0
        for k in _keys(u):
            weight = self._idf.get(k)
            if weight is None:
                total += self._unknown
                continue
            total += weight
            if k in own:
                mine += weight
            else:
                others += weight
        return (mine / total, others / total) if total else (0.0, 0.0)


def _keys(u: Utterance) -> list[str]:
    return [tok.key for tok in _words(u)]


def _words(u: Utterance) -> list[Token]:
    """The utterance's word tokens (Chinese: characters), not numbers or symbols."""
    return [tok for tok in u.tokens if tok.kind in (Kind.WORD, Kind.HAN)]


def features(dense: float, margin: float, agreement: float, verdict: Verdict | None,
             sound: SoundFeatures | None, unknown: float = 0.0,
             topics: tuple[float, float] = (0.0, 0.0)) -> Features:
    return Features(
        dense=dense, margin=margin, agreement=agreement, oov=unknown,
        topic=topics[0], foreign=topics[1],
        phonetic=sound.phonetic if sound else 0.0,
        cover=sound.cover if sound else 0.0,
        extra=sound.extra if sound else 0.0,
        unconfirmed=float(verdict.unconfirmed) if verdict else 0.0,
        by_sound=float(verdict.by_sound) if verdict else 0.0,
        confirmed=float(verdict.confirmed) if verdict else 0.0,
        allowed=0.0 if verdict is not None and not verdict.allowed else 1.0,
    )
