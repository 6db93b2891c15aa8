"""Phonetic representation of transcripts: tokens, sound keys, and what counts as one sound.

The guard must tell an ASR error (same sound, broken meaning) from a different request
(same form, different content). This module turns a text into tokens that carry a *raw*
sound form and a *folded* key, and defines how far apart two sounds are.

Tokenisation (one tokenizer for every locale, after Unicode NFKC and lower-casing):

* each Han character is one token (one syllable), kind ``HAN``;
* a run of Latin (or other non-Han) letters is one word, kind ``WORD``;
  apostrophes inside a word are kept ("o'clock"), unambiguous English contractions are
  spelled out ("what's"/"whats" -> "what is", "don't" -> "do not");
* a run of digits (with inner ``.``, ``:`` or ``,``) is one token, kind ``DIGITS``;
  ``%`` is a ``SYMBOL`` token; every other character separates tokens.

Chinese (``zh-*``). Each Han character gets its pinyin from pypinyin (``Style.NORMAL``,
tones dropped, phrase-aware heteronym pick of pypinyin on each Han run). The *key* is that
syllable folded by the confusions that ASR and regional accents produce: ``zh/ch/sh ->
z/c/s``, ``n -> l``, ``r -> l`` and the nasal codas ``-ng -> -n`` (an/ang, en/eng,
in/ing, ian/iang, uan/uang; ``ong`` has no ``-n`` partner and stays). Two syllables with
the same key are one confusion class (``deng``/``deng``, ``shu``/``su``, ``nan``/``lan``).
The f/h confusion (``hu``/``fu``, ``hui``/``fei``, ``huang``/``fang``) is scored as *near*
(distance 0.3) but not folded: it separates real places (湖州/福州, 黄山/房山), and a wrong
rewrite is worse than no rewrite. Digits inside Chinese text are read as Chinese digits
(``6`` -> ``liu``); Latin words inside Chinese text get the English key.

English (``en-*``). Metaphone (jellyfish) was the obvious choice, but it keeps only the
consonant skeleton, so ``fan``/``phone``, ``dan``/``don``, ``light``/``lot``,
``kitchen``/``cushion`` all collide, and these are exactly the slot values the guard must
keep apart. The key here is Metaphone-like for consonants (``ph -> F``, ``th -> 0``,
``sh/ch/tch/tio -> X``, ``ck/q/c -> K``, soft ``c -> S``, ``d -> T``, ``v -> F``,
``z -> S``, ``x -> KS``, silent ``kn/wr/gn/mb/gh``, doubled letters once, a silent final
``e``, ``-ng -> N``) but keeps one *vowel class* per vowel group, named by the group's
first letter (``ea``/``ee``/``e`` -> ``e``, ``ou``/``oo``/``o`` -> ``o``, ``igh``/``y``/
``i`` -> ``i``, a few digraphs mapped by sound). So ``weather``/``wether`` -> ``We0eR``,
``of``/``off`` -> ``oF``, ``lights``/``lites`` -> ``LiTS``, while ``fan``/``fun``/
``phone`` and ``dan``/``don`` differ. Words split or merged by the recogniser
(``bed room``/``bedroom``, ``to day``/``today``, ``four cast``/``forecast``) are compared
on the concatenation of their keys (the aligner offers 1-2 and 2-1 word alignments).

Other locales get a conservative fallback: case-folded words compared exactly
(kind ``EXACT``), digits as ``DIGITS``.

``similarity`` of two texts is ``1 - levenshtein / max length`` over the concatenated
keys (jellyfish's native Levenshtein), so it is insensitive to word boundaries. (The guard
computes the same measure on its prepared tokens, where numbers are keyed by their value
read aloud, so ``6``/``six`` also sound the same there.)
Per-token keys and per-pair distances are cached (``functools.lru_cache``).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import jellyfish
from pypinyin import Style, lazy_pinyin

__all__ = [
    "ZH_DIGIT_CHARS",
    "Kind",
    "Lang",
    "Token",
    "confusion_cost",
    "consonant_skeleton",
    "english_confusable",
    "english_key",
    "fold_syllable",
    "group_sound",
    "join_surfaces",
    "language",
    "mergeable",
    "phonetic_string",
    "similarity",
    "sound_confusable",
    "sound_distance",
    "sound_key",
    "string_similarity",
    "syllable_distance",
    "token_distance",
    "tokenize",
    "tokens_confusable",
    "tokens_distance",
    "vowel_variant",
]

Lang = Literal["zh", "en", "other"]

# Chinese reading of the ten digits; numbers.py derives digit values from the index.
ZH_DIGIT_CHARS = "零一二三四五六七八九"


class Kind(enum.IntEnum):
    HAN = 1       # one Han character, one syllable
    WORD = 2      # a word of letters (English, or Latin inside Chinese)
    DIGITS = 3    # a run of digits, before numbers.py turns it into NUM
    SYMBOL = 4    # "%"
    EXACT = 5     # fallback locales: a case-folded word compared exactly
    NUM = 6       # a number (numbers.py): raw is the canonical value


@dataclass(frozen=True, slots=True)
class Token:
    surface: str   # the text of the token (NFKC, lower-cased)
    kind: Kind
    raw: str       # unfolded sound: pinyin syllable, lower-case word, or number value
    key: str       # folded sound key (confusion classes merged)


def language(locale: str) -> Lang:
    """``"zh-CN"`` -> ``"zh"``, ``"en_US"`` -> ``"en"``, anything else -> ``"other"``."""
    prefix = locale.strip().lower()[:2]
    if prefix == "zh":
        return "zh"
    if prefix == "en":
        return "en"
    return "other"


# ---------------------------------------------------------------------------------------
# Chinese syllables

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

_HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3007"
_TOKEN_RE = re.compile(
    rf"(?P<han>[{_HAN_CLASS}])"
    r"|(?P<digits>\d+(?:[.:,]\d+)*)"
    rf"|(?P<word>[^\W\d_{_HAN_CLASS}]+(?:'[^\W\d_{_HAN_CLASS}]+)*)"
    r"|(?P<symbol>%)"
)
# Contractions spelled out, so that "what's" and "what is" are the same words. Only
# unambiguous ones: "john's" (is / possessive) stays one word.
_EN_CONTRACTIONS: dict[str, tuple[str, ...]] = {
    word: tuple(expansion.split()) for word, expansion in {
        "what's": "what is", "that's": "that is", "it's": "it is", "there's": "there is",
        "here's": "here is", "who's": "who is", "where's": "where is", "how's": "how is",
        "when's": "when is", "let's": "let us", "i'm": "i am", "you're": "you are",
        "we're": "we are", "they're": "they are", "i'll": "i will", "you'll": "you will",
        "we'll": "we will", "i've": "i have", "you've": "you have", "we've": "we have",
        "i'd": "i would", "don't": "do not", "doesn't": "does not", "didn't": "did not",
        "can't": "can not", "cannot": "can not", "won't": "will not", "isn't": "is not",
        "aren't": "are not", "wasn't": "was not", "weren't": "were not",
        "shouldn't": "should not", "wouldn't": "would not", "couldn't": "could not",
    }.items()
}
# Recognisers often drop the apostrophe; these spellings are not words of their own
# ("its", "lets", "cant", "wont" are, and stay).
_EN_CONTRACTIONS.update({
    word.replace("'", ""): expansion for word, expansion in _EN_CONTRACTIONS.items()
    if word.replace("'", "") not in ("its", "lets", "cant", "wont", "id", "ill", "well", "were")
})
_EXACT_RE = re.compile(r"(?P<digits>\d+(?:[.:,]\d+)*)|(?P<word>[^\W\d_]+)|(?P<symbol>%)")
_MERIDIEM_DOTS = re.compile(r"\b([ap])\.\s?m\.?(?=\W|$)")


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
        d += 0.5 * jellyfish.levenshtein_distance(fa, fb) / max(len(fa), len(fb))
    return min(d, 1.0)


@lru_cache(maxsize=16384)
def _pinyin_run(run: str) -> tuple[str, ...]:
    syllables = lazy_pinyin(run, style=Style.NORMAL, errors="default")
    if len(syllables) == len(run):
        return tuple(syllables)
    # pypinyin groups characters it cannot read; fall back to one call per character.
    return tuple(
        "".join(lazy_pinyin(ch, style=Style.NORMAL, errors="default")) or ch for ch in run
    )


# ---------------------------------------------------------------------------------------
# English words

_VOWELS = frozenset("aeiou")
_FRONT = frozenset("eiy")
# Vowel groups whose sound is not named by their first letter.
_VOWEL_GROUP_CLASS = {"uy": "i", "ye": "i", "eye": "i", "eigh": "a", "ey": "e"}
_VOWEL_CLASS = {"a": "a", "e": "e", "i": "i", "y": "i", "o": "o", "u": "u"}
_SILENT_INITIALS = (("kn", "n"), ("gn", "n"), ("pn", "n"), ("wr", "r"), ("ps", "s"),
                    ("wh", "w"))
_SIMPLE_CONSONANTS = {"b": "B", "f": "F", "j": "J", "k": "K", "l": "L", "m": "M",
                      "n": "N", "p": "P", "r": "R", "s": "S", "t": "T", "v": "F",
                      "z": "S", "d": "T"}


def _vowel_at(w: str, i: int) -> bool:
    ch = w[i]
    if ch in _VOWELS:
        return True
    if ch == "y":
        # "y" is a consonant before a vowel ("yes", "beyond"), a vowel elsewhere ("my").
        return not (i + 1 < len(w) and w[i + 1] in _VOWELS)
    return False


def _strip_letters(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if "a" <= ch <= "z")


@lru_cache(maxsize=65536)
def english_key(word: str) -> str:
    """English word -> sound key: consonant codes in upper case, vowel classes in lower case.

    ``weather`` -> ``We0eR``, ``wether`` -> ``We0eR``, ``off``/``of`` -> ``oF``,
    ``phone`` -> ``FoN``, ``fan`` -> ``FaN``.
    """
    w = _strip_letters(word)
    if not w:
        return word
    for prefix, replacement in _SILENT_INITIALS:
        if w.startswith(prefix) and len(w) > 2:
            w = replacement + w[2:]
            break
    if w[0] == "x":
        w = "s" + w[1:]
    if len(w) > 3 and w.endswith("es") and w[-3] not in _VOWELS and w[-3] not in "sxzhcgy":
        w = w[:-2] + "s"            # lites -> lits, times -> tims; boxes keeps its vowel
    elif len(w) > 2 and w.endswith("e") and w[-2] not in _VOWELS:
        w = w[:-1]                  # silent final e: there -> ther, one -> on
    if w.endswith("mb") and len(w) > 2:
        w = w[:-1]
    out: list[str] = []
    n = len(w)
    i = 0
    while i < n:
        if _vowel_at(w, i):
            j = i + 1
            while j < n:
                if _vowel_at(w, j):
                    j += 1
                elif w[j] == "w" and not (j + 1 < n and w[j + 1] in _VOWELS):
                    j += 1                       # aw, ew, ow
                elif w.startswith("gh", j) and not (j + 2 < n and w[j + 2] in _VOWELS):
                    j += 2                       # igh, ough, augh: silent gh
                else:
                    break
            group = w[i:j]
            out.append(_VOWEL_GROUP_CLASS.get(group) or _VOWEL_CLASS[group[0]])
            i = j
            continue
        ch = w[i]
        nxt = w[i + 1] if i + 1 < n else ""
        step = 1
        code: str
        if w.startswith("sch", i):
            code, step = "SK", 3
        elif w.startswith("tch", i):
            code, step = "X", 3
        elif ch == "c" and nxt == "h":
            code, step = ("K" if w.startswith("chr", i) else "X"), 2
        elif ch == "s" and nxt == "h":
            code, step = "X", 2
        elif ch == "p" and nxt == "h":
            code, step = "F", 2
        elif ch == "t" and nxt == "h":
            code, step = "0", 2
        elif ch in "ts" and nxt == "i" and i + 2 < n and w[i + 2] in "ao":
            code, step = "X", 2                  # nation, asia
        elif ch == "c":
            if nxt == "k":
                code, step = "K", 2
            else:
                code = "S" if nxt in _FRONT else "K"
        elif ch == "d" and nxt == "g" and i + 2 < n and w[i + 2] in _FRONT:
            code, step = "J", 2
        elif ch == "g":
            if nxt == "h":
                code, step = "K", 2              # initial or pre-vowel gh: ghost
            elif nxt == "n" and (i + 2 >= n or w[i + 2] not in _VOWELS):
                code = ""                        # sign, foreign
            elif i and w[i - 1] == "n" and (nxt in ("", "s", "z") or w.startswith("ing", i + 1)):
                code = ""                        # -ng -> N: turning ~ turnin
            elif nxt in _FRONT:
                code = "J"
            else:
                code = "K"
        elif ch == "h":
            prev_vowel = i == 0 or _vowel_at(w, i - 1)
            code = "H" if prev_vowel and nxt and nxt in _VOWELS else ""
        elif ch == "q":
            code = "K"
            if nxt == "u":
                code, step = "KW", 2
        elif ch == "x":
            code = "KS"
        elif ch == "w" or ch == "y":
            code = ch.upper() if nxt in _VOWELS else ""
        else:
            code = _SIMPLE_CONSONANTS.get(ch, "")
        if code and not (out and out[-1] == code):
            out.append(code)
        i += step
    return "".join(out)


@lru_cache(maxsize=65536)
def english_confusable(a: str, b: str) -> bool:
    """True if two English sound keys are one sound for a recogniser.

    Equal keys; keys equal once a plural ``S`` is dropped (``LiT``/``LiTS``); or, for keys
    of 6+ symbols, one vowel-class edit with the consonants unchanged (``FoRKaST``/
    ``FoReKaST``). A consonant change is never confusable: ``jason``/``mason``,
    ``kitchen``/``kitten`` differ.
    """
    if a == b:
        return True
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    if long_ == short + "S" and len(short) >= 3:
        return True
    if max(len(a), len(b)) >= 6 and jellyfish.levenshtein_distance(a, b) == 1:
        return _consonants(a) == _consonants(b)
    return False


def _consonants(key: str) -> str:
    return "".join(ch for ch in key if not ch.islower())


@lru_cache(maxsize=65536)
def consonant_skeleton(key: str) -> str:
    """The consonant codes of an English sound key: ``MeLK`` -> ``MLK``, ``Mi`` -> ``M``."""
    return _consonants(key)


def vowel_variant(a: str, b: str) -> bool:
    """Two English sound keys that differ only in vowel classes, position by position:
    ``MeLK``/``MiLK``, ``TeRN``/``TuRN`` (and ``TaN``/``ToN``: the caller decides when that
    is an ASR confusion and not another name)."""
    if len(a) != len(b) or a == b:
        return a == b
    for x, y in zip(a, b, strict=True):
        if x != y and not (x.islower() and y.islower()):
            return False
    return True


# Weighted edit costs between English sound keys for ``confusion_cost``: what a recogniser
# confuses cheaply. Vowel classes blur (sit/set, cole/call); consonants confuse within a
# manner class - nasals (term/turn, hone/home), liquids (pray/play), stops (likes/lights,
# stock/stop), th/t and th/f (thyme/time), sibilants (magic/music); h, w and y come and go
# (our/hour). Anything else is a full edit.
_VOWEL_SUB_COST = 0.25
_CLASS_SUB_COST = 0.5
_WEAK_INDEL_COST = 0.5      # a vowel class, H, W or Y added or dropped
_CONSONANT_CLASSES = (frozenset("MN"), frozenset("LR"), frozenset("PTKB"), frozenset("T0"),
                      frozenset("F0"), frozenset("SXJ"))
_WEAK_SYMBOLS = frozenset("aeiouHWY")


def _sub_cost(x: str, y: str) -> float:
    if x == y:
        return 0.0
    if x.islower() and y.islower():
        return _VOWEL_SUB_COST
    if any(x in cls and y in cls for cls in _CONSONANT_CLASSES):
        return _CLASS_SUB_COST
    return 1.0


@lru_cache(maxsize=65536)
def confusion_cost(a: str, b: str) -> float:
    """Weighted edit distance of two English sound keys: 0.25 per vowel class changed, 0.5
    per consonant changed within its class (``M``/``N``, ``L``/``R``, stops, ``0``/``T``,
    ``0``/``F``, sibilants) or per vowel, ``H``, ``W``, ``Y`` added or dropped, 1 for any
    other edit. ``SeT``/``SiT`` 0.25, ``TeRM``/``TuRN`` 0.75, ``ToM``/``MoM`` 1."""
    prev = [0.0]
    for y in b:
        prev.append(prev[-1] + (_WEAK_INDEL_COST if y in _WEAK_SYMBOLS else 1.0))
    for x in a:
        x_indel = _WEAK_INDEL_COST if x in _WEAK_SYMBOLS else 1.0
        cur = [prev[0] + x_indel]
        for k, y in enumerate(b):
            y_indel = _WEAK_INDEL_COST if y in _WEAK_SYMBOLS else 1.0
            cur.append(min(prev[k] + _sub_cost(x, y), prev[k + 1] + x_indel,
                           cur[k] + y_indel))
        prev = cur
    return prev[-1]


# ---------------------------------------------------------------------------------------
# Tokens


def _digit_key(digits: str, lang: Lang) -> str:
    if lang != "zh":
        return digits
    chars = "".join(ZH_DIGIT_CHARS[int(d)] for d in digits if d.isdigit())
    return "".join(fold_syllable(s) for s in _pinyin_run(chars))


def tokenize(text: str, lang: Lang) -> tuple[Token, ...]:
    """Text -> tokens with raw sound and folded key (see the module docstring)."""
    norm = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    if lang == "other":
        return tuple(_exact_tokens(norm))
    norm = _MERIDIEM_DOTS.sub(r"\1m", norm)          # "6 a.m." -> "6 am"
    tokens: list[Token] = []
    han_run: list[str] = []

    def flush_han() -> None:
        if han_run:
            run = "".join(han_run)
            for ch, syl in zip(run, _pinyin_run(run), strict=True):
                tokens.append(Token(ch, Kind.HAN, syl, fold_syllable(syl)))
            han_run.clear()

    for m in _TOKEN_RE.finditer(norm):
        group = m.lastgroup
        piece = m.group()
        if group == "han":
            han_run.append(piece)
            continue
        flush_han()
        if group == "word":
            for word in _EN_CONTRACTIONS.get(piece) or _fused_contraction(piece):
                tokens.append(Token(word, Kind.WORD, word, english_key(word)))
        elif group == "digits":
            tokens.append(Token(piece, Kind.DIGITS, piece, _digit_key(piece, lang)))
        else:
            tokens.append(Token(piece, Kind.SYMBOL, piece, piece))
    flush_han()
    return tuple(tokens)


@lru_cache(maxsize=8192)
def _fused_contraction(word: str) -> tuple[str, ...]:
    """A contraction fused with the next word by the recogniser, spelt out:
    ``what'sthe`` -> ``what is the``. Any other word comes back as itself."""
    cut = word.find("'")
    if cut > 0:
        for size in (1, 2):            # 's 'm 'd 't / 're 'll 've
            head = word[:cut + 1 + size]
            if len(head) < len(word) and head in _EN_CONTRACTIONS:
                return (*_EN_CONTRACTIONS[head], *_fused_contraction(word[len(head):]))
    return (word,)


