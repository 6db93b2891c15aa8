"""Numbers in transcripts: digits, English number words, Chinese numerals, clock times.

Numbers are slots: two texts whose numbers differ are different requests, however alike
they sound ("fifteen"/"fifty"). This module finds the numbers of a token sequence
(phonetic.py's tokens) so that ``六点``, ``6点``, ``six``, ``6`` all read as 6, and
``二十分钟``/``20分钟``/``twenty minutes`` as 20.

Each number found is a ``Mention`` over a token range, holding a ``Number``:

* digits: ``6``, ``20``, ``1,000``, ``2.5``, ``6:30`` (a time, 6.5), ``1st``, ``50%``;
* English words: ``zero`` .. ``nineteen``, the tens, ``hundred``, ``thousand``,
  ``million``, ``a hundred``, ``a dozen``, ``one hundred and five``, hyphenated
  ``twenty-five`` (the tokenizer splits the hyphen), ordinals ``first``, ``third`` ..
  ``twentieth`` (not ``second``: mostly a unit of time), ``percent``;
  ``six thirty pm`` is the time 6.5 pm when a meridiem follows, otherwise two numbers;
* Chinese numerals ``零〇一二两俩三四五六七八九十百千万亿``, positional (``二十五``,
  ``一百零五``, colloquial ``一百二`` = 120, ``两千五`` = 2500) or digit by digit
  (``三零五`` = 305), ``3万`` = 30000, ``百分之五十`` = 50%;
* clock times: ``六点`` / ``6点`` / ``六点钟`` = 6, ``六点半`` = 6.5, ``六点十五(分)`` = 6.25,
  ``六点零五`` = 6:05, but ``一点五`` = 1.5 (a decimal: one digit after 点, no 分);
  ``six o'clock``, ``6 am``, ``six in the morning``.

A meridiem counts only when said: ``早上六点`` (6 am) and ``晚上六点`` (6 pm) differ, but
either equals a bare ``六点``; ``晚上六点`` also equals ``18点``. The meridiem words
(早上, 下午, am, in the evening, ...) belong to the number's mention.

Chinese ``一`` is often not a number: ``一下``, ``一起``, ``一样``, ``一直``, ``统一``,
``一点`` after a comparative (``大一点`` = a bit bigger), ``万一``/``千万`` (in case / by
all means), ``十分`` not followed by ``钟`` (= very): these stay words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from normalizer.matching.phonetic import (
    ZH_DIGIT_CHARS,
    Kind,
    Lang,
    Token,
    english_key,
    join_surfaces,
    language,
    sound_key,
    tokenize,
)

__all__ = [
    "Mention", "Number", "collapse_numbers", "extract_numbers", "find_numbers", "spoken",
]


@dataclass(frozen=True, slots=True)
class Number:
    value: float
    meridiem: str | None = None   # "am" / "pm", only when the text says it
    time: bool = False            # a clock time (六点, o'clock, 6:30, am/pm)
    percent: bool = False

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
        """Same number; a meridiem or a percent sign said on one side only does not count."""
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


# ---------------------------------------------------------------------------------------
# Digits


def _digits_value(text: str) -> tuple[float, bool]:
    """``"6:30"`` -> (6.5, time); ``"1,000"`` -> 1000; ``"2.5"`` -> 2.5."""
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


# ---------------------------------------------------------------------------------------
# English

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
_EN_ORDINAL_SUFFIXES = frozenset(("st", "nd", "rd", "th"))
_EN_PERCENT = frozenset(("%", "percent"))
_EN_OCLOCK = frozenset(("o'clock", "oclock"))
# Said after a time: (words, meridiem).
_EN_MERIDIEM: tuple[tuple[tuple[str, ...], str], ...] = (
    (("am",), "am"),
    (("pm",), "pm"),
    (("in", "the", "morning"), "am"),
    (("in", "the", "afternoon"), "pm"),
    (("in", "the", "evening"), "pm"),
    (("at", "night"), "pm"),
)
# "in the <part of the day>" also counts with the article dropped or misspelt, and with the
# part of the day heard as a homophone ("in the mourning").
_EN_ARTICLE_SPELLINGS = frozenset(("the", "da", "duh", "thuh"))
_EN_DAY_PARTS_BY_SOUND = {
    english_key(phrase[-1]): meridiem for phrase, meridiem in _EN_MERIDIEM
    if phrase[:2] == ("in", "the")
}


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
        value, is_time = _digits_value(words[i])
        return value, is_time, i + 1
    parsed = _en_word_number(words, i)
    if parsed is None:
        return None
    return parsed[0], False, parsed[1]


def _en_numbers(words: Sequence[str], kinds: Sequence[Kind]) -> list[Mention]:
    mentions: list[Mention] = []
    n = len(words)
    i = 0
    while i < n:
        found = _en_number_at(words, kinds, i)
        if found is None:
            i += 1
            continue
        value, is_time, j = found
        percent = meridiem = None
        if j < n and kinds[i] is Kind.DIGITS and words[j] in _EN_ORDINAL_SUFFIXES:
            j += 1
        if j < n and words[j] in _EN_PERCENT:
            percent = True
            j += 1
        elif value == int(value) and 1 <= value <= 12 and not is_time:
            # "six thirty pm": hour and minutes, only when a meridiem makes it a time
            minutes = _en_number_at(words, kinds, j) if j < n else None
            if minutes is not None and minutes[0] == int(minutes[0]) and minutes[0] < 60:
                if _en_meridiem(words, minutes[2]) is not None:
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
            said = _EN_DAY_PARTS_BY_SOUND.get(english_key(words[k]))
            if said is not None:
                return said, k + 1
    return None


# ---------------------------------------------------------------------------------------
# Chinese

_ZH_DIGITS = {ch: i for i, ch in enumerate(ZH_DIGIT_CHARS)} | {"〇": 0, "两": 2, "俩": 2}
_ZH_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
_ZH_NUMERALS = frozenset(_ZH_DIGITS) | frozenset(_ZH_SMALL_UNITS) | frozenset(_ZH_BIG_UNITS)
# 一 + one of these is a word, not the number one: 一下 一起 一样 一直 一定 一些 一般 ...
_ZH_YI_WORD_FOLLOWERS = frozenset("下起样直定些般切旦共同致向会")
# 大一点, 快一点: "a bit", not one o'clock.
_ZH_COMPARATIVES = frozenset("大小高低快慢多少亮暗强弱长短近远冷热暖轻重响")
_ZH_NON_NUMBER_RUNS = frozenset(("万一", "千万"))     # in case; by all means
_ZH_MERIDIEM = {
    "早上": "am", "上午": "am", "凌晨": "am", "早晨": "am", "清晨": "am",
    "中午": "pm", "下午": "pm", "晚上": "pm", "傍晚": "pm", "夜里": "pm", "夜晚": "pm",
    "半夜": "am",
}
# The same meridiem words by sound (folded syllable keys): the recogniser writes 早善/早上,
# 挽丧/晚上; a homophone of a meridiem word before a time is that meridiem word.
_ZH_MERIDIEM_BY_SOUND = {
    tuple(t.key for t in tokenize(word, "zh")): meridiem for word, meridiem in _ZH_MERIDIEM.items()
}
# 一 + any character read xia (下, 夏, 吓 ...) is the softener 一下 ("a bit"), not one.
_ZH_XIA = "xia"
_ZH_PERCENT_PREFIX = "百分之"


def _zh_numeral_value(run: str) -> float:
    """Chinese numeral string -> value: 二十五 25, 一百零五 105, 两千五 2500, 三零五 305."""
    if not any(ch in _ZH_SMALL_UNITS or ch in _ZH_BIG_UNITS for ch in run):
        return float(int("".join(str(_ZH_DIGITS[ch]) for ch in run)))
    total = section = 0
    digit: int | None = None
    last_unit = 1
    zero_seen = False
    for ch in run:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
            zero_seen = zero_seen or digit == 0
        elif ch in _ZH_SMALL_UNITS:
            section += (1 if digit is None else digit) * _ZH_SMALL_UNITS[ch]
            digit, last_unit, zero_seen = None, _ZH_SMALL_UNITS[ch], False
        else:
            section += digit or 0
            total += (section or 1) * _ZH_BIG_UNITS[ch]
            section, digit, last_unit, zero_seen = 0, None, _ZH_BIG_UNITS[ch], False
    if digit is not None:
        unit_before = run[-2] in _ZH_SMALL_UNITS or run[-2] in _ZH_BIG_UNITS
        if last_unit >= 100 and not zero_seen and unit_before:
            digit *= last_unit // 10        # colloquial: 一百二 = 120, 三万五 = 35000
        section += digit
    return float(total + section)


def _zh_run_end(surfaces: Sequence[str], i: int) -> int:
    j = i
    while j < len(surfaces) and surfaces[j] in _ZH_NUMERALS:
        j += 1
    return j


def _zh_is_word(surfaces: Sequence[str], i: int, j: int) -> bool:
    """True if the numeral run ``surfaces[i:j]`` is part of a word, not a number."""
    run = "".join(surfaces[i:j])
    nxt = surfaces[j] if j < len(surfaces) else ""
    after = surfaces[j + 1] if j + 1 < len(surfaces) else ""
    prev = surfaces[i - 1] if i else ""
    if run in _ZH_NON_NUMBER_RUNS:
        return True
    if (run[0] in _ZH_SMALL_UNITS and run[0] != "十") or run[0] in _ZH_BIG_UNITS:
        return True                                # 百/千/万 cannot start a number
    if run == "一":
        if nxt in _ZH_YI_WORD_FOLLOWERS or prev in ("统", "唯", "专", "单"):
            return True
        if nxt == "点" and (prev in _ZH_COMPARATIVES or after in ("点", "儿")):
            return True
    return run == "十" and nxt == "分" and after != "钟"


def _zh_number_at(tokens: Sequence[Token], i: int) -> tuple[float, bool, int] | None:
    """A bare number at ``i``: a numeral run, or digits with an optional 万/千/百.

    Returns (value, is a time, end) or None.
    """
    surfaces = [t.surface for t in tokens]
    tok = tokens[i]
    if tok.kind is Kind.DIGITS:
        value, is_time = _digits_value(tok.surface)
        j = i + 1
        if j < len(tokens) and not is_time:
            unit = _ZH_BIG_UNITS.get(surfaces[j]) or _ZH_SMALL_UNITS.get(surfaces[j])
            if unit and unit >= 100:
                value *= unit
                j += 1
        return value, is_time, j
    if tok.surface not in _ZH_NUMERALS:
        return None
    j = _zh_run_end(surfaces, i)
    if _zh_is_word(surfaces, i, j) or (
        j == i + 1 and tok.surface == "一" and j < len(tokens)
        and tokens[j].kind is Kind.HAN and tokens[j].raw == _ZH_XIA
    ):
        return None
    return _zh_numeral_value("".join(surfaces[i:j])), False, j


def _zh_numbers(tokens: Sequence[Token]) -> list[Mention]:
    surfaces = [t.surface for t in tokens]
    n = len(tokens)
    mentions: list[Mention] = []
    i = 0
    while i < n:
        found = _zh_number_at(tokens, i)
        if found is None:
            i += 1
            continue
        value, is_time, j = found
        start = i
        percent = False
        if start >= 3 and "".join(surfaces[start - 3:start]) == _ZH_PERCENT_PREFIX:
            start -= 3
            percent = True
        elif j < n and surfaces[j] == "%":
            percent = True
            j += 1
        elif j < n and surfaces[j] == "点" and value == int(value) and value <= 24:
            value, is_time, j = _zh_clock(tokens, value, j + 1)
        meridiem = None
        if is_time and start >= 2:
            meridiem = _zh_meridiem(tokens[start - 2], tokens[start - 1])
            if meridiem is not None:
                start -= 2
        mentions.append(Mention(start, j, Number(value, meridiem, is_time, percent)))
        i = j
    return mentions


def _zh_meridiem(first: Token, second: Token) -> str | None:
    """The meridiem said by two Han tokens (a homophone counts: 早善 = 早上), else None."""
    said = _ZH_MERIDIEM.get(first.surface + second.surface)
    if said is not None or first.kind is not Kind.HAN or second.kind is not Kind.HAN:
        return said
    return _ZH_MERIDIEM_BY_SOUND.get((first.key, second.key))


def _zh_clock(tokens: Sequence[Token], hour: float, j: int) -> tuple[float, bool, int]:
    """After ``<hour>点``: 半, minutes (分), a decimal digit, 钟/整. Returns value, time, end."""
    n = len(tokens)
    surfaces = [t.surface for t in tokens]
    if j < n and surfaces[j] == "半":
        return hour + 0.5, True, j + 1
    after = _zh_number_at(tokens, j) if j < n else None
    if after is not None:
        minutes, _, k = after
        leading_zero = surfaces[j] in ("零", "〇") or surfaces[j].startswith("0")
        if k < n and surfaces[k] == "分":
            return hour + minutes / 60, True, k + 1
        if minutes >= 10 or leading_zero:
            return hour + minutes / 60, True, k
        if minutes == int(minutes):
            return hour + minutes / 10, False, k       # 一点五: a decimal
    if j < n and surfaces[j] in ("钟", "整"):
        j += 1
    return hour, True, j


# ---------------------------------------------------------------------------------------
# Reading aloud


def _en_words(n: int) -> str:
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
            return _en_words(n // size) + " " + name + (" " + _en_words(rest) if rest else "")
    raise AssertionError(n)


def _zh_words(n: int) -> str:
    if n >= 10_000:
        high, low = divmod(n, 10_000)
        text = _zh_words(high) + "万"
        if low:
            text += ("零" if low < 1000 else "") + _zh_words(low)
        return text
    out: list[str] = []
    zero = False
    for digit, unit in zip((n // 1000 % 10, n // 100 % 10, n // 10 % 10, n % 10),
                           ("千", "百", "十", ""), strict=True):
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(ZH_DIGIT_CHARS[digit] + unit)
    text = "".join(out) or ZH_DIGIT_CHARS[0]
    return text[1:] if 10 <= n < 20 else text            # 一十五 -> 十五


def spoken(number: Number, lang: Lang) -> str | None:
    """How the number's value is read aloud (whole values below 10^8), else None.

    ``spoken(Number(25), "en") == "twenty five"``, ``spoken(Number(25), "zh") == "二十五"``.
    """
    value = number.value
    if value != int(value) or not 0 <= value < 100_000_000 or lang == "other":
        return None
    return _en_words(int(value)) if lang == "en" else _zh_words(int(value))


# ---------------------------------------------------------------------------------------
# Public API


def find_numbers(tokens: Sequence[Token], lang: Lang) -> list[Mention]:
    """The numbers of a token sequence, left to right, non-overlapping."""
    if lang == "zh":
        return _zh_numbers(tokens)
    if lang == "en":
        return _en_numbers([t.surface for t in tokens], [t.kind for t in tokens])
    mentions = []
    for i, tok in enumerate(tokens):
        if tok.kind is Kind.DIGITS:
            value, is_time = _digits_value(tok.surface)
            mentions.append(Mention(i, i + 1, Number(value, time=is_time)))
    return mentions


def extract_numbers(text: str, locale: str) -> list[Number]:
    """The numbers of a text: ``extract_numbers("六点叫我", "zh-CN") == [Number(6, time=True)]``."""
    lang = language(locale)
    return [m.number for m in find_numbers(tokenize(text, lang), lang)]


def collapse_numbers(
    tokens: Sequence[Token], lang: Lang
) -> tuple[tuple[Token, ...], tuple[Number | None, ...]]:
    """Replace each number's tokens by one ``Kind.NUM`` token.

    Returns the new tokens and, position by position, the ``Number`` of each NUM token
    (None elsewhere). A NUM token's ``raw`` is the number's canonical key, its ``key`` the
    sound of the number read aloud (``6``, ``six`` -> ``SiKS``; ``20``, ``二十`` -> ``ersi``),
    so ``four cast`` can still merge with ``forecast``; a time such as 6:30 keys as ``#6.5#``,
    and a said meridiem adds ``@am``/``@pm``.
    """
    mentions = find_numbers(tokens, lang)
    if not mentions:
        return tuple(tokens), (None,) * len(tokens)
    out: list[Token] = []
    nums: list[Number | None] = []
    i = 0
    for m in mentions:
        out.extend(tokens[i:m.start])
        nums.extend([None] * (m.start - i))
        span = tokens[m.start:m.end]
        reading = spoken(m.number, lang)
        key = sound_key(reading, lang) if reading else "#" + m.number.key + "#"
        if m.number.meridiem:
            key += "@" + m.number.meridiem
        out.append(Token(join_surfaces(span), Kind.NUM, m.number.key, key))
        nums.append(m.number)
        i = m.end
    out.extend(tokens[i:])
    nums.extend([None] * (len(tokens) - i))
    return tuple(out), tuple(nums)
