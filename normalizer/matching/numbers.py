"""Numbers: the values a language pack reads from tokens, and how they replace them.

Numbers are slots: two texts whose numbers differ are different requests, however alike
they sound ("fifteen"/"fifty", 六点/七点). Each language pack finds the numbers of its
tokens (``Language.find_numbers``: Chinese numerals and clock times in ``lang/zh``,
English number words in ``lang/en``, digits everywhere) as ``Mention``s holding a
``Number``; ``collapse`` then replaces each mention's tokens by one ``NUM`` token, so
that ``六点``, ``6点``, ``six`` and ``6`` are all the value 6, and the aligner and the guard
see one token per number.

A meridiem counts only when said: ``早上六点`` (6 am) and ``晚上六点`` (6 pm) differ, but
either equals a bare ``六点``; ``晚上六点`` also equals ``18点``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from normalizer.matching.tokens import Kind, Token, join_surfaces

__all__ = ["UNITS", "Mention", "Number", "collapse", "digits_value", "numbers_agree"]


# Units a number can be said in, by dimension: a duration in seconds, a temperature.
UNITS = {"second": ("duration", 1.0), "minute": ("duration", 60.0),
         "hour": ("duration", 3600.0), "day": ("duration", 86400.0),
         "week": ("duration", 604800.0), "degree": ("temperature", 1.0)}


@dataclass(frozen=True, slots=True)
class Number:
    value: float
    meridiem: str | None = None   # "am" / "pm", only when the text says it
    time: bool = False            # a clock time (六点, o'clock, 6:30, am/pm)
    percent: bool = False
    unit: str | None = None       # a key of UNITS, when the text says one

    @property
    def hour24(self) -> float:
        if self.meridiem == "pm" and self.value < 12:
            return self.value + 12
        return self.value

    @property
    def key(self) -> str:
        """Canonical value text (24-hour for a pm time): equal keys are the same number."""
        return _format(self.hour24)

    def same_as(self, other: Number) -> bool:
        """Same number; a meridiem, a percent sign or a unit said on one side only does not
        count, but "thirty seconds" is not "thirty minutes", nor "5 am" "5 minutes"."""
        if self.unit and other.unit:
            (dim_a, fa), (dim_b, fb) = UNITS[self.unit], UNITS[other.unit]
            return dim_a == dim_b and _close(self.value * fa, other.value * fb)
        if (self.unit and other.time) or (other.unit and self.time):
            return False
        if self.meridiem and other.meridiem:
            return self.meridiem == other.meridiem and _close(self.value, other.value)
        return _close(self.value, other.value) or _close(self.hour24, other.hour24)

    def __str__(self) -> str:
        if self.time and self.value != int(self.value):
            hours = int(self.value)
            text = f"{hours}:{round((self.value - hours) * 60):02d}"
        else:
            text = _format(self.value)
        if self.meridiem:
            text += " " + self.meridiem
        if self.percent:
            text += "%"
        if self.unit:
            text += " " + self.unit + ("" if self.value == 1 else "s")
        return text


@dataclass(frozen=True, slots=True)
class Mention:
    start: int        # first token of the number (meridiem words included)
    end: int          # one past its last token
    number: Number


def _close(a: float, b: float) -> bool:
    return abs(a - b) < 1e-9


def _format(value: float) -> str:
    if _close(value, round(value)):
        return str(round(value))
    return f"{value:.4f}".rstrip("0")


def digits_value(text: str) -> tuple[float, bool]:
    """``"6:30"`` -> (6.5, a time); ``"1,000"`` -> 1000; ``"2.5"`` -> 2.5."""
    if ":" in text:
        parts = text.split(":")
        if len(parts) == 2 and len(parts[1]) == 2 and int(parts[1]) < 60:
            return int(parts[0]) + int(parts[1]) / 60, True
        return float("".join(parts)), False
    if "," in text:
        groups = text.split(",")
        if all(len(g) == 3 for g in groups[1:]):
            text = "".join(groups)
        else:
            text = text.replace(",", ".", 1).replace(",", "")
    if text.count(".") > 1:
        text = text.replace(".", "")
    return float(text), False


def numbers_agree(a: Sequence[Number], b: Sequence[Number]) -> bool:
    """Every number of ``a`` is the same as one of ``b``, one to one, and none is left over."""
    if len(a) != len(b):
        return False
    left = list(b)
    for x in a:
        for k, y in enumerate(left):
            if x.same_as(y):
                del left[k]
                break
        else:
            return False
    return True


def collapse(tokens: Sequence[Token], mentions: Sequence[Mention],
             sound_of: Callable[[Number], tuple[str, str]]
             ) -> tuple[tuple[Token, ...], tuple[Number | None, ...]]:
    """Replace each mention's tokens by one ``Kind.NUM`` token.

    Returns the new tokens and, position by position, the ``Number`` of each NUM token
    (None elsewhere). A NUM token's ``raw`` and ``key`` are what ``sound_of`` gives for
    the number: the sound of its value read aloud, so ``four cast`` still sounds like
    ``forecast``. A said meridiem adds ``@am``/``@pm`` to the key.
    """
    if not mentions:
        return tuple(tokens), (None,) * len(tokens)
    out: list[Token] = []
    nums: list[Number | None] = []
    i = 0
    for m in mentions:
        out.extend(tokens[i:m.start])
        nums.extend([None] * (m.start - i))
        raw, key = sound_of(m.number)
        if m.number.meridiem:
            key += "@" + m.number.meridiem
        out.append(Token(join_surfaces(tokens[m.start:m.end]), Kind.NUM, raw, key))
        nums.append(m.number)
        i = m.end
    out.extend(tokens[i:])
    nums.extend([None] * (len(tokens) - i))
    return tuple(out), tuple(nums)
