"""The guard: would rewriting the transcript to this candidate change what is asked?

Embeddings cannot tell an ASR error or a paraphrase from a different request: "打开书房的灯"
and "打开客厅的灯" are as close as "打开书房的等" and "打开书房的灯". The guard does not ask
whether every difference is noise - no catalog lists every wording, and normalizing other
words to the standard phrasing is the point of the service - but whether a difference
touches what the request is *about*. It blocks a rewrite only on evidence:

1. **numbers**: the transcript's numbers and the candidate's must be the same values, one
   to one (六点 = 6点 = six = 6; 六点 != 七点; "five minutes" != "twenty five minutes");
2. **negation**: a negation cue (不, 没, 别, not, never, don't ...) said on one side only
   ("别关灯" is not "关灯"); A-not-A questions (冷不冷, 有没有) ask, they do not deny;
3. **slots** (slots.py): in every slot group the candidate's query takes part in,
   the transcript must not say another value ("bedroom" for "kitchen", 关 for 开, 山西 for
   陕西) and, in a hard group (rooms, people, days ...), must say the query's own value -
   by its words, an equivalent (明儿 = 明天) or its sound (课厅 = 客厅, "kit chin" = kitchen);
   a value of a hard group the query does not take part in blocks too ("打开客厅的灯" is not
   "打开灯").

Everything else is wording: it never blocks, and how much it differs is measured by the
features (features.py) that the confidence model weighs. A soft group's value that the
transcript does not say is counted (``Verdict.unconfirmed``) for the same model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from rapidfuzz.distance import Levenshtein

from normalizer.matching.lang import Language
from normalizer.matching.numbers import numbers_agree
from normalizer.matching.slots import (
    EMPTY,
    NARROWING_ROLES,
    Group,
    Heard,
    SlotIndex,
    Value,
)
from normalizer.matching.utterance import Utterance

__all__ = ["Verdict", "judge"]



# A small soft group (on/off, next/previous) whose own value the transcript does not say
# blocks when what it says in that place sounds clearly nearer another of its values:
# similarity at least 0.5 and 0.2 above the own value's ("of": off 0.50, on 0.19; "in" is
# nearer "on", 0.62, than "off", 0.11).
_NEARER_MAX_VALUES = 4
_NEARER_MIN_SIMILARITY = 0.5
_NEARER_MARGIN = 0.2


@dataclass(frozen=True)
class Verdict:
    allowed: bool                 # False = the rewrite would change the request
    reason: str                   # human-readable, names what blocked or what was heard
    unconfirmed: int = 0          # soft-group values of the query the transcript did not say
    by_sound: int = 0             # the query's values the transcript said only by sound
    confirmed: int = 0            # the query's slot values the transcript says (by sound too)


def judge(t: Utterance, heard: Sequence[Heard], row: Utterance, row_index: int, query: int,
          slots: SlotIndex, memo: dict[Any, Any] | None = None
          ) -> Verdict:
    """Would rewriting ``t`` (whose slot values are ``heard``, from ``slots.heard(t)``) to
    ``row`` (catalog row ``row_index``, a text of the query at position ``query``) change
    the request? ``memo`` (one per transcript) keeps the fuzzy sound searches, which every
    row of a query and every query of a slot group repeat."""
    language = t.language
    if not numbers_agree(t.numbers, row.numbers):
        spoken = ", ".join(map(str, t.numbers)) or "none"
        return Verdict(False, f"number differs: {spoken} vs "
                              f"{', '.join(map(str, row.numbers)) or 'none'}")
    if Counter(t.negations) != Counter(row.negations):
        return Verdict(False, f"negation differs: {'/'.join(t.negations) or 'none'} vs "
                              f"{'/'.join(row.negations) or 'none'}")
    own = slots.own.get(query, {})
    said = slots.said.get(query, set())
    heard_in: dict[int, list[Heard]] = {}
    for h in heard:
        for gid in slots.groups_of.get(h.value, ()):
            heard_in.setdefault(gid, []).append(h)
    aligned = _Alignment(t, row)
    cut_of = {gid: cut for cut, gid in slots.empty_cuts.get(row_index, ())}
    notes: list[str] = []
    unconfirmed = by_sound = confirmed = 0
    for gid in sorted(set(own) | set(heard_in)):
        group = slots.groups[gid]
        in_group = _outermost(heard_in.get(gid, []))
        mine = own.get(gid)
        if mine is None:
            # a hard value the query does not take part in: "call my sister" is not "answer
            # the call", "what time is it in tokyo" not "what time is it"
            foreign = [h for h in in_group if h.value in group.hard and h.value not in said
                       and len(h.value) >= language.min_foreign_tokens]
            # and an action the query never takes: 取消单曲循环 is not 单曲循环
            foreign += [h for h in in_group if group.name == "action" and h.value not in said]
            # and a room, person, device ... of the lexicon, said in words, that the query
            # names none of: "turn on the bedroom lights" is not "turn on the lights"
            if group.name in NARROWING_ROLES:
                foreign += [h for h in in_group if h.exact and h.value not in said
                            and len(h.value) >= language.min_foreign_tokens
                            and not language.implicit((h.value,))]
            if foreign:
                kind = "action differs" if group.name == "action" else "slot differs"
                return Verdict(False, f"{kind}: '{language.show(foreign[0].value)}' is not "
                                      f"in '{row.text}'")
            continue
        others = [h for h in in_group if h.value not in mine and h.value not in said]
        matched = [h for h in in_group if h.value in mine]
        hard = bool(mine & group.hard)
        # another value said blocks; in a soft group only when the query's own is not said
        # too ("what's it like out in chicago": out/in, and "in" is there) - but a second
        # action is another request whatever else is said: 取消收藏这首歌 is not 收藏这首歌
        # (users dev: 3 of the 5 clean zh-CN action slot changes the guard let through)
        if others and (hard or not matched or group.name == "action"):
            wanted = sorted(v for v in mine if v) or [EMPTY]
            kind = {"antonym": "antonym", "action": "action differs"}.get(group.name,
                                                                            "slot differs")
            return Verdict(False, f"{kind}: '{language.show(others[0].value)}' vs "
                                  f"'{language.show(wanted[0])}'")
        if matched:
            confirmed += 1
            if not any(h.exact for h in matched):
                by_sound += 1
                notes.append(f"'{language.show(matched[0].value)}' by sound")
            continue
        if EMPTY in mine:
            cut = cut_of.get(gid)
            extra = aligned.inserted_at(cut) if cut is not None else ()
            if len(extra) >= language.min_foreign_tokens:
                return Verdict(False, f"slot differs: '{language.show(extra)}' where "
                                      f"'{row.text}' names no {_group_name(group, language)}")
            continue
        place = _placed(row, mine)
        if place is not None and aligned.same(*place):
            by_sound += 1
            confirmed += 1
            notes.append(f"'{language.show(row.surfaces[place[0]:place[1]])}' by sound")
            continue
        found = _remembered(memo, ("found", mine), partial(_by_sound, t, mine, slots))
        if found is not None:
            by_sound += 1
            confirmed += 1
            notes.append(f"'{language.show(found)}' by sound")
            continue
        if hard:
            if t.language.implicit(mine):
                continue                 # "what's my schedule" asks for today's
            instead = aligned.replaced(*place) if place is not None else ()
            if instead and place is not None:
                return Verdict(False, f"slot differs: '{language.show(instead)}' vs "
                                      f"'{language.show(row.surfaces[place[0]:place[1]])}'")
            value = sorted(mine)[0]
            return Verdict(False, f"slot differs: '{language.show(value)}' not said")
        alike = _remembered(memo, ("alike", gid), partial(_alike, t, group, slots))
        nearer = _sounds_nearer(alike, mine)
        if nearer is not None:
            return Verdict(False, f"slot differs: '{language.show(nearer)}' sounds nearer than "
                                  f"'{language.show(sorted(mine)[0])}'")
        if group.name not in ("antonym", "action"):   # these only block when another is said
            unconfirmed += 1
    if unconfirmed:
        notes.append(f"{unconfirmed} soft slot(s) unconfirmed")
    return Verdict(True, "; ".join(notes) or "slots agree", unconfirmed, by_sound, confirmed)


def _remembered(memo: dict[Any, Any] | None, key: Any, compute: Callable[[], Any]) -> Any:
    """``compute()``, kept in ``memo`` under ``key`` when there is a memo."""
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _group_name(group: Group, language: Language) -> str:
    if group.name not in ("derived", "antonym"):
        return group.name
    shown = sorted(language.show(v) for v in group.catalog)
    return "/".join(shown[:3]) + ("/..." if len(shown) > 3 else "")


def _placed(row: Utterance, values: frozenset[Value]) -> tuple[int, int] | None:
    """Where the first of ``values`` stands in the row's tokens, or None."""
    surfaces = row.surfaces
    for value in sorted(values, key=len, reverse=True):
        n = len(value)
        for k in range(len(surfaces) - n + 1):
            if n and surfaces[k:k + n] == value:
                return k, k + n
    return None


