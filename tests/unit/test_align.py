"""Alignment of a transcript against a candidate, and the spans where they differ."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from normalizer.matching.align import (
    INDEL_COST,
    Edit,
    Span,
    align,
    align_range,
    diff,
    differing_spans,
)
from normalizer.matching.phonetic import Token, join_surfaces, tokenize


def _tokens(text: str) -> tuple[Token, ...]:
    chinese = any("\u4e00" <= ch <= "\u9fff" for ch in text)
    return tokenize(text, "zh" if chinese else "en")


def _spans(a_text: str, b_text: str) -> list[tuple[str, str]]:
    a, b = _tokens(a_text), _tokens(b_text)
    return [(join_surfaces(a[s.a_start:s.a_end]), join_surfaces(b[s.b_start:s.b_end]))
            for s in diff(a, b)]


def _check_cover(edits: Sequence[Edit], n: int, m: int) -> None:
    """Edits tile both sequences left to right, each move at most 2 tokens on a side."""
    i = j = 0
    for e in edits:
        assert (e.a_start, e.b_start) == (i, j)
        assert 0 <= e.a_end - e.a_start <= 2 and 0 <= e.b_end - e.b_start <= 2
        assert e.a_end - e.a_start + e.b_end - e.b_start > 0
        i, j = e.a_end, e.b_end
    assert (i, j) == (n, m)


PAIRS = [
    ("今天天汽怎么样", "今天的天气怎么样"),
    ("打开书房的等", "打开书房的灯"),
    ("打开书房的灯", "打开客厅的灯"),
    ("播放一首歌", "播放下一首歌"),
    ("turn of the bed room lights", "turn off the bedroom lights"),
    ("what's the weather to day", "what's the weather today"),
    ("wether four cast", "weather forecast"),
    ("add butter to the list", "add eggs to the list"),
    ("play some jazz", "turn on the lights"),
    ("", "打开灯"),
    ("打开灯", ""),
    ("", ""),
]


@pytest.mark.parametrize(("a_text", "b_text"), PAIRS)
def test_edits_cover_both_sequences(a_text: str, b_text: str) -> None:
    a, b = _tokens(a_text), _tokens(b_text)
    edits = align(a, b)
    _check_cover(edits, len(a), len(b))
    assert all(e.cost >= 0 for e in edits)


@pytest.mark.parametrize(
    ("a_text", "b_text", "expected"),
    [
        ("打开书房的灯", "打开书房的灯", []),
        ("打开书房的等", "打开书房的灯", [("等", "灯")]),
        ("打开书房的灯", "打开客厅的灯", [("书房", "客厅")]),
        ("打开厨房的灯", "打开书房的灯", [("厨", "书")]),
        ("今天天汽怎么样", "今天的天气怎么样", [("", "的"), ("汽", "气")]),
        ("播放一首歌", "播放下一首歌", [("", "下")]),
        ("播放上一首", "播放下一首", [("上", "下")]),
        ("打开书房的灯和空调", "打开书房的灯", [("和空调", "")]),
        ("去广州的机票", "去北京的机票", [("广州", "北京")]),
        ("turn of the bed room lights", "turn off the bedroom lights",
         [("of", "off"), ("bed room", "bedroom")]),
        ("what's the weather to day", "what's the weather today", [("to day", "today")]),
        ("what's the weather today", "what's the weather to day", [("today", "to day")]),
        ("wether four cast", "weather forecast", [("wether four cast", "weather forecast")]),
        ("add butter to the list", "add eggs to the list", [("butter", "eggs")]),
        ("turn on the tv in the living room", "turn on the tv in the bedroom",
         [("living room", "bedroom")]),
        ("set a timer for twenty minutes", "set a timer for ten minutes",
         [("twenty", "ten")]),
        ("call mom please", "call mom", [("please", "")]),
    ],
)
def test_differing_spans(a_text: str, b_text: str, expected: list[tuple[str, str]]) -> None:
    assert _spans(a_text, b_text) == expected


def test_homophone_substitution_is_free_and_one_to_one() -> None:
    a, b = _tokens("打开书房的等"), _tokens("打开书房的灯")
    [span] = diff(a, b)
    [edit] = span.edits
    assert (edit.a_end - edit.a_start, edit.b_end - edit.b_start) == (1, 1)
    assert edit.cost == 0.0


def test_homophone_is_aligned_with_its_twin_not_shifted() -> None:
    a, b = _tokens("今天天汽怎么样"), _tokens("今天的天气怎么样")
    edits = [e for e in align(a, b) if a[e.a_start:e.a_end] != b[e.b_start:e.b_end]]
    pairs = [(join_surfaces(a[e.a_start:e.a_end]), join_surfaces(b[e.b_start:e.b_end]))
             for e in edits]
    assert pairs == [("", "的"), ("汽", "气")]
    assert [e.cost for e in edits] == [INDEL_COST, 0.0]


def test_merge_is_a_two_to_one_edit() -> None:
    a, b = _tokens("the bed room"), _tokens("the bedroom")
    [span] = diff(a, b)
    [edit] = span.edits
    assert (edit.a_end - edit.a_start, edit.b_end - edit.b_start) == (2, 1)
    assert edit.cost < 0.1


def test_split_is_a_one_to_two_edit() -> None:
    a, b = _tokens("forecast"), _tokens("four cast")
    [span] = diff(a, b)
    [edit] = span.edits
    assert (edit.a_end - edit.a_start, edit.b_end - edit.b_start) == (1, 2)


def test_han_characters_never_merge() -> None:
    a, b = _tokens("西安"), _tokens("先")
    edits = align(a, b)
    assert all(e.a_end - e.a_start <= 1 and e.b_end - e.b_start <= 1 for e in edits)


def test_substitution_costs_follow_phonetic_distance() -> None:
    near = align(_tokens("书"), _tokens("苏"))            # shu/su: confusion class
    far = align(_tokens("书"), _tokens("客"))             # shu/ke
    assert near[0].cost < 0.2 < far[0].cost <= 1.0


def test_empty_sides() -> None:
    b = _tokens("打开灯")
    assert align((), b) == [Edit(0, 0, j, j + 1, INDEL_COST) for j in range(3)]
    assert diff((), ()) == []
    [span] = diff((), b)
    assert (span.a_start, span.a_end, span.b_start, span.b_end) == (0, 0, 0, 3)


def test_align_range_keeps_absolute_indices() -> None:
    a, b = _tokens("打开书房的灯"), _tokens("打开客厅的灯")
    edits = align_range(a, b, 2, 4, 2, 4)
    assert [(e.a_start, e.b_start) for e in edits] == [(2, 2), (3, 3)]
    spans = differing_spans(a, b, edits)
    assert spans == [Span(2, 4, 2, 4, tuple(edits))]


def test_consecutive_differences_form_one_span() -> None:
    a, b = _tokens("a b c d e"), _tokens("a x y d e")
    [span] = diff(a, b)
    assert (span.a_start, span.a_end, span.b_start, span.b_end) == (1, 3, 1, 3)
    assert len(span.edits) == 2


def test_separate_differences_form_separate_spans() -> None:
    spans = _spans("turn on the red light in the kitchen", "turn on the blue light in the hall")
    assert spans == [("red", "blue"), ("kitchen", "hall")]
