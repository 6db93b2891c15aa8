"""Alignment of a transcript against a candidate, and the spans where they differ.

A weighted Levenshtein (Needleman-Wunsch) alignment over tokens (phonetic.py): Chinese at
the syllable (character) level, English at the word level. The substitution cost is the
phonetic distance of the two tokens (``phonetic.token_distance``: 0 for a homophone, 0.1
for a confusion-class pair such as zh/z, up to 1 for unrelated sounds), so a homophone
substitution is the cheapest way to align and lines up where the recogniser made it.
Insertion and deletion cost 1. For Latin words two extra moves handle the recogniser's
spaces: a 2-1 merge (``bed room`` -> ``bedroom``) and a 1-2 split, costed by
``phonetic.sound_distance`` of the concatenated keys (0 for the same letters) plus a small
penalty so that a 1-1 match wins a tie.

The common prefix and suffix (identical surfaces) are stripped before the dynamic
programme, which therefore runs on the few tokens that differ: O(n*m) on a handful of
tokens for the near-duplicates the guard mostly sees.

``align`` returns edits that cover both sequences left to right; ``differing_spans``
groups consecutive edits whose surfaces differ into ``Span`` objects (transcript range,
candidate range, and the edits inside), which the guard judges one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from normalizer.matching.phonetic import (
    Kind,
    Token,
    group_sound,
    sound_distance,
    syllable_distance,
    token_distance,
)

__all__ = ["INDEL_COST", "MERGE_PENALTY", "Edit", "Span", "align", "diff", "differing_spans"]

INDEL_COST = 1.0
MERGE_PENALTY = 0.05

# Back-pointer codes: how many tokens of a and of b the move consumes.
_MOVES = ((1, 1), (1, 0), (0, 1), (2, 1), (1, 2))


@dataclass(frozen=True, slots=True)
class Edit:
    """One alignment move: ``a[a_start:a_end]`` against ``b[b_start:b_end]``."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    cost: float


@dataclass(frozen=True, slots=True)
class Span:
    """A maximal run of differing edits: ``a[a_start:a_end]`` vs ``b[b_start:b_end]``."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    edits: tuple[Edit, ...]


def align(a: Sequence[Token], b: Sequence[Token]) -> list[Edit]:
    """Minimum-cost alignment of ``a`` (transcript) against ``b`` (candidate)."""
    return align_range(a, b, 0, len(a), 0, len(b))


def align_range(
    a: Sequence[Token], b: Sequence[Token], a0: int, a1: int, b0: int, b1: int
) -> list[Edit]:
    """Alignment of ``a[a0:a1]`` against ``b[b0:b1]`` (indices stay those of a and b)."""
    p = 0
    while a0 + p < a1 and b0 + p < b1 and a[a0 + p].surface == b[b0 + p].surface:
        p += 1
    s = 0
    while s < a1 - a0 - p and s < b1 - b0 - p and a[a1 - 1 - s].surface == b[b1 - 1 - s].surface:
        s += 1
    edits = [Edit(a0 + k, a0 + k + 1, b0 + k, b0 + k + 1, 0.0) for k in range(p)]
    edits.extend(_dp(a, b, a0 + p, a1 - s, b0 + p, b1 - s))
    edits.extend(
        Edit(a1 - s + k, a1 - s + k + 1, b1 - s + k, b1 - s + k + 1, 0.0) for k in range(s)
    )
    return edits


def _dp(a: Sequence[Token], b: Sequence[Token], a0: int, a1: int, b0: int, b1: int) -> list[Edit]:
    big_n, big_m = a1 - a0, b1 - b0
    if big_n == 0 or big_m == 0:
        if big_n:
            return [Edit(i, i + 1, b0, b0, INDEL_COST) for i in range(a0, a1)]
        return [Edit(a0, a0, j, j + 1, INDEL_COST) for j in range(b0, b1)]
    sa, sb = a[a0:a1], b[b0:b1]
    # Sounds of single Latin tokens and of adjacent pairs, for the split/merge moves.
    one_a = [group_sound(sa[i:i + 1]) for i in range(big_n)]
    one_b = [group_sound(sb[j:j + 1]) for j in range(big_m)]
    two_a = [None, *(group_sound(sa[i - 1:i + 1]) for i in range(1, big_n))]
    two_b = [None, *(group_sound(sb[j - 1:j + 1]) for j in range(1, big_m))]
    han_a = [t.raw if t.kind is Kind.HAN else None for t in sa]
    han_b = [t.raw if t.kind is Kind.HAN else None for t in sb]
    width = big_m + 1
    cost = [0.0] * ((big_n + 1) * width)
    back = [0] * ((big_n + 1) * width)
    for j in range(1, width):
        cost[j] = j * INDEL_COST
        back[j] = 2
    for i in range(1, big_n + 1):
        row, prev = i * width, (i - 1) * width
        cost[row] = i * INDEL_COST
        back[row] = 1
        ta, ra, oa, pa = sa[i - 1], han_a[i - 1], one_a[i - 1], two_a[i - 1]
        for j in range(1, width):
            tb, rb = sb[j - 1], han_b[j - 1]
            if ta.surface == tb.surface:
                d = 0.0
            elif ra is not None and rb is not None:
                d = syllable_distance(ra, rb)
            else:
                d = token_distance(ta, tb)
            best = cost[prev + j - 1] + d
            move = 0
            c = cost[prev + j] + INDEL_COST
            if c < best:
                best, move = c, 1
            c = cost[row + j - 1] + INDEL_COST
            if c < best:
                best, move = c, 2
            ob = one_b[j - 1]
            if pa is not None and ob is not None:
                c = cost[prev - width + j - 1] + MERGE_PENALTY + sound_distance(pa, ob)
                if c < best:
                    best, move = c, 3
            pb = two_b[j - 1]
            if oa is not None and pb is not None:
                c = cost[prev + j - 2] + MERGE_PENALTY + sound_distance(oa, pb)
                if c < best:
                    best, move = c, 4
            cost[row + j] = best
            back[row + j] = move
    edits: list[Edit] = []
    i, j = big_n, big_m
    while i or j:
        di, dj = _MOVES[back[i * width + j]]
        step = cost[i * width + j] - cost[(i - di) * width + (j - dj)]
        edits.append(Edit(a0 + i - di, a0 + i, b0 + j - dj, b0 + j, step))
        i, j = i - di, j - dj
    edits.reverse()
    return edits


def _same(a: Sequence[Token], b: Sequence[Token], e: Edit) -> bool:
    return (e.a_end - e.a_start == 1 and e.b_end - e.b_start == 1
            and a[e.a_start].surface == b[e.b_start].surface)


def differing_spans(a: Sequence[Token], b: Sequence[Token], edits: Sequence[Edit]) -> list[Span]:
    """Group consecutive edits whose surfaces differ into spans."""
    spans: list[Span] = []
    run: list[Edit] = []
    for e in (*edits, None):
        if e is not None and not _same(a, b, e):
            run.append(e)
            continue
        if run:
            spans.append(Span(run[0].a_start, run[-1].a_end, run[0].b_start, run[-1].b_end,
                              tuple(run)))
            run = []
    return spans


def diff(a: Sequence[Token], b: Sequence[Token]) -> list[Span]:
    """The spans where ``a`` and ``b`` differ, after aligning them."""
    return differing_spans(a, b, align(a, b))
