"""The wording features: how much of a transcript is its candidate's own rare words."""

from __future__ import annotations

import pytest

from normalizer.matching.features import Topics
from normalizer.matching.lang import for_locale
from normalizer.matching.utterance import prepare

CATALOGS = {
    "en-US": [["what's the weather today", "how's the weather today"],
              ["turn up the volume", "make it louder"],
              ["turn on the lights", "lights on"]],
    "zh-CN": [["今天天气怎么样", "今天天气如何"], ["把音量调大一点", "声音大一点"],
              ["打开灯", "开灯"]],
}


def topics(locale: str) -> Topics:
    language = for_locale(locale)
    return Topics([(q, prepare(t, language)) for q, texts in enumerate(CATALOGS[locale])
                   for t in texts])


@pytest.mark.parametrize(("locale", "paraphrase", "query"), [
    ("en-US", "will i need an umbrella today the weather looks bad", 0),
    ("en-US", "can you turn the volume up", 1),
    ("zh-CN", "今儿天气咋样", 0),
    ("zh-CN", "音量大点儿", 1),
])
def test_a_paraphrase_keeps_its_querys_rare_words(locale: str, paraphrase: str,
                                                  query: int) -> None:
    t = topics(locale)
    u = prepare(paraphrase, locale)
    mine, foreign = t.shares(u, query)
    others = [t.shares(u, q)[0] for q in range(len(CATALOGS[locale])) if q != query]
    assert mine > max(others)
    assert 0.0 <= foreign < mine <= 1.0


def test_homophones_count_as_the_word_and_unknown_words_weigh_most() -> None:
    t = topics("zh-CN")
    assert t.shares(prepare("今天天汽怎么样", "zh-CN"), 0) == t.shares(
        prepare("今天天气怎么样", "zh-CN"), 0)
    mine, foreign = t.shares(prepare("珠穆朗玛峰有多高", "zh-CN"), 0)
    assert mine < 0.2 and foreign < 0.3          # nearly all of it is no query's


def test_words_of_another_query_are_foreign() -> None:
    t = topics("en-US")
    mine, foreign = t.shares(prepare("turn on the lights and the weather", "en-US"), 1)
    assert foreign > mine
    assert t.shares(prepare("", "en-US"), 0) == (0.0, 0.0)