class _Alignment:
    """The transcript's tokens aligned with the row's by folded sound key (Levenshtein
    opcodes): which row tokens the transcript says, and what it says in their place."""

    def __init__(self, t: Utterance, row: Utterance) -> None:
        self.t = t
        self.size = len(row.tokens)
        self.ops = Levenshtein.opcodes([x.key for x in t.tokens], [x.key for x in row.tokens])
        self.equal = [False] * self.size
        for op in self.ops:
            if op.tag == "equal":
                for j in range(op.dest_start, op.dest_end):
                    self.equal[j] = True

    def _framed(self, j0: int, j1: int) -> bool:
        """Whether the row tokens around [j0, j1) are said, so the span is in place."""
        left = j0 == 0 or self.equal[j0 - 1]
        right = j1 >= self.size or self.equal[j1]
        return left and right and (j0 > 0 or j1 < self.size)

    def same(self, j0: int, j1: int) -> bool:
        """The row tokens [j0, j1) are all said, by their sound."""
        return all(self.equal[j0:j1])

    def replaced(self, j0: int, j1: int) -> tuple[str, ...]:
        """What the transcript says in place of row tokens [j0, j1) when their neighbours
        are said (another value in the same frame), else ()."""
        if not self._framed(j0, j1):
            return ()
        out: list[str] = []
        for op in self.ops:
            if op.tag == "replace" and op.dest_start < j1 and op.dest_end > j0:
                out.extend(x.surface for x in self.t.tokens[op.src_start:op.src_end])
        return tuple(out)

    def inserted_at(self, cut: int) -> tuple[str, ...]:
        """What the transcript adds at the row's gap before token ``cut``, when the tokens
        around the gap are said."""
        if not ((cut == 0 or self.equal[cut - 1]) and (cut >= self.size or self.equal[cut])):
            return ()
        out: list[str] = []
        for op in self.ops:
            if op.tag == "delete" and op.dest_start == cut:
                out.extend(x.surface for x in self.t.tokens[op.src_start:op.src_end])
        return tuple(out)


