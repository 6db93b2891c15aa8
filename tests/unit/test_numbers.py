"""Numbers: digits, English words, Chinese numerals and clock times read as values."""

from __future__ import annotations

import pytest

from normalizer.matching.lang import for_locale
from normalizer.matching.lang.en import numbers as en_numbers
from normalizer.matching.lang.zh import numbers as zh_numbers
from normalizer.matching.numbers import Mention, Number, collapse
from normalizer.matching.tokens import Kind, Token
from normalizer.matching.utterance import prepare

ZH = "zh-CN"
EN = "en-US"
LOCALE = {"zh": ZH, "en": EN}


def extract_numbers(text: str, locale: str) -> list[Number]:
    return list(prepare(text, locale).numbers)


def tokenize(text: str, lang: str) -> tuple[Token, ...]:
    return for_locale(LOCALE[lang]).tokenize(text)


def find_numbers(tokens: tuple[Token, ...], lang: str) -> list[Mention]:
    return for_locale(LOCALE[lang]).find_numbers(tokens)


def collapse_numbers(tokens: tuple[Token, ...], lang: str
                     ) -> tuple[tuple[Token, ...], tuple[Number | None, ...]]:
    language = for_locale(LOCALE[lang])
    return collapse(tokens, language.find_numbers(tokens), language.number_sound)


def spoken(number: Number, lang: str) -> str | None:
    if lang not in LOCALE or number.value != int(number.value):
        return None
    reading = en_numbers.reading if lang == "en" else zh_numbers.reading
    return reading(int(number.value))


def _values(text: str, locale: str) -> list[str]:
    return [str(n) for n in extract_numbers(text, locale)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("六点叫我", ["6"]),
        ("6点叫我", ["6"]),
        ("六点钟", ["6"]),
        ("早上六点", ["6 am"]),
        ("晚上6点半", ["6:30 pm"]),
        ("下午三点十五分", ["3:15 pm"]),
        ("六点十五", ["6:15"]),
        ("三点零五", ["3:05"]),
        ("一点五", ["1.5"]),
        ("二十分钟", ["20 minutes"]),
        ("20分钟", ["20 minutes"]),
        ("十五", ["15"]),
        ("十", ["10"]),
        ("两个", ["2"]),
        ("俩人", ["2"]),
        ("二十五", ["25"]),
        ("一百二十", ["120"]),
        ("一百二", ["120"]),
        ("一百零五", ["105"]),
        ("两千五", ["2500"]),
        ("两千零五", ["2005"]),
        ("三万五", ["35000"]),
        ("五十万", ["500000"]),
        ("三零五房间", ["305"]),
        ("二〇二四年", ["2024"]),
        ("3万", ["30000"]),
        ("百分之五十", ["50%"]),
        ("50%", ["50%"]),
        ("第三集", ["3"]),
        ("6:30", ["6:30"]),
        ("调到二十六度", ["26 degrees"]),
        ("定一个五分钟和一个十分钟的闹钟", ["5 minutes", "10 minutes"]),   # 一个: "a"
        ("两个闹钟", ["2"]),
        ("一个半小时", ["1.5 hours"]),
        ("半个小时后提醒我", ["0.5 hours"]),
        ("三十秒", ["30 seconds"]),
        ("六点一刻", ["6:15"]),
    ],
)
def test_zh_numbers(text: str, expected: list[str]) -> None:
    assert _values(text, ZH) == expected


@pytest.mark.parametrize(
    "text",
    ["等一下", "我们一起去", "一样的", "一直走", "大一点", "快一点点", "十分感谢", "万一下雨",
     "千万别忘了", "统一", "唯一的", "打开灯"],
)
def test_zh_words_with_numerals_are_not_numbers(text: str) -> None:
    assert extract_numbers(text, ZH) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("six", ["6"]),
        ("6", ["6"]),
        ("6 am", ["6 am"]),
        ("6am", ["6 am"]),
        ("6 a.m.", ["6 am"]),
        ("six o'clock", ["6"]),
        ("six in the morning", ["6 am"]),
        ("seven in the evening", ["7 pm"]),
        ("eleven at night", ["11 pm"]),
        ("six thirty pm", ["6:30 pm"]),
        ("6:30", ["6:30"]),
        ("twenty minutes", ["20 minutes"]),
        ("twenty-five", ["25"]),
        ("twenty five", ["25"]),
        ("ninety nine", ["99"]),
        ("fifteen", ["15"]),
        ("fifty", ["50"]),
        ("one hundred and five", ["105"]),
        ("a hundred", ["100"]),
        ("two thousand twenty four", ["2024"]),
        ("three thousand", ["3000"]),
        ("a dozen eggs", ["12"]),
        ("two dozen eggs", ["24"]),
        ("1,000", ["1000"]),
        ("2.5", ["2.5"]),
        ("the 1st song", ["1"]),
        ("the third song", ["3"]),
        ("twenty first", ["21"]),
        ("fifty percent", ["50%"]),
        ("50%", ["50%"]),
        ("fifteen fifty", ["15", "50"]),
        ("six seven", ["6", "7"]),
        ("set a timer for ten minutes and another for five", ["10 minutes", "5"]),
        ("an hour and a half", ["1.5 hours"]),
        ("one and a half hours", ["1.5 hours"]),
        ("half an hour", ["0.5 hours"]),
        ("a 5 minute timer", ["5 minutes"]),
        ("half past six", ["6:30"]),
        ("quarter to seven", ["6:45"]),
        ("alarm at six thirty", ["6:30"]),
        ("six a m", ["6 am"]),
    ],
)
def test_en_numbers(text: str, expected: list[str]) -> None:
    assert _values(text, EN) == expected


