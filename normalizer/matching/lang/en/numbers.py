"""English numbers: digits and number words read as values, with times and percentages.

* digits: ``6``, ``20``, ``1,000``, ``2.5``, ``6:30`` (a time, 6.5), ``1st``, ``50%``;
* words: ``zero`` .. ``nineteen``, the tens, ``hundred``, ``thousand``, ``million``,
  ``a hundred``, ``a dozen``, ``one hundred and five``, hyphenated ``twenty-five`` (the
  tokenizer splits the hyphen), ordinals ``first``, ``third`` .. ``twentieth`` (not
  ``second``: mostly a unit of time), ``percent``;
* times: ``six o'clock``, ``6 am``, ``six in the morning``; ``six thirty pm`` is the time
  6.5 pm when a meridiem follows, otherwise two numbers. The part of the day also counts
  with the article dropped or misheard and the word heard as a homophone ("in da mourning").
"""

from __future__ import annotations

from collections.abc import Sequence

from normalizer.matching.lang.en.phonemes import word_phonemes
from normalizer.matching.numbers import Mention, Number, digits_value
from normalizer.matching.tokens import Kind, Token

__all__ = ["find_numbers", "reading"]

_EN_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine".split())}
_EN_TEENS = {w: i + 10 for i, w in enumerate(
    "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split())}
_EN_TENS = {w: (i + 2) * 10 for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split())}
_EN_SCALES = {"thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
# "second" is left out on purpose: far more often a unit of time than an ordinal.
_EN_ORDINALS = {
    "first": 1, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
    "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16,
    "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
    "thirtieth": 30, "fortieth": 40, "fiftieth": 50,
}
# "half past six", "quarter to seven": the hour after, shifted.
_EN_CLOCK_FRACTIONS: dict[tuple[str, ...], float] = {
    ("half", "past"): 0.5, ("quarter", "past"): 0.25, ("quarter", "after"): 0.25,
    ("quarter", "to"): -0.25, ("quarter", "till"): -0.25}
# "at six thirty" is a time even without am/pm; "for six thirty minute sessions" is not.
_EN_TIME_PREPOSITIONS = frozenset(("at", "for", "by", "until", "till", "to"))
_EN_UNITS_AFTER = frozenset(("minutes", "minute", "seconds", "second", "hours", "hour",
                             "percent", "degrees", "degree", "times", "days"))
# Units a number is said in (numbers.UNITS), singular and plural.
_EN_MEASURES = {w: unit for unit, words in {
    "second": ("second", "seconds", "sec", "secs"), "minute": ("minute", "minutes", "min", "mins"),
    "hour": ("hour", "hours", "hr", "hrs"), "day": ("day", "days"), "week": ("week", "weeks"),
    "degree": ("degree", "degrees")}.items() for w in words}


def _en_article_quantity(words: Sequence[str], i: int) -> tuple[float, str, int] | None:
    """"an hour", "a minute", "half an hour", "an hour and a half": (amount, unit, end)."""
    n = len(words)
    amount, k = 1.0, i
    if words[i] == "half" and i + 1 < n and words[i + 1] in ("a", "an"):
        amount, k = 0.5, i + 1
    if words[k] not in ("a", "an") or k + 1 >= n:
        return None
    unit = _EN_MEASURES.get(words[k + 1])
    if unit not in ("minute", "hour"):       # "wait a second", "have a nice day": no amount
        return None
    j = k + 2
    if amount == 1.0 and tuple(words[j:j + 3]) == ("and", "a", "half"):
        amount, j = 1.5, j + 3
    return amount, unit, j


_EN_ORDINAL_SUFFIXES = frozenset(("st", "nd", "rd", "th"))
_EN_PERCENT = frozenset(("%", "percent"))
_EN_OCLOCK = frozenset(("o'clock", "oclock"))
# Said after a time: (words, meridiem).
_EN_MERIDIEM: tuple[tuple[tuple[str, ...], str], ...] = (
    (("am",), "am"),
    (("pm",), "pm"),
    (("a", "m"), "am"),              # how recognisers spell a.m.
    (("p", "m"), "pm"),
    (("in", "the", "morning"), "am"),
    (("in", "the", "afternoon"), "pm"),
    (("in", "the", "evening"), "pm"),
    (("at", "night"), "pm"),
)
# "in the <part of the day>" also counts with the article dropped or misspelt, and with the
# part of the day heard as a homophone ("in the mourning").
_EN_ARTICLE_SPELLINGS = frozenset(("the", "da", "duh", "thuh"))
_EN_DAY_PARTS = {phrase[-1]: meridiem for phrase, meridiem in _EN_MERIDIEM
                 if phrase[:2] == ("in", "the")}


def _en_word_number(words: Sequence[str], i: int) -> tuple[float, int] | None:
    """Parse a number spelled in words starting at ``i``: (value, end) or None."""
    n = len(words)
    total = 0
    current = 0
    last = ""          # kind of the last word: unit, teen, ten, hundred, scale, ordinal
    j = i
    while j < n:
        w = words[j]
        nxt = words[j + 1] if j + 1 < n else ""
        if w == "a" and j == i and nxt in ("hundred", "dozen", *_EN_SCALES):
            current, last = 1, "unit"
        elif w == "and" and last in ("hundred", "scale") and (
            nxt in _EN_UNITS or nxt in _EN_TEENS or nxt in _EN_TENS
        ):
            pass
        elif w in _EN_UNITS and last in ("", "ten", "hundred", "scale"):
            current += _EN_UNITS[w]
            last = "unit"
        elif (w in _EN_TEENS or w in _EN_TENS) and last in ("", "hundred", "scale"):
            current += _EN_TEENS.get(w) or _EN_TENS[w]
            last = "teen" if w in _EN_TEENS else "ten"
        elif w in _EN_ORDINALS and (
            last in ("", "hundred", "scale") or (last == "ten" and _EN_ORDINALS[w] < 10)
        ):
            current += _EN_ORDINALS[w]
            j += 1
            break                                   # an ordinal ends the number
        elif w == "hundred" and last in ("unit", "teen"):
            current *= 100
            last = "hundred"
        elif w in _EN_SCALES and last in ("unit", "teen", "ten", "hundred"):
            total += current * _EN_SCALES[w]
            current, last = 0, "scale"
        elif w == "dozen" and last == "unit":
            current *= 12
            j += 1
            break
        else:
            break
        j += 1
    if j == i:
        return None
    return float(total + current), j


def _en_number_at(
    words: Sequence[str], kinds: Sequence[Kind], i: int
) -> tuple[float, bool, int] | None:
    if kinds[i] is Kind.DIGITS:
        value, is_time = digits_value(words[i])
        return value, is_time, i + 1
    if words[i] == "one" and _pronoun_one(words, i):
        return None
    parsed = _en_word_number(words, i)
    if parsed is None:
        return None
    return parsed[0], False, parsed[1]


# "the one before this", "that one", "one of my songs": the pronoun, not the number.
_EN_ONE_DETERMINERS = frozenset(("the", "this", "that", "which", "any", "another", "each",
                                 "every", "no", "other", "same", "last", "next", "new",
                                 "previous", "right", "wrong", "good", "first"))


def _pronoun_one(words: Sequence[str], i: int) -> bool:
    before = words[i - 1] if i else ""
    after = words[i + 1] if i + 1 < len(words) else ""
    return before in _EN_ONE_DETERMINERS or after == "of"


def _find(words: Sequence[str], kinds: Sequence[Kind]) -> list[Mention]:
    mentions: list[Mention] = []
    n = len(words)
    i = 0
    while i < n:
        found = _en_number_at(words, kinds, i)
        fraction = _EN_CLOCK_FRACTIONS.get(tuple(words[i:i + 2])) if found is None else None
        if fraction is not None and i + 2 < n:
            hour = _en_number_at(words, kinds, i + 2)
            if hour is not None and hour[0] == int(hour[0]) and 1 <= hour[0] <= 12:
                found = (hour[0] + fraction, True, hour[2])     # half past six = 6:30
        if found is None:
            quantity = _en_article_quantity(words, i)          # "an hour", "half a minute"
            if quantity is not None:
                amount, said_unit, j = quantity
                mentions.append(Mention(i, j, Number(amount, unit=said_unit)))
                i = j
                continue
            i += 1
            continue
        value, is_time, j = found
        percent = meridiem = None
        if tuple(words[j:j + 3]) == ("and", "a", "half") and j + 3 < n \
                and words[j + 3] in _EN_MEASURES:
            value, j = value + 0.5, j + 3                     # one and a half hours
        unit = _EN_MEASURES.get(words[j]) if j < n and not is_time else None
        if unit is not None:
            j += 1
            if tuple(words[j:j + 3]) == ("and", "a", "half"):
                value, j = value + 0.5, j + 3
            mentions.append(Mention(i, j, Number(value, unit=unit)))
            i = j
            continue
        if j < n and kinds[i] is Kind.DIGITS and words[j] in _EN_ORDINAL_SUFFIXES:
            j += 1
        if j < n and words[j] in _EN_PERCENT:
            percent = True
            j += 1
        elif value == int(value) and 1 <= value <= 12 and not is_time:
            # "six thirty pm": hour and minutes, only when a meridiem makes it a time
            minutes = _en_number_at(words, kinds, j) if j < n else None
            if minutes is not None and minutes[0] == int(minutes[0]) and minutes[0] < 60:
                after = words[minutes[2]] if minutes[2] < n else ""
                clock = (i > 0 and words[i - 1] in _EN_TIME_PREPOSITIONS
                         and 10 <= minutes[0] and after not in _EN_UNITS_AFTER)
                if clock or _en_meridiem(words, minutes[2]) is not None:
                    value += minutes[0] / 60
                    is_time = True
                    j = minutes[2]
        if j < n and words[j] in _EN_OCLOCK:
            is_time = True
            j += 1
        said = _en_meridiem(words, j)
        if said is not None and not percent:
            meridiem, j = said
            is_time = True
        mentions.append(Mention(i, j, Number(value, meridiem, is_time, bool(percent))))
        i = j
    return mentions


def _en_meridiem(words: Sequence[str], j: int) -> tuple[str, int] | None:
    for phrase, meridiem in _EN_MERIDIEM:
        if tuple(words[j:j + len(phrase)]) == phrase:
            return meridiem, j + len(phrase)
    # "in morning", "in da mourning": the article dropped or misspelt, the part of the day
    # by sound.
    if j < len(words) and words[j] == "in":
        k = j + 1
        if k < len(words) and words[k] in _EN_ARTICLE_SPELLINGS:
            k += 1
        if k < len(words):
            heard = word_phonemes(words[k])
            for part, said in _EN_DAY_PARTS.items():
                if heard == word_phonemes(part):
                    return said, k + 1
    return None


def reading(n: int) -> str:
    """How a whole number is read aloud: ``reading(25) == \"twenty five\"``."""
    units = list(_EN_UNITS)
    if n < 10:
        return units[n]
    if n < 20:
        return list(_EN_TEENS)[n - 10]
    if n < 100:
        tens = list(_EN_TENS)[n // 10 - 2]
        return tens + (" " + units[n % 10] if n % 10 else "")
    for size, name in ((1_000_000_000, "billion"), (1_000_000, "million"), (1000, "thousand"),
                       (100, "hundred")):
        if n >= size:
            rest = n % size
            return reading(n // size) + " " + name + (" " + reading(rest) if rest else "")
    raise AssertionError(n)


def find_numbers(tokens: Sequence[Token]) -> list[Mention]:
    """The numbers of an English token sequence, left to right, non-overlapping."""
    return _find([t.surface for t in tokens], [t.kind for t in tokens])
