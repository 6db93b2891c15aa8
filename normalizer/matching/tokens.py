"""Tokens: what every language pack turns a text into, and the one scanner they share.

After Unicode NFKC and lower-casing, a text is scanned into pieces:

* each Han character is one piece (one syllable), kind ``HAN``;
* a run of letters (Latin or any other non-Han script) is one word, kind ``WORD``, with
  inner apostrophes kept ("o'clock");
* a run of digits with inner ``.``, ``:`` or ``,`` is one piece, kind ``DIGITS``;
* ``%`` is a ``SYMBOL``; every other character separates pieces.

A language pack (``lang/``) gives each piece its sound: ``raw`` is the unfolded sound
(a toneless pinyin syllable, a lower-case word, a number's value) and ``key`` the folded
sound that a recogniser cannot tell apart (``zh`` and ``z`` are one key; ``bred`` and
``bread`` are one key). numbers.py turns the pieces of one number into one ``NUM`` token.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = ["Kind", "Piece", "Token", "join_surfaces", "normalize", "scan"]


class Kind(enum.IntEnum):
    HAN = 1       # one Han character, one syllable
    WORD = 2      # a word of letters
    DIGITS = 3    # a run of digits, before numbers.py turns it into NUM
    SYMBOL = 4    # "%"
    NUM = 6       # a number (numbers.py): raw is its canonical value


@dataclass(frozen=True, slots=True)
class Token:
    surface: str   # the text of the token (NFKC, lower-cased)
    kind: Kind
    raw: str       # unfolded sound: pinyin syllable, lower-case word, or number value
    key: str       # folded sound key: equal keys are one sound for a recogniser


@dataclass(frozen=True, slots=True)
class Piece:
    text: str
    kind: Kind


_HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3007"
_PIECE_RE = re.compile(
    rf"(?P<han>[{_HAN_CLASS}])"
    r"|(?P<digits>\d+(?:[.:,]\d+)*)"
    rf"|(?P<word>[^\W\d_{_HAN_CLASS}]+(?:'[^\W\d_{_HAN_CLASS}]+)*)"
    r"|(?P<symbol>%)"
)
_KINDS = {"han": Kind.HAN, "digits": Kind.DIGITS, "word": Kind.WORD, "symbol": Kind.SYMBOL}


def normalize(text: str) -> str:
    """NFKC, lower case, typographic apostrophes made plain."""
    return unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")


def scan(norm: str) -> Iterator[Piece]:
    """The pieces of an already ``normalize``d text, left to right."""
    for m in _PIECE_RE.finditer(norm):
        yield Piece(m.group(), _KINDS[m.lastgroup or "symbol"])


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