def _exact_tokens(norm: str) -> Iterable[Token]:
    for m in _EXACT_RE.finditer(norm.casefold()):
        piece = m.group()
        if m.lastgroup == "digits":
            yield Token(piece, Kind.DIGITS, piece, piece)
        elif m.lastgroup == "symbol":
            yield Token(piece, Kind.SYMBOL, piece, piece)
        else:
            yield Token(piece, Kind.EXACT, piece, piece)


def join_surfaces(tokens: Iterable[Token]) -> str:
    """Tokens back to display text: a space only between two Latin words or numbers."""
    parts: list[str] = []
    prev_spaced = False
    for tok in tokens:
        spaced = tok.kind is not Kind.SYMBOL and tok.surface.isascii()
        if prev_spaced and spaced:
            parts.append(" ")
        parts.append(tok.surface)
        prev_spaced = spaced
    return "".join(parts)


# ---------------------------------------------------------------------------------------
# Distances

_LATIN_KINDS = frozenset((Kind.WORD, Kind.NUM, Kind.DIGITS))


def _normalized_levenshtein(a: str, b: str) -> float:
    if a == b:
        return 0.0
    longest = max(len(a), len(b))
    return jellyfish.levenshtein_distance(a, b) / longest if longest else 0.0


def token_distance(a: Token, b: Token) -> float:
    """Distance in [0, 1] between two tokens; 0 = same sound (or same number)."""
    if a.surface == b.surface:
        return 0.0
    ka, kb = a.kind, b.kind
    if ka is Kind.NUM and kb is Kind.NUM:
        return 0.0 if a.raw == b.raw else 0.5
    if ka is Kind.HAN and kb is Kind.HAN:
        return syllable_distance(a.raw, b.raw)
    if ka is Kind.EXACT or kb is Kind.EXACT:
        return 0.0 if a.key == b.key else 1.0
    if a.key == b.key:
        return 0.05
    return _cached_key_distance(a.key, b.key)


