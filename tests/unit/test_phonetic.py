"""Phonetic keys: what counts as one sound for a recogniser, in Chinese and English."""

from __future__ import annotations

import pytest

from normalizer.matching.phonetic import (
    Kind,
    Token,
    confusion_cost,
    consonant_skeleton,
    english_confusable,
    english_key,
    fold_syllable,
    join_surfaces,
    language,
    mergeable,
    phonetic_string,
    similarity,
    sound_key,
    string_similarity,
    syllable_distance,
    token_distance,
    tokenize,
    tokens_confusable,
    tokens_distance,
    vowel_variant,
)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("zh-CN", "zh"), ("zh-TW", "zh"), ("zh_Hant", "zh"), ("ZH", "zh"), ("en-US", "en"),
     ("en-GB", "en"), ("en_AU", "en"), ("de-DE", "other"), ("ja-JP", "other"), ("", "other")],
)
def test_language_by_prefix(locale: str, expected: str) -> None:
    assert language(locale) == expected


# ---------------------------------------------------------------------------- Chinese


@pytest.mark.parametrize(
    ("syllable", "folded"),
    [
        ("zhang", "zan"), ("zang", "zan"), ("shi", "si"), ("si", "si"), ("chi", "ci"),
        ("neng", "len"), ("leng", "len"), ("ning", "lin"), ("lin", "lin"), ("rang", "lan"),
        ("ri", "li"), ("jiang", "jian"), ("guang", "guan"), ("long", "long"),
        ("xiong", "xiong"), ("lv", "lv"), ("er", "er"), ("a", "a"), ("ng", "ng"),
        ("hu", "hu"), ("fu", "fu"),
    ],
)
def test_fold_syllable(syllable: str, folded: str) -> None:
    assert fold_syllable(syllable) == folded


@pytest.mark.parametrize(
    ("a", "b"),
    [("zhi", "zi"), ("shu", "su"), ("chang", "cang"), ("nan", "lan"), ("nü", "lü"),
     ("fang", "fan"), ("ying", "yin"), ("deng", "den"), ("ri", "li"), ("shang", "san")],
)
def test_confusion_class_pairs_are_nearly_equal(a: str, b: str) -> None:
    assert 0.0 < syllable_distance(a, b) <= 0.1
    assert syllable_distance(a, b) == syllable_distance(b, a)


@pytest.mark.parametrize(("a", "b"), [("hu", "fu"), ("hui", "fei"), ("huang", "fang"),
                                      ("hun", "fen"), ("huo", "fo")])
def test_f_h_is_near_but_not_the_same(a: str, b: str) -> None:
    assert syllable_distance(a, b) == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("a", "b", "at_least"),
    [("chu", "shu", 0.5), ("shu", "ke", 0.9), ("kai", "guan", 0.6), ("fang", "ting", 0.5),
     ("jin", "ming", 0.5), ("jia", "jian", 0.15), ("da", "xiao", 0.8), ("shang", "xia", 0.7)],
)
def test_distinct_syllables_are_far(a: str, b: str, at_least: float) -> None:
    assert syllable_distance(a, b) >= at_least


def test_same_syllable_is_zero() -> None:
    assert syllable_distance("deng", "deng") == 0.0


def test_tokenize_zh() -> None:
    tokens = tokenize("打开WiFi，6点 50%", "zh")
    assert [t.surface for t in tokens] == ["打", "开", "wifi", "6", "点", "50", "%"]
    assert [t.kind for t in tokens] == [Kind.HAN, Kind.HAN, Kind.WORD, Kind.DIGITS, Kind.HAN,
                                        Kind.DIGITS, Kind.SYMBOL]
    assert tokens[0].raw == "da"
    assert tokens[3].key == "liu"            # digits are read in Chinese
    assert tokens[2].key == english_key("wifi")


def test_tokenize_zh_uses_phrase_aware_pinyin() -> None:
    raws = [t.raw for t in tokenize("银行行长", "zh")]
    assert raws == ["yin", "hang", "hang", "zhang"]
    assert [t.key for t in tokenize("银行行长", "zh")] == ["yin", "han", "han", "zan"]


def test_tokenize_zh_full_width() -> None:
    assert [t.surface for t in tokenize("ＷｉＦｉ６点", "zh")] == ["wifi", "6", "点"]


@pytest.mark.parametrize(
    ("a", "b"),
    [("今天天汽怎么样", "今天天气怎么样"), ("打开书房的等", "打开书房的灯"),
     ("周杰轮", "周杰伦"), ("资付宝", "支付宝"), ("北精", "北京"), ("6点", "六点")],
)
def test_zh_homophones_sound_the_same(a: str, b: str) -> None:
    assert similarity(a, b, "zh-CN") == 1.0


@pytest.mark.parametrize(
    ("a", "b"), [("打开书房的灯", "打开客厅的灯"), ("去广州", "去北京"), ("张三", "李四")]
)
def test_zh_different_words_sound_different(a: str, b: str) -> None:
    assert similarity(a, b, "zh-CN") < 0.85