@pytest.mark.parametrize(
    "text",
    ["set a timer", "wait a second", "someone", "turn on the lights", "and", "to the moon",
     "a lot of"],
)
def test_en_text_without_numbers(text: str) -> None:
    assert extract_numbers(text, EN) == []


@pytest.mark.parametrize(
    ("a", "locale_a", "b", "locale_b"),
    [
        ("六点", ZH, "6点", ZH),
        ("六点", ZH, "six", EN),
        ("six", EN, "6", EN),
        ("6点", ZH, "6", EN),
        ("二十分钟", ZH, "20分钟", ZH),
        ("二十分钟", ZH, "twenty minutes", EN),
        ("两个", ZH, "2个", ZH),
        ("早上六点", ZH, "六点", ZH),                 # meridiem on one side only
        ("晚上六点", ZH, "18点", ZH),
        ("six pm", EN, "18:00", EN),
        ("6 am", EN, "six in the morning", EN),
        ("百分之五十", ZH, "fifty percent", EN),
        ("百分之五十", ZH, "50", ZH),                 # percent said on one side only
        ("六点半", ZH, "6:30", EN),
        ("half an hour", EN, "thirty minutes", EN),         # one duration in two units
        ("半小时", ZH, "thirty minutes", EN),
        ("an hour and a half", EN, "九十分钟", ZH),
        ("twenty minutes", EN, "20", EN),                   # a unit said on one side only
    ],
)
def test_same_number_in_any_form(a: str, locale_a: str, b: str, locale_b: str) -> None:
    [x] = extract_numbers(a, locale_a)
    [y] = extract_numbers(b, locale_b)
    assert x.same_as(y)
    assert y.same_as(x)


@pytest.mark.parametrize(
    ("a", "locale_a", "b", "locale_b"),
    [
        ("thirty seconds", EN, "thirty minutes", EN),        # units count when both say one
        ("五点", ZH, "五分钟", ZH),                            # a time is no duration
        ("five a m", EN, "five minutes", EN),
        ("半小时", ZH, "三十秒", ZH),
        ("早上六点", ZH, "晚上六点", ZH),
        ("six am", EN, "six pm", EN),
        ("早上六点", ZH, "18点", ZH),
        ("fifteen", EN, "fifty", EN),
        ("十五", ZH, "五十", ZH),
        ("六点", ZH, "七点", ZH),
        ("六点", ZH, "六点半", ZH),
        ("twenty", EN, "ten", EN),
        ("6点", ZH, "18点", ZH),
    ],
)
def test_different_numbers(a: str, locale_a: str, b: str, locale_b: str) -> None:
    [x] = extract_numbers(a, locale_a)
    [y] = extract_numbers(b, locale_b)
    assert not x.same_as(y)
    assert not y.same_as(x)


def test_number_fields_and_text() -> None:
    [n] = extract_numbers("晚上6点半", ZH)
    assert n == Number(6.5, meridiem="pm", time=True)
    assert n.hour24 == 18.5
    assert n.key == "18.5"
    assert str(n) == "6:30 pm"
    assert str(Number(50, percent=True)) == "50%"
    assert str(Number(2.5)) == "2.5"
    assert Number(6).key == "6"


def test_other_locales_read_digits_only() -> None:
    assert _values("Wecker um 6 Uhr, sechs", "de-DE") == ["6"]