def _outermost(heard: list[Heard]) -> list[Heard]:
    """Drop values heard inside a longer value of the same group (开 inside 打开)."""
    if len(heard) < 2:
        return heard
    return [h for h in heard if not any(
        o is not h and o.start <= h.start and h.end <= o.end and (o.end - o.start) >
        (h.end - h.start) for o in heard)]


def _alike(t: Utterance, group: Group, slots: SlotIndex) -> dict[Value, float]:
    """For each value of a small soft group, how alike the transcript's word nearest to it
    sounds; empty for a larger group. Word by word, so that it holds whatever the word
    order of the row the transcript is compared with."""
    values = [v for v in group.catalog if v and v in slots.sounds]
    if len(values) > _NEARER_MAX_VALUES:
        return {}
    language = t.language
    words = [language.sound([tok]) for tok in t.tokens]
    return {v: max((language.similarity(w, slots.sounds[v]) for w in words), default=0.0)
            for v in values}


def _sounds_nearer(alike: dict[Value, float], mine: frozenset[Value]) -> Value | None:
    """The value (of ``_alike``) a word of the transcript sounds clearly nearer to than any
    word does to the query's own, if there is one: "turn of the lights" has "of", nearer
    "off" than anything it says is to "on"."""
    if not alike:
        return None
    own = max((alike[v] for v in mine if v in alike), default=0.0)
    best = max(alike, key=lambda v: alike[v])
    if best in mine or alike[best] < _NEARER_MIN_SIMILARITY or alike[best] - own < _NEARER_MARGIN:
        return None
    return best


def _by_sound(t: Utterance, values: frozenset[Value], slots: SlotIndex) -> Value | None:
    """One of ``values`` found in the transcript by the language's fuzzy sound search."""
    language = t.language
    for value in sorted(values):
        if not value:
            continue
        sound = slots.sounds.get(value)
        if sound is None:
            continue
        found = language.find(sound, t.sound)
        if found is not None and language.same_value(found, sound):
            return value
    return None