def test_zh_tokens_confusable() -> None:
    def han(text: str) -> tuple[Token, ...]:
        return tokenize(text, "zh")

    assert tokens_confusable(han("等"), han("灯"))
    assert tokens_confusable(han("资"), han("支"))
    assert not tokens_confusable(han("厨"), han("书"))
    assert not tokens_confusable(han("湖"), han("福"))
    assert not tokens_confusable(han("西安"), han("先"))        # Han syllables never merge
    assert not tokens_confusable(han("灯"), ())


# ---------------------------------------------------------------------------- English


@pytest.mark.parametrize(
    ("a", "b"),
    [("weather", "wether"), ("whether", "weather"), ("of", "off"), ("lights", "lites"),
     ("night", "knight"), ("night", "nite"), ("there", "their"), ("by", "buy"),
     ("right", "write"), ("steven", "stephen"), ("four", "for"), ("fore", "for"),
     ("turning", "turnin"), ("meat", "meet"), ("mail", "male"), ("eight", "ate"),
     ("bred", "bread"), ("jon", "john"), ("phone", "fone"), ("sarah", "sara")],
)
def test_english_homophones_share_a_key(a: str, b: str) -> None:
    assert english_key(a) == english_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("fan", "phone"), ("fan", "fun"), ("dan", "don"), ("light", "lot"),
     ("kitchen", "cushion"), ("kitchen", "kitten"), ("kitchen", "chicken"), ("mom", "tom"),
     ("bed", "bad"), ("on", "off"), ("austin", "boston"), ("jason", "mason"),
     ("butter", "better"), ("butter", "eggs"), ("six", "seven"), ("home", "work"),
     ("call", "paul"), ("ten", "tin"), ("open", "close"), ("up", "down")],
)
def test_english_distinct_words_have_distinct_keys(a: str, b: str) -> None:
    assert english_key(a) != english_key(b)
    assert not english_confusable(english_key(a), english_key(b))


def test_english_key_shape() -> None:
    assert english_key("weather") == "We0eR"
    assert english_key("phone") == "FoN"
    assert english_key("O'Clock") == english_key("oclock")
    assert english_key("") == ""


@pytest.mark.parametrize(
    ("a", "b", "confusable"),
    [("light", "lights", True), ("car", "cars", True), ("bow", "boss", False),
     ("forecast", None, True), ("calendar", "calender", True), ("dan", "dana", False)],
)
def test_english_confusable(a: str, b: str | None, confusable: bool) -> None:
    key_b = english_key("four") + english_key("cast") if b is None else english_key(b)
    assert english_confusable(english_key(a), key_b) is confusable
    assert english_confusable(key_b, english_key(a)) is confusable


def _en(text: str) -> tuple[Token, ...]:
    return tokenize(text, "en")


@pytest.mark.parametrize(
    ("a", "b"),
    [("bed room", "bedroom"), ("to day", "today"), ("to night", "tonight"),
     ("four cast", "forecast"), ("some one", "someone"), ("wi fi", "wifi"),
     ("living room", "livingroom"), ("any more", "anymore")],
)
def test_split_and_merged_words_are_one_sound(a: str, b: str) -> None:
    assert tokens_confusable(_en(a), _en(b))
    assert tokens_confusable(_en(b), _en(a))
    assert tokens_distance(_en(a), _en(b)) <= 0.15
    assert similarity(a, b, "en-US") >= 0.8


@pytest.mark.parametrize(
    ("a", "b"), [("living room", "bedroom"), ("bed room", "bathroom"), ("to day", "tomorrow")]
)
def test_split_words_of_another_sound_are_not_confusable(a: str, b: str) -> None:
    assert not tokens_confusable(_en(a), _en(b))


def test_tokenize_en() -> None:
    tokens = _en("Turn OFF the 6 a.m. alarm, twenty-five o'clock")
    assert [t.surface for t in tokens] == ["turn", "off", "the", "6", "am", "alarm", "twenty",
                                           "five", "o'clock"]
    assert tokens[3].kind is Kind.DIGITS
    assert all(t.kind is Kind.WORD for t in tokens if t.surface.isalpha())


@pytest.mark.parametrize(
    ("text", "words"),
    [("what's up", ["what", "is", "up"]), ("whats up", ["what", "is", "up"]),
     ("don’t stop", ["do", "not", "stop"]), ("I'm home", ["i", "am", "home"]),
     ("it's john's", ["it", "is", "john's"]), ("its fine", ["its", "fine"])],
)
def test_contractions_are_spelled_out(text: str, words: list[str]) -> None:
    assert [t.surface for t in _en(text)] == words


def test_other_locales_tokenize_exactly() -> None:
    tokens = tokenize("Schalte das Licht ein 6", "other")
    assert [t.surface for t in tokens] == ["schalte", "das", "licht", "ein", "6"]
    assert [t.kind for t in tokens] == [Kind.EXACT] * 4 + [Kind.DIGITS]
    assert all(t.key == t.surface for t in tokens)


