"""Slot roles derived from a catalog: contrasts, groups, own values, where values go."""

from __future__ import annotations

import pytest

from normalizer.matching.guard import judge
from normalizer.matching.lang import for_locale
from normalizer.matching.slots import EMPTY, SlotIndex
from normalizer.matching.utterance import prepare

ZH_CATALOG = {
    "lights.kitchen.on": ["打开厨房的灯", "厨房开灯"],
    "lights.kitchen.off": ["关闭厨房的灯", "厨房关灯"],
    "lights.bedroom.on": ["打开卧室的灯", "卧室开灯"],
    "lights.bedroom.off": ["关闭卧室的灯", "卧室关灯"],
    "lights.study.on": ["打开书房的灯", "书房开灯"],
    "lights.study.off": ["关闭书房的灯", "书房关灯"],
    "lights.on": ["开灯", "打开灯"],
    "lights.off": ["关灯", "关闭灯"],
    "weather.today": ["今天天气怎么样", "今天天气如何"],
    "weather.tomorrow": ["明天天气怎么样", "明天天气如何"],
    "weather.beijing.today": ["北京今天天气怎么样", "北京今天天气如何"],
    "weather.shanghai.today": ["上海今天天气怎么样", "上海今天天气如何"],
    "weather.guangzhou.today": ["广州今天天气怎么样", "广州今天天气如何"],
    "call.mom": ["给妈妈打电话", "打电话给妈妈"],
    "call.dad": ["给爸爸打电话", "打电话给爸爸"],
    "shopping.add.milk": ["把牛奶加到购物清单", "购物清单里加上牛奶"],
}


def index_of(catalog: dict[str, list[str]], locale: str,
             declared: tuple[tuple[str, list[str]], ...] = ()) -> tuple[SlotIndex, list[str]]:
    language = for_locale(locale)
    ids = list(catalog)
    rows = [(q, prepare(text, language)) for q, qid in enumerate(ids) for text in catalog[qid]]
    return SlotIndex.derive(rows, language, [
        (name, [prepare(v, language) for v in values]) for name, values in declared]), ids


def groups_by_values(index: SlotIndex) -> dict[frozenset[str], frozenset[str]]:
    """Each derived group's catalog values -> its hard values."""
    return {frozenset("".join(v) for v in g.catalog): frozenset("".join(v) for v in g.hard)
            for g in index.groups if g.name not in ("antonym",)}


def test_groups_the_slot_lexicon_confirms_are_hard() -> None:
    index, _ = index_of(ZH_CATALOG, "zh-CN")
    groups = groups_by_values(index)
    for values in ({"厨房", "卧室", "书房"}, {"北京", "上海", "广州"}, {"妈妈", "爸爸"},
                   {"今天", "明天"}):
        assert set(values) <= groups[frozenset(values)], values      # rooms, cities ...
    assert groups[frozenset({"开", "关"})] == frozenset()              # no slot role: soft
    # single-character differences grow to the words they always stand in (书房, not 书)
    assert not any("书" in values for values in groups)
    # a confirmed group takes in its role's lexicon, as values a transcript may say
    people = next(g for g in index.groups if ("妈", "妈") in g.catalog)
    assert ("奶", "奶") in people.values and ("奶", "奶") not in people.catalog


def test_wording_of_one_query_is_no_slot() -> None:
    index, _ = index_of(ZH_CATALOG, "zh-CN")
    values = {"".join(v) for g in index.groups for v in g.values}
    # 怎么样 / 如何 only ever differ between texts of the same query
    assert "怎么样" not in values and "如何" not in values


def test_a_query_that_names_no_value_owns_the_empty_value_and_its_place() -> None:
    index, ids = index_of(ZH_CATALOG, "zh-CN")
    rooms = next(g.id for g in index.groups if ("厨", "房") in g.values)
    lights_on = ids.index("lights.on")
    assert index.own[lights_on][rooms] == frozenset({EMPTY})
    assert index.own[ids.index("lights.kitchen.on")][rooms] == frozenset({("厨", "房")})
    # "开灯" (row 12) holds a room before 开 (厨房开灯), "打开灯" between 打开 and 灯
    row_of = {t: r for r, t in enumerate(t for q in ZH_CATALOG.values() for t in q)}
    assert (0, rooms) in index.empty_cuts[row_of["开灯"]]
    assert (2, rooms) in index.empty_cuts[row_of["打开灯"]]


def test_values_are_heard_by_words_by_sound_and_by_equivalent() -> None:
    index, _ = index_of(ZH_CATALOG, "zh-CN")
    heard = index.heard(prepare("打开课厅和苏房的灯", "zh-CN"))
    assert (("书", "房"), False) in {(h.value, h.exact) for h in heard}   # 苏房 sounds 书房
    exact = index.heard(prepare("打开书房的灯", "zh-CN"))
    assert (("书", "房"), True) in {(h.value, h.exact) for h in exact}


def test_declared_slots_are_hard_and_owned_by_containment() -> None:
    catalog = {"play.jazz": ["播放爵士乐"], "play.rock": ["播放摇滚乐"]}
    index, ids = index_of(catalog, "zh-CN", (("genre", ["爵士", "摇滚", "古典"]),))
    genre = next(g for g in index.groups if g.name == "genre")
    assert genre.hard
    assert index.own[ids.index("play.jazz")][genre.id] == frozenset({("爵", "士")})


@pytest.mark.parametrize(("locale", "catalog", "transcript", "allowed"), [
    ("zh-CN", {"weather.tomorrow": ["明天天气怎么样"], "weather.there": ["目的地天气怎么样"]},
     "后天天气怎么样", False),
    ("zh-CN", {"weather.tomorrow": ["明天天气怎么样"], "weather.there": ["目的地天气怎么样"]},
     "明儿天气咋样", True),
    ("en-US", {"nav.pharmacy": ["navigate to the nearest pharmacy"],
               "nav.home": ["navigate home"]}, "navigate to the nearest bakery", False),
])
def test_a_lexicon_role_the_catalog_names_without_a_contrast_is_a_slot(
        locale: str, catalog: dict[str, list[str]], transcript: str, allowed: bool) -> None:
    """One day in the whole catalog contrasts with nothing, yet another day is another
    request; the query's own value said in other words is not."""
    index, _ = index_of(catalog, locale)
    language = for_locale(locale)
    row = prepare(next(iter(catalog.values()))[0], language)
    t = prepare(transcript, language)
    assert judge(t, index.heard(t), row, 0, 0, index).allowed is allowed