@lru_cache(maxsize=65536)
def _cached_key_distance(a: str, b: str) -> float:
    return _normalized_levenshtein(a, b)


def mergeable(token: Token) -> bool:
    """True for tokens that can be split or merged by the recogniser: Latin words, numbers."""
    return token.kind in _LATIN_KINDS and token.surface.isascii()


def group_sound(tokens: Sequence[Token]) -> tuple[str, str] | None:
    """(letters, key) of a group of Latin tokens heard as one stretch; None if not Latin."""
    if not all(mergeable(t) for t in tokens):
        return None
    if len(tokens) == 1:
        tok = tokens[0]
        return tok.surface.replace("'", ""), tok.key
    letters = "".join(t.surface for t in tokens).replace("'", "")
    return letters, "".join(t.key for t in tokens)


@lru_cache(maxsize=65536)
def sound_distance(a: tuple[str, str], b: tuple[str, str]) -> float:
    """Distance of two ``group_sound`` values: 0 for the same letters, else key Levenshtein."""
    if a[0] == b[0]:
        return 0.0
    return _normalized_levenshtein(a[1], b[1])


@lru_cache(maxsize=65536)
def sound_confusable(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Same letters with other spaces, or ``english_confusable`` keys."""
    return a[0] == b[0] or english_confusable(a[1], b[1])


def tokens_distance(a: Sequence[Token], b: Sequence[Token]) -> float:
    """Distance between two token groups heard as one stretch (split/merged words).

    Only Latin words and numbers can merge (Han characters are syllables already);
    1.0 for anything else. The same letters with other spaces is distance 0.
    """
    if len(a) == 1 and len(b) == 1:
        return token_distance(a[0], b[0])
    sa, sb = group_sound(a), group_sound(b)
    if sa is None or sb is None:
        return 1.0
    return sound_distance(sa, sb)


def tokens_confusable(a: Sequence[Token], b: Sequence[Token]) -> bool:
    """True if the two token groups are one sound for a recogniser (an ASR confusion).

    Han: one syllable each, same confusion class (``syllable_distance <= 0.1``).
    Latin words: ``english_confusable`` on the (concatenated) keys, or the same letters.
    Whether two numbers agree is numbers.py's business; a number's sound only matters
    here for a number word fused into a split word (``four cast``/``forecast``).
    """
    if not a or not b:
        return False
    if len(a) == 1 and len(b) == 1:
        ta, tb = a[0], b[0]
        if ta.kind is Kind.HAN and tb.kind is Kind.HAN:
            return syllable_distance(ta.raw, tb.raw) <= 0.1
        if ta.kind is Kind.EXACT or tb.kind is Kind.EXACT:
            return ta.key == tb.key
        if ta.key == tb.key and mergeable(ta) and mergeable(tb):
            return True
    sa, sb = group_sound(a), group_sound(b)
    if sa is None or sb is None:
        return False
    return sound_confusable(sa, sb)


def phonetic_string(tokens: Iterable[Token]) -> str:
    """The concatenated sound (keys) of a token sequence."""
    return "".join(t.key for t in tokens)


@lru_cache(maxsize=4096)
def sound_key(text: str, lang: Lang) -> str:
    """The concatenated sound of a text: ``sound_key("二十", "zh") == "ersi"``."""
    return phonetic_string(tokenize(text, lang))


def string_similarity(a: str, b: str) -> float:
    """``1 - levenshtein(a, b) / max(len)`` in [0, 1]; two empty strings are identical."""
    return 1.0 - _normalized_levenshtein(a, b)


def similarity(a: str, b: str, locale: str) -> float:
    """Phonetic similarity of two texts of one locale, in [0, 1] (1 = sounds the same)."""
    lang = language(locale)
    return string_similarity(phonetic_string(tokenize(a, lang)), phonetic_string(tokenize(b, lang)))