def test_mentions_cover_meridiem_words() -> None:
    tokens = tokenize("明天早上六点叫我", "zh")
    [m] = find_numbers(tokens, "zh")
    assert "".join(t.surface for t in tokens[m.start:m.end]) == "早上六点"
    tokens = tokenize("wake me at six in the morning please", "en")
    [m] = find_numbers(tokens, "en")
    assert [t.surface for t in tokens[m.start:m.end]] == ["six", "in", "the", "morning"]


def test_collapse_numbers_en() -> None:
    tokens, numbers = collapse_numbers(tokenize("set a timer for twenty five minutes", "en"), "en")
    assert [t.surface for t in tokens] == ["set", "a", "timer", "for", "twenty five minutes"]
    assert tokens[4].kind is Kind.NUM
    assert tokens[4].raw == "twenty five"          # the number as read aloud
    assert numbers[4] == Number(25, unit="minute")
    assert [n is None for n in numbers] == [True, True, True, True, False]


def test_collapse_numbers_keys_by_reading() -> None:
    digits, _ = collapse_numbers(tokenize("20分钟", "zh"), "zh")
    words, _ = collapse_numbers(tokenize("二十分钟", "zh"), "zh")
    assert digits[0].key == words[0].key
    en_digits, _ = collapse_numbers(tokenize("6", "en"), "en")
    en_words, _ = collapse_numbers(tokenize("six", "en"), "en")
    assert en_digits[0].key == en_words[0].key
    am, _ = collapse_numbers(tokenize("six am", "en"), "en")
    assert am[0].key != en_words[0].key


def test_collapse_without_numbers_is_identity() -> None:
    tokens = tokenize("打开客厅的灯", "zh")
    collapsed, numbers = collapse_numbers(tokens, "zh")
    assert collapsed == tokens
    assert numbers == (None,) * len(tokens)


@pytest.mark.parametrize(
    ("value", "en", "zh"),
    [(0, "zero", "零"), (7, "seven", "七"), (10, "ten", "十"), (15, "fifteen", "十五"),
     (20, "twenty", "二十"), (25, "twenty five", "二十五"), (105, "one hundred five", "一百零五"),
     (120, "one hundred twenty", "一百二十"), (2024, "two thousand twenty four", "二千零二十四"),
     (35000, "thirty five thousand", "三万五千")],
)
def test_spoken(value: int, en: str, zh: str) -> None:
    assert spoken(Number(value), "en") == en
    assert spoken(Number(value), "zh") == zh


def test_spoken_is_none_for_fractions_and_other_locales() -> None:
    assert spoken(Number(6.5), "en") is None
    assert spoken(Number(6), "other") is None


@pytest.mark.parametrize("value", [0, 1, 2, 9, 10, 11, 19, 20, 21, 99, 100, 101, 110, 999, 1000,
                                   1001, 1010, 1100, 2024, 9999, 10000, 10001, 12345, 99999])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_reading_aloud_round_trips(value: int, lang: str) -> None:
    text = spoken(Number(value), lang)
    assert text is not None
    locale = "en-US" if lang == "en" else "zh-CN"
    assert [n.value for n in extract_numbers(text, locale)] == [value]


@pytest.mark.parametrize("text", ["开一夏卧室的灯", "看一吓我设的闹钟", "等一下午"])
def test_zh_yi_before_a_xia_syllable_is_the_softener(text: str) -> None:
    assert extract_numbers(text, "zh-CN") == []


def test_zh_yi_before_other_syllables_is_still_one() -> None:
    assert extract_numbers("播放第一集", "zh-CN") == [Number(1)]
    assert extract_numbers("播放一首歌", "zh-CN") == []          # 一首: the article "a"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("早善八点叫我", Number(8, "am", time=True)),       # homophone of 早上
     ("挽丧8点提醒我", Number(8, "pm", time=True)),       # homophone of 晚上
     ("早上八点叫我", Number(8, "am", time=True))],
)
def test_zh_meridiem_by_sound(text: str, expected: Number) -> None:
    assert extract_numbers(text, "zh-CN") == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("set alarm for six thirty in morning", Number(6.5, "am", time=True)),
     ("set an alarm for seven in the mourning", Number(7, "am", time=True)),
     ("wake me at seven in da morning", Number(7, "am", time=True)),
     ("seven in the evening", Number(7, "pm", time=True))],
)
def test_en_meridiem_without_article_or_by_sound(text: str, expected: Number) -> None:
    assert extract_numbers(text, "en-US") == [expected]


def test_en_in_without_a_part_of_the_day_is_no_meridiem() -> None:
    assert extract_numbers("remind me in 5 minutes", "en-US") == [Number(5, unit="minute")]
    assert extract_numbers("seven in the kitchen", "en-US") == [Number(7)]
