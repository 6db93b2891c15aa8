"""Chinese sound: toneless pinyin per character, folded by what ASR and accents confuse.

Each Han character gets its pinyin from pypinyin (``Style.NORMAL``, tones dropped,
phrase-aware heteronym pick on each Han run). The *key* is that syllable folded by the
confusions that ASR and regional accents produce: ``zh/ch/sh -> z/c/s``, ``n -> l``,
``r -> l`` and the nasal codas ``-ng -> -n`` (an/ang, en/eng, in/ing, ian/iang, uan/uang;
``ong`` has no ``-n`` partner and stays). Two syllables with the same key are one confusion
class (``deng``/``deng``, ``shu``/``su``, ``nan``/``lan``). The f/h confusion (``hu``/``fu``,
``hui``/``fei``) is *near* (distance 0.3) but not folded: it separates real places
(湖州/福州, 黄山/房山), and a wrong rewrite is worse than no rewrite.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from rapidfuzz.distance import Levenshtein

__all__ = ["fold_syllable", "pinyin_run", "syllable_distance"]

_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h",
             "j", "q", "x", "r", "z", "c", "s", "y", "w")
# Syllabic nasals (嗯 ng, 呣 m): no initial to split off.
_NASAL_INTERJECTIONS = frozenset(("m", "n", "ng", "hm", "hng"))
# Initial confusion classes: retroflex/dental, n/l, r/l.
_INITIAL_FOLD = {"zh": "z", "ch": "c", "sh": "s", "n": "l", "r": "l"}
# Finals whose -ng is kept: they have no -n partner.
_KEEP_NG = ("ong", "iong")
# f/h: "hu"+X sounds like "f"+Y for these finals (hu/fu, hui/fei, hun/fen, huo/fo ...).
_HU_AS_F = {"u": "u", "ui": "ei", "un": "en", "uo": "o"}


@lru_cache(maxsize=8192)
def _split_syllable(syllable: str) -> tuple[str, str]:
    if syllable in _NASAL_INTERJECTIONS:
        return "", syllable
    for initial in _INITIALS:
        if syllable.startswith(initial) and len(syllable) > len(initial):
            return initial, syllable[len(initial):]
    return "", syllable


@lru_cache(maxsize=8192)
def _fold_parts(syllable: str) -> tuple[str, str]:
    initial, final = _split_syllable(syllable)
    initial = _INITIAL_FOLD.get(initial, initial)
    if final.endswith("ng") and final not in _KEEP_NG and len(final) > 2:
        final = final[:-1]
    return initial, final


@lru_cache(maxsize=8192)
def fold_syllable(syllable: str) -> str:
    """Toneless pinyin -> confusion-class key: ``zhang`` -> ``zan``, ``neng`` -> ``len``."""
    initial, final = _fold_parts(syllable)
    return initial + final


def _f_form(initial: str, final: str) -> tuple[str, str] | None:
    """``h`` + ``u``-final written as the ``f`` syllable it is confused with, else None."""
    if initial == "h" and final.startswith("u"):
        return "f", _HU_AS_F.get(final, final[1:])
    if initial == "f":
        return "f", final
    return None


@lru_cache(maxsize=65536)
def syllable_distance(a: str, b: str) -> float:
    """Distance in [0, 1] between two toneless pinyin syllables.

    0 same pinyin; 0.1 same confusion class; 0.3 the f/h accent pair; otherwise 0.5 for a
    different initial plus up to 0.5 for the edit distance between the finals.
    """
    if a == b:
        return 0.0
    ia, fa = _fold_parts(a)
    ib, fb = _fold_parts(b)
    if ia == ib and fa == fb:
        return 0.1
    if ia != ib:
        pa, pb = _f_form(ia, fa), _f_form(ib, fb)
        if pa is not None and pb is not None and pa == pb:
            return 0.3
    d = 0.0 if ia == ib else 0.5
    if fa != fb:
        d += 0.5 * Levenshtein.distance(fa, fb) / max(len(fa), len(fb))
    return min(d, 1.0)


@lru_cache(maxsize=16384)
def pinyin_run(run: str) -> tuple[str, ...]:
    """Toneless pinyin of each character of a run of Han characters."""
    syllables = lazy_pinyin(run, style=Style.NORMAL, errors="default")
    if len(syllables) == len(run):
        return tuple(syllables)
    # pypinyin groups characters it cannot read; fall back to one call per character.
    return tuple(
        "".join(lazy_pinyin(ch, style=Style.NORMAL, errors="default")) or ch for ch in run
    )
