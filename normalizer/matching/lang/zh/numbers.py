"""Chinese numbers: numerals, digits, clock times and percentages read as values.

* Chinese numerals ``零〇一二两俩三四五六七八九十百千万亿``, positional (``二十五``,
  ``一百零五``, colloquial ``一百二`` = 120, ``两千五`` = 2500) or digit by digit
  (``三零五`` = 305), ``3万`` = 30000, ``百分之五十`` = 50%;
* clock times: ``六点`` / ``6点`` / ``六点钟`` = 6, ``六点半`` = 6.5, ``六点十五(分)`` = 6.25,
  ``六点零五`` = 6:05, but ``一点五`` = 1.5 (a decimal: one digit after 点, no 分);
  a meridiem said before the time (早上, 下午, 晚上 ... or a homophone: 早善) belongs to it.

``一`` is often not a number: ``一下``, ``一起``, ``一样``, ``一直``, ``统一``, ``一点`` after
a comparative (``大一点`` = a bit bigger), ``万一``/``千万`` (in case / by all means), ``十分``
not followed by ``钟`` (= very): these stay words.
"""

from __future__ import annotations

from collections.abc import Sequence

from normalizer.matching.lang.zh.pinyin import fold_syllable, pinyin_run
from normalizer.matching.numbers import Mention, Number, digits_value
from normalizer.matching.tokens import Kind, Token

__all__ = ["ZH_DIGIT_CHARS", "find_numbers", "reading"]

# Chinese reading of the ten digits.
ZH_DIGIT_CHARS = "零一二三四五六七八九"

_ZH_DIGITS = {ch: i for i, ch in enumerate(ZH_DIGIT_CHARS)} | {"〇": 0, "两": 2, "俩": 2}
_ZH_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
_ZH_NUMERALS = frozenset(_ZH_DIGITS) | frozenset(_ZH_SMALL_UNITS) | frozenset(_ZH_BIG_UNITS)
# 一 + one of these is a word, not the number one: 一下 一起 一样 一直 一定 一些 一般 ...
_ZH_YI_WORD_FOLLOWERS = frozenset("下起样直定些般切旦共同致向会")
# Classifiers: 一 before one of them is the article "a" (设一个闹钟, 放一首歌, 提醒我一声).
_ZH_CLASSIFIERS = frozenset("个首条张件位只部台份声次遍句")
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
    tuple(fold_syllable(s) for s in pinyin_run(word)): meridiem
    for word, meridiem in _ZH_MERIDIEM.items()
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
        if nxt in _ZH_CLASSIFIERS and not _zh_measure(surfaces, j):
            return True              # 一个闹钟, 一首歌: "a", not the number (一个小时 is)
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
        value, is_time = digits_value(tok.surface)
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


def find_numbers(tokens: Sequence[Token]) -> list[Mention]:
    """The numbers of a Chinese token sequence, left to right, non-overlapping."""
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
        unit = None
        if not is_time and not percent:
            measure = _zh_measure(surfaces, j)
            if measure is not None:
                half, unit, j = measure
                value += half
        mentions.append(Mention(start, j, Number(value, meridiem, is_time, percent, unit)))
        i = j
    return _with_bare_halves(surfaces, mentions)


# Units after a number (numbers.UNITS); 个 may stand between (两个小时), 半 before the unit
# adds a half (一个半小时). 分 alone after a number is a clock minute (三点十分), handled
# with the time.
_ZH_MEASURES = (("秒钟", "second"), ("秒", "second"), ("分钟", "minute"), ("小时", "hour"),
                ("钟头", "hour"), ("天", "day"), ("个星期", "week"), ("星期", "week"),
                ("周", "week"), ("度", "degree"))


def _zh_measure(surfaces: Sequence[str], j: int) -> tuple[float, str, int] | None:
    """(0.5 if 半 is said, unit, end) of a unit after a number at ``j``, else None."""
    k = j
    if k < len(surfaces) and surfaces[k] == "个":
        k += 1
    half = 0.0
    if k < len(surfaces) and surfaces[k] == "半":
        half, k = 0.5, k + 1
    rest = "".join(surfaces[k:k + 3])
    for word, unit in _ZH_MEASURES:
        if rest.startswith(word) and not (word == "周" and k == j):
            return half, unit, k + len(word)
    return None


def _with_bare_halves(surfaces: Sequence[str], mentions: list[Mention]) -> list[Mention]:
    """半小时 / 半个小时 / 半个钟头 / 半分钟: half a unit, said without a numeral."""
    taken = {k for m in mentions for k in range(m.start, m.end)}
    out = list(mentions)
    for k, ch in enumerate(surfaces):
        if ch != "半" or k in taken:
            continue
        measure = _zh_measure(surfaces, k + 1) if k + 1 < len(surfaces) else None
        if measure is not None and measure[1] in ("minute", "hour"):
            out.append(Mention(k, measure[2], Number(0.5, unit=measure[1])))
    return sorted(out, key=lambda m: m.start)


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
    if j + 1 < n and surfaces[j + 1] == "刻" and surfaces[j] in ("一", "三"):
        return hour + (0.25 if surfaces[j] == "一" else 0.75), True, j + 2   # 六点一刻
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


def reading(n: int) -> str:
    """How a whole number is read aloud: ``reading(25) == \"二十五\"``."""
    if n >= 10_000:
        high, low = divmod(n, 10_000)
        text = reading(high) + "万"
        if low:
            text += ("零" if low < 1000 else "") + reading(low)
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