# ---------------------------------------------------------------------------- similarity


@pytest.mark.parametrize(
    ("locale", "a", "b"),
    [("en-US", "turn of the bed room lights", "turn off the bedroom lights"),
     ("en-US", "wether", "weather"), ("zh-CN", "打开书房的等", "打开书房的灯"),
     ("de-DE", "Hallo Welt", "hallo welt")],
)
def test_similarity_of_same_sound_is_one(locale: str, a: str, b: str) -> None:
    assert similarity(a, b, locale) == 1.0


@pytest.mark.parametrize(
    ("locale", "a", "b"),
    [("en-US", "add butter to the list", "add eggs to the list"),
     ("en-US", "open the door", "close the door"), ("zh-CN", "打开空调", "关闭空调"),
     ("en-US", "play jazz", "turn on the lights"), ("zh-CN", "今天天气", "打开灯")],
)
def test_similarity_is_below_one_and_symmetric(locale: str, a: str, b: str) -> None:
    forward = similarity(a, b, locale)
    assert 0.0 <= forward < 1.0
    assert forward == pytest.approx(similarity(b, a, locale))


def test_similarity_ranks_homophone_above_slot_change() -> None:
    asr = similarity("今天天汽怎么样", "今天的天气怎么样", "zh-CN")
    other = similarity("今天天汽怎么样", "明天的空气怎么样", "zh-CN")
    assert asr > other


def test_string_similarity_edges() -> None:
    assert string_similarity("", "") == 1.0
    assert string_similarity("abc", "") == 0.0
    assert string_similarity("abcd", "abcx") == pytest.approx(0.75)


def test_phonetic_string_and_sound_key() -> None:
    assert phonetic_string(tokenize("北京", "zh")) == "beijin"
    assert sound_key("北京", "zh") == "beijin"
    assert sound_key("bed room", "en") == sound_key("bedroom", "en")


def test_token_distance() -> None:
    a, b = tokenize("等", "zh")[0], tokenize("灯", "zh")[0]
    assert token_distance(a, b) == 0.0
    assert token_distance(a, a) == 0.0
    assert token_distance(tokenize("厨", "zh")[0], tokenize("书", "zh")[0]) >= 0.5
    assert token_distance(_en("of")[0], _en("off")[0]) < 0.1
    assert token_distance(_en("butter")[0], _en("eggs")[0]) > 0.5
    x, y = tokenize("a", "other")[0], tokenize("b", "other")[0]
    assert token_distance(x, y) == 1.0


def test_mergeable_and_join_surfaces() -> None:
    tokens = tokenize("打开wifi 6点 bed room", "zh")
    assert [mergeable(t) for t in tokens] == [False, False, True, True, False, True, True]
    assert join_surfaces(tokens) == "打开wifi 6点bed room"
    assert join_surfaces(_en("50 %")) == "50%"


@pytest.mark.parametrize(
    ("text", "words"),
    [("what'sthe weather", ["what", "is", "the", "weather"]),
     ("how'sthe traffic", ["how", "is", "the", "traffic"]),
     ("i'mhome", ["i", "am", "home"]),
     ("john's car", ["john's", "car"]),            # not a contraction: stays one word
     ("o'clock", ["o'clock"])],
)
def test_fused_contractions_are_spelt_out(text: str, words: list[str]) -> None:
    assert [t.surface for t in tokenize(text, "en")] == words


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("melk", "milk", True), ("tern", "turn", True), ("dan", "don", True),
     ("fan", "fat", False), ("kitchen", "chicken", False), ("set", "sets", False),
     ("time", "time", True)],
)
def test_vowel_variant(a: str, b: str, expected: bool) -> None:
    assert vowel_variant(english_key(a), english_key(b)) is expected


def test_consonant_skeleton() -> None:
    assert consonant_skeleton(english_key("melk")) == "MLK"
    assert consonant_skeleton(english_key("my")) == "M"
    assert consonant_skeleton(english_key("a")) == ""


@pytest.mark.parametrize(
    ("a", "b", "cost"),
    [("set", "sit", 0.25), ("set", "sat", 0.25), ("call", "cole", 0.25),
     ("play", "pray", 0.5), ("play", "prey", 0.75), ("turn", "term", 0.75),
     ("lights", "likes", 0.5), ("time", "thyme", 0.5), ("hour", "our", 0.5),
     ("stop", "stomp", 1.0), ("mom", "tom", 1.0), ("dad", "dan", 1.0), ("play", "pay", 1.0),
     ("set", "set", 0.0)],
)
def test_confusion_cost(a: str, b: str, cost: float) -> None:
    assert confusion_cost(english_key(a), english_key(b)) == cost
    assert confusion_cost(english_key(b), english_key(a)) == cost


def test_ng_before_z_is_one_nasal() -> None:
    assert english_key("songz") == english_key("songs")
